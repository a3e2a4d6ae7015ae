"""Texts prepared for devices at provisioning: GB18030 for ESC/POS printers (MicroPython has
no GB18030 codec), stored in the device's config.json as hex."""

LABELS = {"ahead": "前面等待人数", "wait": "预计等待", "minutes": "分钟", "time": "取号时间",
          "materials": "请准备以下材料:"}


def gb18030_hex(text):
    return text.encode("gb18030").hex()


def printer_texts(hall_name, services, labels=None):
    """hall_name: text; services: prefix -> (name, [materials]). Returns config "texts"."""
    doc = {"hall": gb18030_hex(hall_name), "services": {}}
    for key, text in {**LABELS, **(labels or {})}.items():
        doc[key] = gb18030_hex(text)
    for prefix, (name, materials) in services.items():
        doc["services"][prefix] = {"name": gb18030_hex(name),
                                   "materials": [gb18030_hex(m) for m in materials]}
    return doc
