# The call-routing core: every ticket's life cycle, who is called to which window, the hall's
# timers and alerts, ratings, and the day's figures. Sans-IO: each operation is given the time
# (integer UTC seconds) and returns a result code; what devices must be told is appended to
# self.out as tuples (see OUTPUTS below). Every operation is journalled before it returns, and
# replaying the journal re-executes the operations, so a hub that lost power comes back with
# exactly the same queues. How the next ticket is chosen is written down in ROUTING.md beside this file.
#
# Each job has its own room (module) in this package, and RoutingCore is their sum:
#   durable.py   operations, journal, replay, snapshots    requests.py  idempotency
#   day.py       the day, close of business, the archive   issuing.py   tickets
#   choosing.py  the next ticket for a window              windows.py   the window operations
#   ratings.py   好差评                                     timers.py    timers and alerts
#   stats.py     the day's figures
# Outside the core, its public methods (no leading underscore: the operations below, the views
# at the end, window_view, waiting, parse_ticket, ticket_name, day_summary, damage...) and its
# outputs in self.out are the core; its arrays are its own. A device loads the core and its
# rooms as one module (hallpc/joined.py), so the rooms cost it no heap of their own.
from array import array

from firmware.routing.choosing import Choosing
from firmware.routing.day import Day
from firmware.routing.estimate import Estimator
from firmware.routing.issuing import Issuing
from firmware.routing.journal import Journal, MemoryStorage
from firmware.routing.durable import Durable, RETRY_MIN_S, OP_ISSUE, OP_CALL_NEXT, \
    OP_CALL_TICKET, OP_RECALL, OP_START, OP_FINISH, OP_NO_SHOW, OP_HOLD, OP_CALL_BACK, \
    OP_TRANSFER, OP_CANCEL, OP_WINDOW_OPEN, OP_PAUSE, OP_RESUME, OP_WINDOW_CLOSE, OP_LOGIN, \
    OP_LOGOUT, OP_CLOSE_DAY
from firmware.routing.queues import Queues
from firmware.routing.ratings import Ratings
from firmware.routing.requests import Requests
from firmware.routing.stats import DayStats
from firmware.routing.timers import Timers
from firmware.routing.windows import Windows
from protocol.codes import ORDINARY, OPEN, IDLE

# OUTPUTS, appended to self.out:
#   ("issued", service, number, kind, ahead, wait_min_s, wait_max_s, now)
#   ("refused", prefix, reason)                             a ticket request refused
#   ("called", window, service, number, recalls)          a call or recall to announce
#   ("window", window)                                      window state changed: show it
#   ("rating_request", window, service, number, staff)
#   ("rating_result", window, ticket, result)
#   ("alert", kind, window, service, number, value)         window/service 0xFF when none
#   ("ended", service, number, how, wait_s, estimate_s)     a ticket left the hall's queues
#   ("queue", service, waiting)                             people waiting for a service


