# The message schema: the single table that both carriers (serial frames, MQTT JSON) derive from.
# Each row: (type id, name, must-deliver, ((field name, field type), ...)).
# Adding a type or appending it here is a compatible change; renumbering or reordering fields is not.
from protocol.compat import const

# Field types. Integers are big-endian on the wire. STR is a u8 byte length then UTF-8.
U8 = const(1)
U16 = const(2)
U32 = const(3)
I8 = const(4)
I16 = const(5)
STR = const(6)    # u8 length + UTF-8 bytes (at most 255 bytes)
U8S = const(7)    # u8 count + that many u8 values
STRS = const(8)   # u8 count + that many STR
BOOL = const(9)   # one byte, 0 or 1

TYPE_NAMES = {U8: "u8", U16: "u16", U32: "u32", I8: "i8", I16: "i16",
              STR: "str", U8S: "u8[]", STRS: "str[]", BOOL: "bool"}

# Addresses on the serial bus.
HUB = const(0x00)
UNASSIGNED = const(0xFE)
BROADCAST = const(0xFF)

_REQ = ("req", U16)       # device-chosen request id: makes a command idempotent at the hub
_WIN = ("window", U8)

MESSAGES = (
    # link and device management
    (0x01, "ack", False, (("seq", U8),)),
    (0x02, "nak", False, (("seq", U8), ("code", U8))),
    (0x03, "heartbeat", False, (("uptime", U32),)),
    (0x04, "status", False, (("role", U8), ("fw", STR), ("uptime", U32), ("reset_cause", U8),
                             ("free_heap", U32), ("rx_errors", U16), ("retries", U16),
                             ("give_ups", U16), ("rssi", I8), ("printer", U8))),
    (0x05, "time_sync", False, (("utc", U32), ("tz_min", I16))),
    (0x06, "config_push", True, (("key", STR), ("value", STR))),
    (0x07, "poll", False, ()),
    # tickets
    (0x10, "ticket_request", True, (_REQ, ("service", STR), ("kind", U8), ("booking", STR))),
    (0x11, "ticket_issued", True, (_REQ, ("ticket", STR), ("service", STR), ("kind", U8),
                                   ("ahead", U16), ("wait_min", U16), ("wait_max", U16),
                                   ("issued", U32))),
    (0x12, "ticket_refused", True, (_REQ, ("service", STR), ("reason", U8))),
    (0x13, "print_result", True, (("ticket", STR), ("result", U8))),
    # window and staff commands, from a caller's keypad to the hub
    (0x20, "call_next", True, (_REQ, _WIN)),
    (0x21, "call_ticket", True, (_REQ, _WIN, ("ticket", STR))),
    (0x22, "recall", True, (_REQ, _WIN)),
    (0x23, "start", True, (_REQ, _WIN)),
    (0x24, "finish", True, (_REQ, _WIN)),
    (0x25, "no_show", True, (_REQ, _WIN)),
    (0x26, "hold", True, (_REQ, _WIN)),
    (0x27, "call_back", True, (_REQ, _WIN, ("ticket", STR))),
    (0x28, "transfer", True, (_REQ, _WIN, ("ticket", STR), ("service", STR), ("to_window", U8))),
    (0x29, "pause", True, (_REQ, _WIN, ("reason", U8))),
    (0x2A, "resume", True, (_REQ, _WIN)),
    (0x2B, "window_open", True, (_REQ, _WIN)),
    (0x2C, "window_close", True, (_REQ, _WIN)),
    (0x2D, "staff_login", True, (_REQ, _WIN, ("staff", STR))),
    (0x2E, "staff_logout", True, (_REQ, _WIN)),
    # from the hub to callers, window boards and the hall display
    (0x30, "command_result", True, (_REQ, _WIN, ("result", U8))),
    (0x31, "window_state", True, (_WIN, ("state", U8), ("phase", U8), ("ticket", STR),
                                  ("recalls", U8), ("waiting", U16), ("staff", STR))),
    (0x32, "display_update", True, (_WIN, ("ticket", STR), ("text", STR), ("voice", U8),
                                    ("blink", U8))),
    (0x33, "queue_status", False, (("service", STR), ("waiting", U16), ("open", U8))),
    # ratings (政务服务好差评)
    (0x40, "rating_request", True, (_WIN, ("ticket", STR), ("staff", STR), ("staff_name", STR),
                                    ("levels", U8), ("timeout_s", U16))),
    (0x41, "rating", True, (_WIN, ("ticket", STR), ("level", U8), ("reasons", U8S))),
    (0x42, "rating_timeout", True, (_WIN, ("ticket", STR))),
    (0x43, "rating_result", True, (_WIN, ("ticket", STR), ("result", U8))),
    # alerts
    (0x50, "alert", True, (("kind", U8), _WIN, ("service", STR), ("ticket", STR), ("value", U16))),
    (0x51, "materials", False, (("service", STR), ("items", STRS))),
    (0x52, "notice", False, (("text", STR), ("on", BOOL))),
)

BY_ID = {}
BY_NAME = {}
for _row in MESSAGES:
    BY_ID[_row[0]] = _row
    BY_NAME[_row[1]] = _row
del _row

# Code tables carried in U8 fields (SPEC.md lists them with their meaning).
NAK_UNKNOWN_TYPE = const(1)
NAK_BAD_PAYLOAD = const(2)
NAK_BUSY = const(3)
NAK_NEWER_VERSION = const(4)

KIND_ORDINARY = const(0)
KIND_PRIORITY = const(1)
KIND_APPOINTMENT = const(2)

ROLES = ("hub", "dispenser", "caller", "evaluator", "display")

RESET_CAUSES = ("unknown", "power_on", "hard", "watchdog", "deep_sleep", "soft", "brownout", "crash")

PRINTER_STATES = ("none", "ok", "paper_low", "paper_out", "fault")

REFUSE_REASONS = ("", "service_closed", "quota_reached", "after_last_ticket", "unknown_service",
                  "booking_unknown", "too_early", "too_late", "printer_unavailable")

PRINT_RESULTS = ("ok", "paper_out", "fault", "timeout")

COMMAND_RESULTS = ("ok", "nobody_waiting", "wrong_state", "not_logged_in", "unknown_ticket",
                   "recall_limit", "unknown_window", "unknown_service", "refused")

WINDOW_STATES = ("closed", "open", "paused")

PHASES = ("idle", "called", "serving", "held")

VOICE_CUES = ("none", "call", "recall")

RATING_RESULTS = ("recorded", "wrong_window", "expired", "already_rated", "unknown_ticket",
                  "reason_required", "bad_level")

ALERT_KINDS = ("", "wait_too_long", "over_time_limit", "window_idle", "open_window",
               "printer", "device_offline", "early_close")


def lookup(name_or_id):
    # The schema row for a message name or type id; None when the schema has no such message.
    if isinstance(name_or_id, int):
        return BY_ID.get(name_or_id)
    return BY_NAME.get(name_or_id)
