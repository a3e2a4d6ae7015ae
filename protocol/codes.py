# Every code carried in a u8 field or passed between the hub's parts, defined once. Devices,
# the routing core and host tools import these; protocol/codenames.py names them (index =
# code) for host tools and SPEC.md, and tests/test_codes.py checks that the two agree.
from protocol.compat import const

# Message type ids the link layer handles itself (the table in protocol/messages.py uses them)
POLL = const(0x07)              # the bus master grants a turn: (first, last, resend)
STATUS_REQUEST = const(0x08)    # report status at the next turn (hallctl status)
BUS_QUIET = const(0x09)         # speak only when polled alone, for ms

FLAG_ACK_REQ = const(0x01)      # frame flags: must-deliver, the receiver answers ack or nak
NONE = const(0xFF)              # no window / no service in an alert; the broadcast address

# Device roles (status.role)
ROLE_HUB = const(0)
ROLE_DISPENSER = const(1)
ROLE_CALLER = const(2)
ROLE_EVALUATOR = const(3)
ROLE_DISPLAY = const(4)

# Ticket classes (kind); transfer is internal to the routing core
ORDINARY = const(0)
PRIORITY = const(1)
APPOINTMENT = const(2)

# command_result.result
OK = const(0)
NOBODY_WAITING = const(1)
WRONG_STATE = const(2)
NOT_LOGGED_IN = const(3)
UNKNOWN_TICKET = const(4)
RECALL_LIMIT = const(5)
UNKNOWN_WINDOW = const(6)
UNKNOWN_SERVICE = const(7)
REFUSED = const(8)
NOT_JOURNALLED = const(9)       # the hub could not write its journal: nothing was done

# ticket_refused.reason
SERVICE_CLOSED = const(1)
QUOTA_REACHED = const(2)
AFTER_LAST_TICKET = const(3)
SERVICE_UNKNOWN = const(4)
BOOKING_UNKNOWN = const(5)
TOO_EARLY = const(6)
TOO_LATE = const(7)
PRINTER_UNAVAILABLE = const(8)
HUB_STORAGE = const(9)
RATE_LIMITED = const(10)        # the hub takes no more refused requests from this device

# window_state.state and .phase
CLOSED = const(0)
OPEN = const(1)
PAUSED = const(2)
IDLE = const(0)
CALLED = const(1)
SERVING = const(2)
HELD = const(3)

# rating_result.result
RECORDED = const(0)
WRONG_WINDOW = const(1)
EXPIRED = const(2)
ALREADY_RATED = const(3)
NO_SUCH_TICKET = const(4)
REASON_REQUIRED = const(5)
BAD_LEVEL = const(6)
RATING_NOT_JOURNALLED = const(7)

# alert.kind
WAIT_TOO_LONG = const(1)
OVER_TIME_LIMIT = const(2)
WINDOW_IDLE = const(3)
OPEN_WINDOW = const(4)
PRINTER = const(5)              # a ticket not printed (value: print_result)
DEVICE_OFFLINE = const(6)
EARLY_CLOSE = const(7)
JOURNAL_DAMAGED = const(8)      # value: records that could not be read at recovery
JOURNAL_FAILED = const(9)       # value: writes that failed; the hub refuses what it cannot journal
MISBEHAVING = const(10)         # a device refused for flooding or failing messages (value: count)
BUS_OUT_OF_TURN = const(11)     # a device talked out of turn on the RS485 bus (value: frames)

# How a ticket left the hall's queues (("ended", ...) outputs, day summaries)
FINISHED = const(0)
NO_SHOW = const(1)
CANCELLED = const(2)
TRANSFERRED = const(3)
UNSERVED = const(4)

# status.printer
PRINTER_NONE = const(0)
PRINTER_OK = const(1)
PRINTER_PAPER_LOW = const(2)
PRINTER_PAPER_OUT = const(3)
PRINTER_FAULT = const(4)

# print_result.result
PRINTED = const(0)
PRINT_PAPER_OUT = const(1)
PRINT_FAULT = const(2)
PRINT_TIMEOUT = const(3)

# nak.code
NAK_UNKNOWN_TYPE = const(1)
NAK_BAD_PAYLOAD = const(2)
NAK_BUSY = const(3)
NAK_NEWER_VERSION = const(4)

# display_update.voice
VOICE_NONE = const(0)
VOICE_CALL = const(1)
VOICE_RECALL = const(2)
