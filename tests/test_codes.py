"""Every code is defined once (protocol/codes.py) and named once (protocol/codenames.py): the two
agree, nothing else redefines a code, and the rules devices follow come from the hall's file."""
import json
import re
from pathlib import Path

from firmware.roles.evaluator import EvaluatorRole
from firmware.roles.hub import HubRole
from firmware.routing.config import HallConfig
from firmware.routing.core import RoutingCore
from firmware.routing.journal import MemoryStorage
from hallctl.provision import make
from protocol import codenames, codes

ROOT = Path(__file__).resolve().parents[1]
HALL = ROOT / "tools" / "hallctl" / "hall.example.json"

GROUPS = {   # names tuple -> the constants' prefix or list, in code order
    "COMMAND_RESULTS": ["OK", "NOBODY_WAITING", "WRONG_STATE", "NOT_LOGGED_IN", "UNKNOWN_TICKET",
                        "RECALL_LIMIT", "UNKNOWN_WINDOW", "UNKNOWN_SERVICE", "REFUSED",
                        "NOT_JOURNALLED"],
    "REFUSE_REASONS": [None, "SERVICE_CLOSED", "QUOTA_REACHED", "AFTER_LAST_TICKET",
                       "SERVICE_UNKNOWN", "BOOKING_UNKNOWN", "TOO_EARLY", "TOO_LATE",
                       "PRINTER_UNAVAILABLE", "HUB_STORAGE", "RATE_LIMITED"],
    "WINDOW_STATES": ["CLOSED", "OPEN", "PAUSED"],
    "PHASES": ["IDLE", "CALLED", "SERVING", "HELD"],
    "RATING_RESULTS": ["RECORDED", "WRONG_WINDOW", "EXPIRED", "ALREADY_RATED", "NO_SUCH_TICKET",
                       "REASON_REQUIRED", "BAD_LEVEL", "RATING_NOT_JOURNALLED"],
    "ALERT_KINDS": [None, "WAIT_TOO_LONG", "OVER_TIME_LIMIT", "WINDOW_IDLE", "OPEN_WINDOW",
                    "PRINTER", "DEVICE_OFFLINE", "EARLY_CLOSE", "JOURNAL_DAMAGED",
                    "JOURNAL_FAILED", "MISBEHAVING", "BUS_OUT_OF_TURN"],
    "TICKET_KINDS": ["ORDINARY", "PRIORITY", "APPOINTMENT"],
    "ROLES": ["ROLE_HUB", "ROLE_DISPENSER", "ROLE_CALLER", "ROLE_EVALUATOR", "ROLE_DISPLAY"],
    "PRINTER_STATES": ["PRINTER_NONE", "PRINTER_OK", "PRINTER_PAPER_LOW", "PRINTER_PAPER_OUT",
                       "PRINTER_FAULT"],
    "PRINT_RESULTS": ["PRINTED", "PRINT_PAPER_OUT", "PRINT_FAULT", "PRINT_TIMEOUT"],
    "NAK_CODES": [None, "NAK_UNKNOWN_TYPE", "NAK_BAD_PAYLOAD", "NAK_BUSY", "NAK_NEWER_VERSION"],
    "VOICE_CUES": ["VOICE_NONE", "VOICE_CALL", "VOICE_RECALL"],
}


def test_every_name_is_the_code_it_names():
    for group, constants in GROUPS.items():
        names = getattr(codenames, group)
        assert len(names) == len(constants), group
        for code, constant in enumerate(constants):
            if constant is not None:
                assert getattr(codes, constant) == code, (group, constant, names[code])


def test_no_module_defines_a_code_again():
    # A module-level NAME = number for any code's name, outside protocol/codes.py, is a second
    # definition (the kind that let the evaluator's reason rule drift from the hub's).
    defined = {name for name in vars(codes) if name.isupper()}
    pattern = re.compile(r"^([A-Z_]+) = (?:const\()?(?:0x[0-9A-Fa-f]+|\d+)\b", re.M)
    found = []
    for path in list((ROOT / "firmware").rglob("*.py")) + list((ROOT / "protocol").rglob("*.py")) \
            + list((ROOT / "host_sim").rglob("*.py")) + list((ROOT / "tools").rglob("*.py")):
        if path.name == "codes.py":
            continue
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            if name in defined:
                found.append("%s: %s" % (path.relative_to(ROOT), name))
    assert not found


def _rate(reason_required_from, level, reasons):
    # The hall's rule set in its file, the evaluator provisioned from it, one rating through the
    # hub role and the routing core: what the citizen's press comes to.
    doc = json.loads(HALL.read_text(encoding="utf-8"))
    doc["routing"]["rules"]["reason_required_from"] = reason_required_from
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        hall_path = Path(tmp) / "hall.json"
        hall_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        config, _ = make(hall_path, "eval-1")
    hall = HallConfig(doc["routing"])
    t = 1795392000 + 9 * 3600 - hall.tz_offset_s     # 09:00 local
    core = RoutingCore(hall, MemoryStorage(), t)
    hub = HubRole(core, [dict(config, bus_address=49)])
    core.window_open(t, 1)
    core.login(t, 1, "S001")
    core.issue(t, "A", 0)
    core.call_next(t, 1)
    core.start(t, 1)
    core.out = []
    core.finish(t + 60, 1)
    hub._relay(t + 60)
    request = [a[2] for a in hub.out if a[0] == "send" and a[2]["type"] == "rating_request"][0]
    role = EvaluatorRole(config, 0)
    role.message(request, 0)
    role.key(level - 1, 0)
    if role.level:                                  # it asks for a reason: the citizen gives one
        role.key(reasons - 1, 0)
    rating = [a[1] for a in role.out if a[0] == "send"][0]
    hub.out = []
    hub.message(rating, t + 70, 49)
    return [a[2]["result"] for a in hub.out if a[0] == "send" and a[2]["type"] == "rating_result"]


def test_the_evaluator_asks_for_a_reason_from_the_halls_own_level():
    # A hall that wants a reason from 基本满意 (3) gets its level-3 ratings recorded: the
    # evaluator asks for the reason (the old evaluator asked only from 4, and the hub refused).
    assert _rate(3, 3, 2) == [codes.RECORDED]
    assert _rate(4, 3, 2) == [codes.RECORDED]
    assert _rate(5, 4, 2) == [codes.RECORDED]