class RoutingCore(Durable, Requests, Day, Issuing, Choosing, Windows, Ratings, Timers):
    def __init__(self, config, storage=None, now=0, estimates=True):
        # estimates=False: new tickets get no wait estimate (0). Nothing the core decides
        # depends on one; the planner's days, which only count waits, run without them.
        self.cfg = config
        self.estimates = estimates
        self.storage = storage if storage is not None else MemoryStorage()
        self.out = []
        services = config.service_count()
        windows = config.window_count()
        self.queues = Queues(2 * services)   # q = 2 * service + (0 ordinary | 1 priority)
        self.appointments = []               # (slot, service, number, issued, estimate) by slot
        self.transfers = []                  # (to_window, service, number, issued, estimate)
        self.held = []                       # (window, service, number, kind, issued, estimate)
        self.next_number = array("H", bytes(2 * services))
        self.wait_alerted = array("H", bytes(4 * services))   # per queue: last number alerted
        self.crowd_alerted = bytearray(services)
        self.state = bytearray(windows)                        # CLOSED / OPEN / PAUSED
        self._services_cache = None                            # see window_services()
        self.phase = bytearray(windows)                        # IDLE / CALLED / SERVING
        self.cur_service = bytearray(b"\xff" * windows)
        self.cur_number = array("H", bytes(2 * windows))
        self.cur_kind = bytearray(windows)
        self.cur_issued = array("I", bytes(4 * windows))
        self.cur_estimate = array("H", bytes(2 * windows))
        self.first_call = array("I", bytes(4 * windows))
        self.last_call = array("I", bytes(4 * windows))
        self.started = array("I", bytes(4 * windows))
        self.idle_since = array("I", bytes(4 * windows))
        self.recalls = bytearray(windows)
        self.flags = bytearray(windows)                        # 1 over-limit, 2 idle alerted
        self.staff = [None] * windows
        self.last_done = [None] * windows    # (service, number, staff, finished_at, rated)
        self.last_req = {}                   # idempotency: device -> [(req, result, reply)]
        self.journal = Journal(self.storage)
        self.rejects = array("H", bytes(2 * 8))   # ratings refused unjournalled, since start
        self.storage_failed = 0                   # time of the first write failure, or 0
        self.retry_at = 0
        self.retry_s = RETRY_MIN_S
        self._chosen = None                       # the choice behind the last call hint
        self.day = -1
        self.day_base = 0
        self.day_closed = False
        self.estimator = Estimator(config)
        self.stats = DayStats(services, windows, config.rating_levels)
        self.replaying = False
        self.journal_records = 0
        self.compact_every = 20000            # records between snapshots (and at every close of day)
        self.on_day_closed = None             # callable(day summary dict): the day archive
        self._start_day(now)

    # ---- public operations (each journalled) -----------------------------------------------

    def issue(self, now, prefix, kind=ORDINARY, slot=0, device=None, req=None):
        # A ticket for the service with this prefix. kind APPOINTMENT needs the slot time.
        # Returns OK and appends ("issued", ...), or REFUSED with ("refused", prefix, reason).
        hit = self._repeat(device, req)
        if hit is not None:
            return hit
        return self._run(OP_ISSUE, now, (prefix, kind, slot, device, req))

    def call_next(self, now, window, device=None, req=None):
        return self._cmd(OP_CALL_NEXT, now, window, (), device, req)

    def call_ticket(self, now, window, ticket, device=None, req=None):
        return self._cmd(OP_CALL_TICKET, now, window, (ticket,), device, req)

    def recall(self, now, window, device=None, req=None):
        return self._cmd(OP_RECALL, now, window, (), device, req)

    def start(self, now, window, device=None, req=None):
        return self._cmd(OP_START, now, window, (), device, req)

    def finish(self, now, window, device=None, req=None):
        return self._cmd(OP_FINISH, now, window, (), device, req)

    def no_show(self, now, window, device=None, req=None):
        return self._cmd(OP_NO_SHOW, now, window, (), device, req)

    def hold(self, now, window, device=None, req=None):
        return self._cmd(OP_HOLD, now, window, (), device, req)

    def call_back(self, now, window, ticket, device=None, req=None):
        return self._cmd(OP_CALL_BACK, now, window, (ticket,), device, req)

    def transfer(self, now, window, prefix, to_window=0, device=None, req=None):
        return self._cmd(OP_TRANSFER, now, window, (prefix, to_window), device, req)

    def cancel(self, now, ticket):
        return self._run(OP_CANCEL, now, (ticket,))

    def window_open(self, now, window, device=None, req=None):
        return self._cmd(OP_WINDOW_OPEN, now, window, (), device, req)

    def pause(self, now, window, device=None, req=None):
        return self._cmd(OP_PAUSE, now, window, (), device, req)

    def resume(self, now, window, device=None, req=None):
        return self._cmd(OP_RESUME, now, window, (), device, req)

    def window_close(self, now, window, device=None, req=None):
        return self._cmd(OP_WINDOW_CLOSE, now, window, (), device, req)

    def login(self, now, window, staff, device=None, req=None):
        return self._cmd(OP_LOGIN, now, window, (staff,), device, req)

    def logout(self, now, window, device=None, req=None):
        return self._cmd(OP_LOGOUT, now, window, (), device, req)

    def close_day(self, now):
        return self._run(OP_CLOSE_DAY, now, ())

    # ---- views: what the hall's devices and tools may read -----------------------------------

    def is_open(self, w):
        return self.state[w] == OPEN

    def is_idle(self, w):
        # Nobody called or served at window w.
        return self.phase[w] == IDLE

    def naive_estimate(self, s, ahead):
        # The plain estimate (people ahead x mean service / open windows), for comparison.
        return self.estimator.naive(self, s, ahead)
