# LED board composition, scrolling and MAX7219 output, with a tiny hand-made glyph set.
from firmware.drivers.ledboard import LedBoard, max7219_writes, max7219_init

# "A": 2 columns; "号": 3 columns, one pixel each at a known place (16 rows, top = high bit).
GLYPHS = {"A": "8000" + "0001", "号": "4000" + "0000" + "0100", "号到": "ffff"}


def test_longest_token_wins_and_unknown_characters_show_a_box():
    b = LedBoard(GLYPHS, width=16)
    assert bytes(b.compose("号到")) == bytes.fromhex("ffff")
    assert bytes(b.compose("A号")) == bytes.fromhex("80000001" + "400000000100")
    assert b.missing == 0
    b.compose("Z")
    assert b.missing == 1


def test_short_text_is_centred_and_long_text_scrolls():
    b = LedBoard(GLYPHS, width=8)
    b.show("A")
    frame = b.frame()
    assert len(frame) == 16 and frame[6:10] == bytes.fromhex("80000001")
    assert not b.scrolls()
    b.show("AAAAA")                                   # 10 columns on an 8-column board
    assert b.scrolls()
    first = b.frame()
    b.step()
    assert b.frame() == first[2:] + b.frame()[-2:]    # one column further


def test_max7219_bit_mapping():
    # A 16x16 panel (2x2 modules): light column 9, row 10 -> module 3 (band 1, right), reg 3.
    frame = bytearray(32)
    value = 1 << (15 - 10)
    frame[9 * 2] = value >> 8
    frame[9 * 2 + 1] = value & 0xFF
    writes = max7219_writes(frame, 16, 16)
    assert len(writes) == 8 and all(len(w) == 8 for w in writes)
    reg3 = writes[2]
    assert reg3[0] == 3 and reg3[1] == 0x40           # the last module in the chain comes first
    assert reg3[3:] == bytes((0, 3, 0, 3, 0))
    for k in range(8):                                # nothing else lit (data bytes are odd)
        for i in range(1, 8, 2):
            assert writes[k][i] == (0x40 if (k, i) == (2, 1) else 0)


def test_a_call_blinks_for_its_seconds_then_stays_lit():
    b = LedBoard(GLYPHS, width=8)
    b.show("A", blink_s=2, now=1000)
    lit = b.tick(1000)
    assert any(lit)
    assert b.tick(1100) is None                       # nothing changed
    assert not any(b.tick(1500))                      # the dark half of the blink
    assert b.tick(2000) == lit
    b.tick(2500)
    assert b.tick(3000) == lit and b.tick(3600) is None   # after 2 s it stays lit


def test_long_text_scrolls_on_its_own_clock():
    b = LedBoard(GLYPHS, width=4)
    b.show("AAAA", now=0)
    first = b.tick(0)
    assert b.tick(LedBoard.SCROLL_MS - 1) is None
    assert b.tick(LedBoard.SCROLL_MS) != first


def test_max7219_wake_up_sequence_for_a_chain():
    writes = max7219_init(16, intensity=3)
    assert writes[0] == bytes((0x0C, 1)) * 16 and writes[3] == bytes((0x0A, 3)) * 16
    assert len(writes) == 5


def test_text_screen_lays_lines_out_as_ssd1306_pages():
    from firmware.drivers.textscreen import TextScreen
    s = TextScreen(GLYPHS, width=16, height=32)         # two 16-pixel lines
    s.show(["A", "号到"], now=0)
    pages = s.tick(0)
    assert len(pages) == 16 * 4 and s.missing() == 0
    # line 0, "A" centred at column 7: 0x8000 = top row -> page 0 bit 0; 0x0001 = row 15 -> page 1 bit 7
    assert pages[7] == 0x01 and pages[16 + 8] == 0x80
    # line 1, "号到" = one all-lit column at column 7: pages 2 and 3 full
    assert pages[2 * 16 + 7] == 0xFF and pages[3 * 16 + 7] == 0xFF
    assert s.tick(10) is None                            # nothing changed
    s.show(["AAAAAAAAAA"], now=100)                      # 20 columns on a 16-column screen
    first = s.tick(100)
    assert s.tick(100 + TextScreen.SCROLL_MS) != first   # it scrolls


def test_a_multi_line_board_of_modules_gets_each_line_in_its_bands():
    from firmware.drivers.textscreen import TextScreen
    s = TextScreen(GLYPHS, width=16, height=32)
    s.show(["A", "号到"], now=0)
    frame = s.columns()
    assert len(frame) == 16 * 4
    assert frame[7 * 4:7 * 4 + 4] == bytes((0x80, 0x00, 0xFF, 0xFF))   # line 0 top row; line 1 full
    writes = max7219_writes(frame, 16, 32)             # 2 x 4 modules in one chain
    reg1 = writes[0]                                    # register 1 = the top row of each band
    # module 0 (band 0, left) is last in the transfer: column 7 lit -> bit 0x01
    assert reg1[-2:] == bytes((1, 0x01))
