# The readable message table: the single source for both carriers. schema.py turns it into a
# compact form at import and unloads this module, so its constants do not stay in a device's RAM.
# Each row: (type id, name, must-deliver, ((field name, field type), ...)).
# Appending a type is a compatible change; renumbering types or reordering fields is not.
from protocol.codes import POLL, STATUS_REQUEST, BUS_QUIET
from protocol.schema import U8, U16, U32, I8, I16, STR, U8S, STRS, BOOL

_REQ = ("req", U16)  # device-chosen request id: makes a command idempotent at the hub
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
    (POLL, "poll", False, (("first", U8), ("last", U8), ("resend", BOOL))),
    (STATUS_REQUEST, "status_request", False, ()),
    (BUS_QUIET, "bus_quiet", False, (("ms", U32),)),     # speak only when polled alone, for ms
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
