"""LED glyphs prepared at provisioning from a real CJK font (Debian's fonts-wqy-zenhei), and
every text the caller's board can show composed from them with nothing missing."""
from firmware.drivers.ledboard import LedBoard, max7219_writes
from firmware.roles.caller import PHRASES, CallerRole
from hallpc.glyphs import prepare, render


def test_a_chinese_glyph_is_a_real_character():
    width, columns = render("请")
    lit = sum(bin(b).count("1") for b in columns)
    assert 12 <= width <= 16 and 30 < lit < 200            # a 16x16 character, not a blank box
    assert render("号")[1] != columns


def test_every_caller_text_composes_from_provisioned_glyphs():
    glyphs = prepare(PHRASES)
    board = LedBoard(glyphs, width=64)
    caller = CallerRole({"window": 3, "transfer_services": ["B", "C"]}, 0)
    texts = ["请A012号到3号窗口", "请A012号到3号窗口(重呼)", "3号窗口 停止服务", "暂停服务",
             "A012 正在办理", "3号窗口 等候12人", "确认过号?", "确认转移?", "确认暂停?",
             "转至: 1=B 2=C", "连接中断", "无人等候", "已过号"]
    for text in texts:
        board.show(text)
        assert board.missing == 0, text
        frame = board.frame()
        assert len(frame) == 64 * 2 and any(frame)
        assert len(max7219_writes(frame, 64, 16)) == 8
    board.show("请A012号到3号窗口(重呼)")
    assert board.scrolls()                                   # too long for 64 columns: scrolls
    caller.message({"type": "window_state", "window": 3, "state": 1, "phase": 1,
                    "ticket": "A012", "recalls": 0, "waiting": 4, "staff": "S1"}, 0)
    assert caller.out[0][1] in texts


def test_every_evaluator_screen_composes_with_staff_names_prepared():
    from firmware.drivers.textscreen import TextScreen
    from firmware.roles.evaluator import PHRASES as EVALUATOR, EvaluatorRole
    staff_names = "张三李四"
    glyphs = prepare(list(EVALUATOR) + list(staff_names))
    screen = TextScreen(glyphs, 128, 64)
    role = EvaluatorRole({"window": 3}, 0)
    role.message({"type": "rating_request", "window": 3, "ticket": "A012", "staff": "S001",
                  "staff_name": "张三", "levels": 5, "timeout_s": 30}, 0)
    role.key(3, 10)
    role.key(0, 20)
    screens = [a[1] for a in role.out if a[0] == "screen"]
    assert len(screens) == 3
    for lines in screens:
        screen.show(lines, 0)
        assert screen.missing() == 0, lines
        assert any(screen.tick(0))
