"""Texts prepared for devices at provisioning: GB18030 for ESC/POS printers (MicroPython has
no GB18030 codec), stored in the device's config.json as hex."""

LABELS = {"ahead": "前面等待人数", "wait": "预计等待", "minutes": "分钟", "time": "取号时间",
          "materials": "请准备以下材料:"}


class TextError(ValueError):
    """A text the dispenser's printer cannot print."""


def gb18030_hex(text):
    return text.encode("gb18030").hex()


def beyond_gbk(text):
    """The characters of text that GB18030 encodes in four bytes: a GBK-only printer's font
    (most Xprinter and GPrinter models) prints them as garbage."""
    out = []
    for ch in text:
        try:
            ch.encode("gbk")
        except UnicodeEncodeError:
            if ch not in out:
                out.append(ch)
    return out


def printer_texts(hall_name, services, labels=None, font="gb18030"):
    """hall_name: text; services: prefix -> (name, [materials]). Returns config "texts".
    font "gbk": refuse (TextError naming the text) a character a GBK printer cannot print."""
    named = [("name", hall_name)] + [("labels." + k, v) for k, v in {**LABELS, **(labels or {})}.items()]
    for prefix, (name, materials) in services.items():
        named.append(("services[%s].name" % prefix, name))
        named += [("services[%s].materials[%d]" % (prefix, k), m) for k, m in enumerate(materials)]
    if font == "gbk":
        found = []
        for where, text in named:
            bad = beyond_gbk(text)
            if bad:
                found.append("%s: %s (%s)" % (where, " ".join(bad),
                                               ", ".join("U+%04X" % ord(c) for c in bad)))
        if found:
            raise TextError("%s: a GBK printer cannot print these; use other characters, or set "
                            "the board's uarts.printer.font to gb18030 for a printer with the "
                            "whole GB18030 font" % "; ".join(found))
    doc = {"hall": gb18030_hex(hall_name), "services": {}}
    for key, text in {**LABELS, **(labels or {})}.items():
        doc[key] = gb18030_hex(text)
    for prefix, (name, materials) in services.items():
        doc["services"][prefix] = {"name": gb18030_hex(name),
                                   "materials": [gb18030_hex(m) for m in materials]}
    return doc
