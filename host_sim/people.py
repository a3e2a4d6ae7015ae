"""The hall's people as the simulators drive them: what staff read on their caller board and
which key they press for what they mean, through the caller's own key map (a hall that
renames its keys is driven the same way), and the citizen's rating at the evaluator."""
import re

from firmware.roles.caller import KEYMAP

CALL = re.compile(r"^请([A-Z]{1,2}\d+)号到(\d+)号窗口(\(重呼\))?$")
WAITING = re.compile(r"等候(\d+)人")
SERVING = "正在办理"
NOBODY = "无人等候"


def read_call(text):
    """(ticket, window, recall) when the board shows a call, else None."""
    call = CALL.match(text)
    if call is None:
        return None
    return call.group(1), int(call.group(2)), bool(call.group(3))


def serving(text):
    """The ticket the board shows in service, or None."""
    return text.split()[0] if text.endswith(SERVING) else None


def waiting(text):
    """People waiting as the idle board shows it (0 for nobody), or None."""
    if text == NOBODY:
        return 0
    found = WAITING.search(text)
    return int(found.group(1)) if found else None


def keys(config):
    """action -> key number on this caller (its config's "keymap", or the default)."""
    keymap = config.get("keymap", KEYMAP)
    return {action: int(key) for key, action in keymap.items()}


def rating(rng, weights, reason_from):
    """(level, reason or None) a citizen gives: a reason from the level the hall asks one."""
    level = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
    return level, (rng.randrange(5) if level >= reason_from else None)
