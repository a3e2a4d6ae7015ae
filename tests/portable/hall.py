# A small hall for routing-core tests, the same on CPython and MicroPython.
from firmware.routing.config import HallConfig
from firmware.routing.core import RoutingCore

# 2026-11-23 00:00 in the hall's time zone (UTC+8), as UTC seconds.
MIDNIGHT = 1795392000 - 8 * 3600


def at(hhmm, seconds=0):
    # UTC seconds for a local time of day on the test date.
    return MIDNIGHT + (int(hhmm[:2]) * 60 + int(hhmm[3:])) * 60 + seconds


def config(**rules):
    doc = {
        "hall": "district-1",
        "services": [
            {"prefix": "A", "name": "社保", "open": "08:30", "last_ticket": "16:30", "close": "17:00",
             "quota": 300, "service_min": 5, "limit_min": 20, "max_wait_min": 30,
             "materials": ["身份证"]},
            {"prefix": "B", "name": "医保", "open": "08:30", "close": "17:00", "service_min": 10,
             "limit_min": 30, "max_wait_min": 40},
            {"prefix": "C", "name": "公积金", "open": "09:00", "close": "12:00", "quota": 3},
        ],
        "windows": [
            {"number": 1, "services": ["A", "B"], "evaluator": "eval-1", "backup": 2},
            {"number": 2, "services": [["B", 2], "A"], "evaluator": "eval-2"},
            {"number": 3, "services": ["C"], "evaluator": "eval-3"},
        ],
        "staff": {"S1": "张三", "S2": "李四", "S3": "王五"},
        "rules": rules,
    }
    return HallConfig(doc, "hall.toml")


def open_hall(now=None, windows=(1, 2, 3), **rules):
    # A core with the given windows open and staffed; outputs so far cleared.
    now = at("08:30") if now is None else now
    core = RoutingCore(config(**rules), now=now)
    for n in windows:
        core.window_open(now, n)
        core.login(now, n, "S%d" % n)
    core.out = []
    return core


def take(core, kind=None):
    # The outputs since the last take, optionally only one kind.
    out = [o for o in core.out if kind is None or o[0] == kind]
    core.out = []
    return out


def tickets(core, kind="issued"):
    return [core.ticket_name(o[1], o[2]) for o in take(core, kind)]
