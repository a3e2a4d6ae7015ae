"""LED-board glyphs prepared at provisioning: every fixed phrase a role shows, and the ASCII a
ticket number needs, rendered from a CJK font into column-major bitmaps (2 bytes a column for
16 rows, top row in the high bit) and stored in the device's config as hex. The device then
only concatenates columns (firmware/drivers/ledboard.py)."""
import dataclasses
from pathlib import Path

FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
ASCII = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ()?:=-"


class GlyphError(Exception):
    pass


def find_font():
    for path in FONT_PATHS:
        if Path(path).exists():
            return path
    raise GlyphError("no CJK font found (install Debian's fonts-wqy-zenhei)")


def render(text, font_path=None, height=16):
    """(width, column-major bytes) of text drawn `height` pixels tall."""
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.truetype(font_path or find_font(), height - 2)
    left, top, right, bottom = font.getbbox("请号窗口A0(")
    width = max(1, int(round(font.getlength(text))))
    image = Image.new("1", (width, height))
    ImageDraw.Draw(image).text((0, (height - (bottom - top)) // 2 - top), text, font=font, fill=1)
    pixels = image.load()
    out = bytearray()
    for x in range(width):
        column = 0
        for y in range(height):
            if pixels[x, y]:
                column |= 1 << (height - 1 - y)
        out += column.to_bytes(height // 8, "big")
    return width, bytes(out)


def prepare(phrases, font_path=None, height=16):
    """config "glyphs": token -> hex of its columns, for every phrase and the ASCII set."""
    glyphs = {}
    for token in list(phrases) + list(ASCII):
        glyphs[token] = render(token, font_path, height)[1].hex()
    return glyphs


def use_cjk_font(matplotlib):
    """Plots whose labels carry Chinese (满意率, service names) use the font glyphs come from."""
    from matplotlib import font_manager
    for path in FONT_PATHS:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
            # WenQuanYi Zen Hei's one face declares weight 500: it is the regular face, and
            # matplotlib warns on every plot that it found no "normal" weight unless told so
            font_manager.fontManager.ttflist = [
                dataclasses.replace(f, weight=400) if f.fname == path and f.weight == 500 else f
                for f in font_manager.fontManager.ttflist]
            matplotlib.rcParams["font.family"] = [name, "DejaVu Sans"]
            return
