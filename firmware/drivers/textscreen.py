# A small screen of text lines (the evaluator's SSD1306, 128x64: four 16-pixel lines), sans-IO:
# lines become glyph columns (provisioned, see ledboard.py), each line scrolls on its own when
# it is wider than the screen, and the frame is laid out as SSD1306 pages (8 rows a byte,
# top row in bit 0) ready to send.
from protocol.ticks import ticks_diff

from firmware.drivers.ledboard import LedBoard


class TextScreen:
    SCROLL_MS = 80

    def __init__(self, glyphs, width=128, height=64, line_height=16):
        self.width = width
        self.height = height
        self.lines = []                      # one LedBoard per line (shares the glyph table)
        first = LedBoard(glyphs, width, line_height)
        for k in range(height // line_height):
            board = first if k == 0 else LedBoard({}, width, line_height)
            board.glyphs, board.tokens = first.glyphs, first.tokens
            self.lines.append(board)
        self.dirty = False
        self.last_step = 0

    def show(self, texts, now=0):
        for k in range(len(self.lines)):
            self.lines[k].show(texts[k] if k < len(texts) else "", 0, now)
        self.dirty = True
        self.last_step = now

    def missing(self):
        return sum(line.missing for line in self.lines)

    def tick(self, now):
        # The SSD1306 page buffer if anything changed, else None.
        if ticks_diff(now, self.last_step) >= self.SCROLL_MS:
            self.last_step = now
            for line in self.lines:
                if line.scrolls():
                    line.step()
                    self.dirty = True
        if not self.dirty:
            return None
        self.dirty = False
        return self.pages()

    def columns(self):
        # The whole screen column-major (height/8 bytes a column, top row in the high bit),
        # as max7219_writes() takes it for a big board of modules.
        per = self.height // 8
        out = bytearray(self.width * per)
        frames = [line.frame() for line in self.lines]
        for x in range(self.width):
            for k in range(len(frames)):
                out[x * per + 2 * k] = frames[k][2 * x]
                out[x * per + 2 * k + 1] = frames[k][2 * x + 1]
        return out

    def pages(self):
        # width x (height/8) bytes: page p, column x holds rows 8p..8p+7, top row in bit 0.
        out = bytearray(self.width * (self.height // 8))
        for k in range(len(self.lines)):
            frame = self.lines[k].frame()            # column-major, 2 bytes a column, MSB top
            top_page = k * 2
            for x in range(self.width):
                column = (frame[2 * x] << 8) | frame[2 * x + 1]
                upper = 0
                lower = 0
                for bit in range(8):
                    if column & (0x8000 >> bit):
                        upper |= 1 << bit
                    if column & (0x80 >> bit):
                        lower |= 1 << bit
                out[top_page * self.width + x] = upper
                out[(top_page + 1) * self.width + x] = lower
        return out


# SSD1306 over I2C: each command is sent after a 0x00 control byte, display data after 0x40.
SSD1306_INIT = bytes((0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00, 0x40, 0x8D, 0x14, 0x20, 0x00,
                      0xA1, 0xC8, 0xDA, 0x12, 0x81, 0xCF, 0xD9, 0xF1, 0xDB, 0x40, 0xA4, 0xA6,
                      0xAF))
# Horizontal addressing over the whole screen: columns 0..127, pages 0..7.
SSD1306_WINDOW = bytes((0x21, 0x00, 0x7F, 0x22, 0x00, 0x07))
