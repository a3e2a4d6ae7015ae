# LED board text, sans-IO: a board text ("请A012号到3号窗口") becomes columns of pixels from the
# glyphs prepared at provisioning (the fixed phrases and ASCII, column-major, 2 bytes a column
# for a 16-row board), shown still when it fits and scrolled when it does not; and the frames
# become MAX7219 register writes for a panel of chained 8x8 modules.
import binascii

from protocol.ticks import ticks_add, ticks_diff


class LedBoard:
    SCROLL_MS = 60              # one column every this many ms

    def __init__(self, glyphs, width, height=16):
        # glyphs: config "glyphs", token -> hex columns
        self.glyphs = {}
        for token in glyphs:
            self.glyphs[token] = binascii.unhexlify(glyphs[token])
        self.tokens = sorted(self.glyphs, key=len, reverse=True)   # longest match first
        self.width = width
        self.height = height
        self.rows_bytes = height // 8
        self.columns = bytearray()
        self.offset = 0
        self.missing = 0            # characters with no glyph (shown as a box)
        self.blink_until = None
        self.blink_from = 0
        self.last_step = 0
        self.dirty = False

    def compose(self, text):
        # The columns for text: the longest provisioned token at each place.
        out = bytearray()
        i = 0
        while i < len(text):
            for token in self.tokens:
                if text.startswith(token, i):
                    out += self.glyphs[token]
                    i += len(token)
                    break
            else:
                self.missing += 1
                out += self._box()
                i += 1
        return out

    def _box(self):
        full = (1 << self.height) - 1
        edge = (1 << (self.height - 1)) | 1
        cols = [full, edge, edge, edge, full, 0]
        out = bytearray()
        for c in cols:
            out += c.to_bytes(self.rows_bytes, "big")
        return out

    BLINK_MS = 500              # on and off halves of a blink

    def show(self, text, blink_s=0, now=0):
        # A new text; blink_s > 0 flashes it that many seconds (a call), then it stays lit.
        self.columns = self.compose(text)
        self.offset = 0
        self.blink_until = ticks_add(now, blink_s * 1000) if blink_s else None
        self.blink_from = now
        self.last_step = now
        self.dirty = True

    def tick(self, now):
        # The frame to show if it changed (a scroll step, a blink), else None.
        blank = False
        if self.blink_until is not None:
            if ticks_diff(now, self.blink_until) >= 0:
                self.blink_until = None
                self.dirty = True
            else:
                phase = (ticks_diff(now, self.blink_from) // self.BLINK_MS) & 1
                blank = phase == 1
                if blank != getattr(self, "_blank", False):
                    self.dirty = True
        if self.scrolls() and ticks_diff(now, self.last_step) >= self.SCROLL_MS:
            self.step()
            self.last_step = now
            self.dirty = True
        if not self.dirty:
            return None
        self.dirty = False
        self._blank = blank
        return bytes(self.width * self.rows_bytes) if blank else self.frame()

    def frame(self):
        # The current `width` columns: centred when the text fits, else the scroll window.
        n = len(self.columns) // self.rows_bytes
        rb = self.rows_bytes
        if n <= self.width:
            pad = (self.width - n) // 2
            return bytes(pad * rb) + bytes(self.columns) + bytes((self.width - n - pad) * rb)
        loop = self.columns + bytes(8 * rb)            # a gap before the text comes round again
        total = len(loop) // rb
        start = self.offset % total
        window = loop[start * rb:] + loop[:start * rb]
        return bytes(window[:self.width * rb])

    def scrolls(self):
        return len(self.columns) // self.rows_bytes > self.width

    def step(self):
        self.offset += 1


def max7219_writes(frame, width, height=16):
    # SPI transfers for a panel of MAX7219 8x8 modules in one chain: band 0 (the top 8 rows)
    # left to right, then band 1, and so on. Register r (1..8) of a module holds row r-1 of
    # its 8x8 square, leftmost column in the high bit. One transfer per register: a
    # (register, data) pair for every module, the last module in the chain first.
    rb = height // 8
    across = width // 8
    writes = []
    for reg in range(8):
        out = bytearray()
        for module in range(across * rb - 1, -1, -1):
            band, col0 = module // across, (module % across) * 8
            byte = 0
            for c in range(8):                          # band b is byte b of each column
                if frame[(col0 + c) * rb + band] & (0x80 >> reg):
                    byte |= 0x80 >> c
            out.append(reg + 1)
            out.append(byte)
        writes.append(bytes(out))
    return writes


def max7219_init(modules, intensity=8):
    # Transfers that wake a chain of MAX7219s: no BCD decode, full scan, brightness, no test.
    writes = []
    for reg, value in ((0x0C, 1), (0x09, 0), (0x0B, 7), (0x0A, intensity & 0x0F), (0x0F, 0)):
        writes.append(bytes((reg, value)) * modules)
    return writes
