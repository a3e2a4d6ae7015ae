"""Text from outside shown on an operator's terminal: devices and the broker choose it, so
every control or formatting character is shown escaped, never sent to the terminal (a
device must not clear an operator's screen, retitle it, move the cursor or reorder text)."""
import unicodedata


def printable(value):
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif unicodedata.category(ch) == "Zs":
            out.append(" ")
        else:
            n = ord(ch)
            out.append("\\x%02x" % n if n < 0x100 else "\\u%04x" % n if n < 0x10000
                       else "\\U%08x" % n)
    return "".join(out)
