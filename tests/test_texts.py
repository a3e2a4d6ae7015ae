"""Provisioned printer texts are real GB18030 for the Chinese they stand for."""
import sys

sys.path.insert(0, "tests/portable")

from hallpc.texts import LABELS, printer_texts  # noqa: E402
from t_dispenser import TEXTS  # noqa: E402


def test_provisioned_texts_are_gb18030():
    doc = printer_texts("某某区政务服务中心", {"A": ("社保业务", ["身份证", "户口本"])})
    assert doc == TEXTS
    assert bytes.fromhex(doc["hall"]).decode("gb18030") == "某某区政务服务中心"
    assert bytes.fromhex(doc["ahead"]).decode("gb18030") == LABELS["ahead"]
    assert bytes.fromhex(doc["services"]["A"]["materials"][1]).decode("gb18030") == "户口本"


def test_device_calendar_matches_python_over_two_centuries():
    import datetime
    from firmware.clock import civil
    epoch = datetime.date(1970, 1, 1)
    for days in range(-25567, 47482, 7):                 # 1900 .. 2099, weekly
        d = epoch + datetime.timedelta(days=days)
        assert civil(days) == (d.year, d.month, d.day)
