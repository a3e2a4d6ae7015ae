# The call-routing core: every ticket's life cycle, who is called to which window, the hall's
# timers and alerts, ratings, and the day's figures. Sans-IO: each operation is given the time
# (integer UTC seconds) and returns a result code; what devices must be told is appended to
# self.out as tuples (see OUTPUTS below). Every operation is journalled before it returns, and
# replaying the journal re-executes the operations, so a hub that lost power comes back with
# exactly the same queues. How the next ticket is chosen is written down in ROUTING.md beside this file.
from array import array

from firmware.routing import journal as jr
from firmware.routing.estimate import Estimator
from firmware.routing.queues import Queues

# Result codes, refusal reasons, ticket classes, window states and phases, rating results,
# alert kinds and ticket ends: protocol/codes.py, the one definition.
from protocol.codes import (  # noqa: F401  (the names callers import from here too)
    OK, NOBODY_WAITING, WRONG_STATE, NOT_LOGGED_IN, UNKNOWN_TICKET, RECALL_LIMIT, UNKNOWN_WINDOW,
    UNKNOWN_SERVICE, REFUSED, NOT_JOURNALLED, SERVICE_CLOSED, QUOTA_REACHED, AFTER_LAST_TICKET,
    BOOKING_UNKNOWN, TOO_EARLY, HUB_STORAGE, ORDINARY, PRIORITY, APPOINTMENT, CLOSED, OPEN,
    PAUSED, IDLE, CALLED, SERVING, RECORDED, WRONG_WINDOW, EXPIRED, ALREADY_RATED,
    NO_SUCH_TICKET, REASON_REQUIRED, BAD_LEVEL, RATING_NOT_JOURNALLED, WAIT_TOO_LONG,
    OVER_TIME_LIMIT, WINDOW_IDLE, OPEN_WINDOW, EARLY_CLOSE, JOURNAL_DAMAGED, JOURNAL_FAILED,
    FINISHED, NO_SHOW, CANCELLED, TRANSFERRED, UNSERVED, NONE)

# OUTPUTS, appended to self.out:
#   ("issued", service, number, kind, ahead, wait_min_s, wait_max_s, now)
#   ("called", window, service, number, recalls)          a call or recall to announce
#   ("window", window)                                      window state changed: show it
#   ("rating_request", window, service, number, staff)
#   ("alert", kind, window, service, number, value)         window/service 0xFF when none
#   ("ended", service, number, how, wait_s, estimate_s)     a ticket left the hall's queues
#   ("queue", service, waiting)                             people waiting for a service
_OPS = ("issue", "call_next", "call_ticket", "recall", "start", "finish", "no_show", "hold",
        "call_back", "transfer", "cancel", "window_open", "pause", "resume", "window_close",
        "login", "logout", "rate", "tick", "close_day")
_CARRY_REQ = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16)   # ops ending in (device, req)
REQ_MEMORY = 4           # requests remembered per device: as many as its link has in flight
RETRY_MIN_S = 10         # after a failed write, timers wait this long (doubling) to try again
RETRY_MAX_S = 300


class RoutingCore:
    def __init__(self, config, storage=None, now=0):
        self.cfg = config
        self.storage = storage if storage is not None else jr.MemoryStorage()
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
        self.journal = jr.Journal(self.storage)
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

    # ---- journal ------------------------------------------------------------------------

    def _log(self, op, now, args):
        # Durable before visible: the record is on stable storage before the change is applied.
        # False when the write failed; then nothing is applied and the hall is told once.
        if self.replaying:
            return True
        try:
            self.journal.append(jr.KIND_OP, jr.pack((op, now) + args))
        except jr.StorageError:
            if not self.storage_failed:
                self.storage_failed = now or 1
                self.out.append(("alert", JOURNAL_FAILED, NONE, NONE, 0,
                                 min(self.journal.failures, 0xFFFF)))
            self.retry_at = now + self.retry_s
            self.retry_s = min(self.retry_s * 2, RETRY_MAX_S)
            return False
        if self.storage_failed:
            self.storage_failed = 0
            self.retry_s = RETRY_MIN_S
        self.journal_records += 1
        return True

    def _run(self, op, now, args):
        # Journal, then execute, then return: the caller acknowledges only after this returns.
        # What an operation will do that replay could not re-derive after a damaged record (the
        # number a ticket gets, the ticket a call takes) is decided first and journalled with it.
        day = self.day
        self._roll_day(now, op != 19)
        if op == 0:
            args = args[:3] + self._issue_number(now, args[0], args[1], args[2]) + args[3:]
        elif op == 1:
            args = (args[0], self._call_hint(now, args[0])) + args[1:]
        if not self._log(op, now, args):
            return self._not_journalled(op, args)
        result = self._exec(op, now, args)
        if op == 19 or self.day != day or self.journal_records >= self.compact_every:
            self.compact()                    # snapshot plus tail: bounded over days
        return result

    def _not_journalled(self, op, args):
        if op == 0:
            self.out.append(("refused", args[0], HUB_STORAGE))
            return REFUSED
        if op == 17:
            self.out.append(("rating_result", args[0], args[1], RATING_NOT_JOURNALLED))
            return RATING_NOT_JOURNALLED
        return NOT_JOURNALLED

    def _exec(self, op, now, args):
        # Apply one operation (live or in replay). Operations that carry (device, req) as their
        # last arguments are remembered, so a repeated request is answered, not re-executed.
        apply = getattr(self, "_" + _OPS[op])
        if op in _CARRY_REQ:
            mark = len(self.out)
            result = apply(now, *args[:-2])
            self._remember(args[-2], args[-1], result, mark)
            return result
        return apply(now, *args)

    @classmethod
    def recover(cls, config, storage, now=0):
        # A core rebuilt from its journal: the last snapshot, then every operation after it.
        # Damage is stepped over and reported (self.damage, an alert, the day's figures); the
        # damaged file is set aside behind a fresh verified snapshot where there is room.
        core = cls(config, storage, now)
        core._replay(now)
        damage = core.journal.damage
        if damage.any() or damage.from_previous:
            lost = damage.lost if damage.lost > 0 else 1
            if damage.from_previous and damage.first_lost == 0:
                lost -= 1                     # the snapshot, rebuilt from the previous file
            for s in range(len(core.next_number)):      # a lost ticket's number is never reused
                core.next_number[s] = min(core.next_number[s] + lost, 0x7FFF)
            core.stats.journal_lost = _sat16(core.stats.journal_lost + lost)
            core.compact(aside=True)
            core.out = [("alert", JOURNAL_DAMAGED, NONE, NONE, 0, min(lost, 0xFFFF))]
        return core

    def _replay(self, now, limit=-1):
        self.replaying = True
        skipped = 0
        first = True
        storage = self.storage if limit < 0 else jr.Head(self.storage, limit)
        journal = jr.Journal(storage)
        for kind, body in journal.replay():
            try:
                value = jr.unpack(body)[0]
                if kind == jr.KIND_SNAPSHOT:
                    self.restore(value)
                    self.journal_records = 0
                elif kind == jr.KIND_OP:
                    if first:                 # the journal's day, not the caller's `now`
                        self._start_day(value[1])
                    self.journal_records += 1
                    self._roll_day(value[1], value[0] not in (18, 19))
                    self._exec(value[0], value[1], value[2:])
                else:
                    skipped += 1
            except Exception:                 # a record this build cannot apply: never boot-loop
                skipped += 1
            first = False
        self.replaying = False
        self.out = []
        self.replay_skipped = skipped
        if limit < 0:
            self.journal = journal
        return journal

    def _rollback(self, now):
        # A timer's change could not be journalled: go back to what the journal holds.
        journal = self.journal
        keep = (self.on_day_closed, self.rejects, self.storage_failed, self.retry_at, self.retry_s,
                self.compact_every)
        RoutingCore.__init__(self, self.cfg, self.storage, now)
        self._replay(now, journal.end if journal.end is not None else
                     self.storage.size() - journal.void)
        self.journal = journal
        (self.on_day_closed, self.rejects, self.storage_failed, self.retry_at, self.retry_s,
         self.compact_every) = keep

    def compact(self, aside=False):
        # Replace the journal with one verified snapshot of the current state; if that cannot be
        # written, the old journal stays as it is and goes on growing.
        if self.replaying:
            return
        try:
            self.journal.compact(jr.pack(self.snapshot()), aside)
        except (OSError, jr.JournalError):
            return
        self.journal_records = 0

    def snapshot(self):
        return (self.queues.state(), list(self.appointments), list(self.transfers), list(self.held),
                self.next_number, self.wait_alerted, bytes(self.crowd_alerted), bytes(self.state),
                bytes(self.phase), bytes(self.cur_service), self.cur_number, bytes(self.cur_kind),
                self.cur_issued, self.cur_estimate, self.first_call, self.last_call, self.started,
                self.idle_since, bytes(self.recalls), bytes(self.flags), list(self.staff),
                list(self.last_done), dict(self.last_req), self.day, self.day_base,
                self.day_closed, self.estimator.state(), self.stats.state())

    def restore(self, snap):
        (queues, appointments, transfers, held, next_number, wait_alerted, crowd, state, phase,
         cur_service, cur_number, cur_kind, cur_issued, cur_estimate, first_call, last_call,
         started, idle_since, recalls, flags, staff, last_done, last_req, day, day_base,
         day_closed, estimator, stats) = snap
        self.queues.restore(queues)
        self.appointments = [tuple(a) for a in appointments]
        self.transfers = [tuple(t) for t in transfers]
        self.held = [tuple(h) for h in held]
        self.next_number, self.wait_alerted = next_number, wait_alerted
        self.crowd_alerted = bytearray(crowd)
        self.state, self.phase = bytearray(state), bytearray(phase)
        self._services_cache = None
        self.cur_service, self.cur_number = bytearray(cur_service), cur_number
        self.cur_kind, self.cur_issued, self.cur_estimate = bytearray(cur_kind), cur_issued, cur_estimate
        self.first_call, self.last_call, self.started = first_call, last_call, started
        self.idle_since, self.recalls, self.flags = idle_since, bytearray(recalls), bytearray(flags)
        self.staff = staff
        self.last_done = [tuple(d) if d is not None else None for d in last_done]
        self.last_req = {}
        for k, v in last_req.items():
            self.last_req[k] = [tuple(e) for e in v]
        self.day, self.day_base, self.day_closed = day, day_base, day_closed
        self.estimator.restore(estimator)
        self.stats.restore(stats)

    def damage(self):
        # What recovery could not read: {"lost": records, "bytes": ..., "regions": ...}.
        d = self.journal.damage
        return {"lost": d.lost, "bytes": d.bad_bytes, "regions": d.regions, "torn": d.torn,
                "from_previous": d.from_previous, "write_failures": self.journal.failures,
                "storage_failed": bool(self.storage_failed)}

    def fingerprint(self):
        return bytes(jr.pack(self.snapshot()))

    # ---- public operations (each journalled) -----------------------------------------------

    def issue(self, now, prefix, kind=ORDINARY, slot=0, device=None, req=None):
        # A ticket for the service with this prefix. kind APPOINTMENT needs the slot time.
        # Returns OK and appends ("issued", ...), or REFUSED with ("refused", prefix, reason).
        hit = self._repeat(device, req)
        if hit is not None:
            return hit
        return self._run(0, now, (prefix, kind, slot, device, req))

    def call_next(self, now, window, device=None, req=None):
        return self._cmd(1, now, window, (), device, req)

    def call_ticket(self, now, window, ticket, device=None, req=None):
        return self._cmd(2, now, window, (ticket,), device, req)

    def recall(self, now, window, device=None, req=None):
        return self._cmd(3, now, window, (), device, req)

    def start(self, now, window, device=None, req=None):
        return self._cmd(4, now, window, (), device, req)

    def finish(self, now, window, device=None, req=None):
        return self._cmd(5, now, window, (), device, req)

    def no_show(self, now, window, device=None, req=None):
        return self._cmd(6, now, window, (), device, req)

    def hold(self, now, window, device=None, req=None):
        return self._cmd(7, now, window, (), device, req)

    def call_back(self, now, window, ticket, device=None, req=None):
        return self._cmd(8, now, window, (ticket,), device, req)

    def transfer(self, now, window, prefix, to_window=0, device=None, req=None):
        return self._cmd(9, now, window, (prefix, to_window), device, req)

    def cancel(self, now, ticket):
        return self._run(10, now, (ticket,))

    def window_open(self, now, window, device=None, req=None):
        return self._cmd(11, now, window, (), device, req)

    def pause(self, now, window, device=None, req=None):
        return self._cmd(12, now, window, (), device, req)

    def resume(self, now, window, device=None, req=None):
        return self._cmd(13, now, window, (), device, req)

    def window_close(self, now, window, device=None, req=None):
        return self._cmd(14, now, window, (), device, req)

    def login(self, now, window, staff, device=None, req=None):
        return self._cmd(15, now, window, (staff,), device, req)

    def logout(self, now, window, device=None, req=None):
        return self._cmd(16, now, window, (), device, req)

    def rate(self, now, window, ticket, level, reasons=(), evaluator=None):
        # A rating from `evaluator` (a device id) for `ticket` at `window`. Returns RECORDED
        # or the reason it was rejected; rejections are counted.
        self._roll_day(now, True)
        verdict = self._rating_verdict(now, window, ticket, level, reasons, evaluator)
        if verdict != RECORDED:               # refused: counted, never journalled
            self.rejects[verdict] = _sat16(self.rejects[verdict] + 1)
            self.out.append(("rating_result", window, ticket, verdict))
            return verdict
        return self._run(17, now, (window, ticket, level, tuple(reasons), evaluator))

    def tick(self, now):
        # Timers: automatic recall and no-show, alerts. Journalled only when it changed state;
        # a change that cannot be journalled is undone, and timers wait before trying again.
        if self.storage_failed and now < self.retry_at:
            return
        before = len(self.out)
        mark = self.stats.changes
        day = self.day
        self._roll_day(now, False)
        self._tick(now)
        if self.day != day:
            mark -= 1                         # a new day began: that is a change to journal
        if self.stats.changes != mark or len(self.out) != before:
            ticked = len(self.out)
            if not self._log(18, now, ()):
                told = self.out[ticked:]          # what the failed write said (its alert)
                kept = self.out[:before]
                self._rollback(now)
                self.out = kept + told

    def close_day(self, now):
        return self._run(19, now, ())

    def _repeat(self, device, req):
        # The answer already given to this request of this device (the ticket it was issued),
        # or None: a retransmission is answered again, never executed twice.
        if device is not None and req is not None:
            for entry in self.last_req.get(device, ()):
                if entry[0] == req:
                    if entry[2] is not None:
                        self.out.append(entry[2])
                    return entry[1]
        return None

    def issued_by(self, device, ticket):
        # True if `ticket` is one of the last tickets issued to `device` and it still waits.
        s, number = self.parse_ticket(ticket)
        if s < 0:
            return False
        for entry in self.last_req.get(device, ()):
            reply = entry[2]
            if reply is not None and reply[0] == "issued" and reply[1] == s and reply[2] == number:
                return self._find_waiting(s, number) is not None
        return False

    def _cmd(self, op, now, window, args, device, req):
        hit = self._repeat(device, req)
        if hit is not None:
            return hit
        return self._run(op, now, (window,) + args + (device, req))

    def _remember(self, device, req, result, mark):
        if device is not None and req is not None:
            reply = None
            for o in self.out[mark:]:
                if o[0] == "issued" or o[0] == "refused":
                    reply = o
            entries = self.last_req.get(device)
            if entries is None:
                entries = self.last_req[device] = []
            entries.append((req, result, reply))
            if len(entries) > REQ_MEMORY:
                entries.pop(0)

    # ---- the day ----------------------------------------------------------------------------

    def local_day(self, now):
        return (now + self.cfg.tz_offset_s) // 86400

    def clock(self, now):
        # Seconds since local midnight.
        return (now + self.cfg.tz_offset_s) % 86400

    def _start_day(self, now):
        self.day_closed = False
        self.day = self.local_day(now)
        opening = min(s[2] for s in self.cfg.services)
        self.day_base = self.day * 86400 - self.cfg.tz_offset_s + max(0, opening - 3600)

    def _roll_day(self, now, reopen):
        # A new local date starts a new day (ending the old one if nobody closed it); after
        # close_day, the next operation other than a timer tick reopens the same date.
        if self.local_day(now) != self.day:
            if not self.day_closed:
                self._end_day(now)
            self._start_day(now)
        elif self.day_closed and reopen:
            self._start_day(now)

    def _rel(self, now):
        # Time as stored with waiting tickets: seconds since the day's base (fits 18 hours).
        rel = now - self.day_base
        return 0 if rel < 0 else 0xFFFF if rel > 0xFFFF else rel

    def _abs(self, rel):
        return self.day_base + rel

    def _close_day(self, now):
        # Close of business: whoever still waits is recorded as unserved; numbers restart.
        if not self.day_closed:
            self._end_day(now)
            self.day_closed = True
        return OK

    def _end_day(self, now):
        for q in range(self.queues.count):
            for number, issued, estimate in self.queues.entries(q):
                self._ended(q // 2, number, UNSERVED, now - self._abs(issued), estimate)
        for slot, service, number, issued, estimate in self.appointments:
            self._ended(service, number, UNSERVED, now - issued, estimate)
        for to_window, service, number, issued, estimate in self.transfers:
            self._ended(service, number, UNSERVED, now - issued, estimate)
        for window, service, number, kind, issued, estimate in self.held:
            self._ended(service, number, UNSERVED, now - issued, estimate)
        for w in range(len(self.state)):
            if self.cur_service[w] != NONE:
                self._ended(self.cur_service[w], self.cur_number[w], UNSERVED,
                            now - self.cur_issued[w], self.cur_estimate[w])
                self._clear_current(w)
            self._set_state(w, CLOSED)
            self.phase[w] = IDLE
            self.staff[w] = None
            self.last_done[w] = None
        self.queues.clear()
        self.appointments = []
        self.transfers = []
        self.held = []
        for s in range(len(self.next_number)):
            self.next_number[s] = 0
            self.crowd_alerted[s] = 0
        for q in range(len(self.wait_alerted)):
            self.wait_alerted[q] = 0
        self.last_req = {}
        if self.on_day_closed is not None and not self.replaying:
            self.on_day_closed(self.day_summary())
        for k in range(len(self.rejects)):
            self.rejects[k] = 0
        self.stats.close_day(self.day)

    def day_summary(self):
        # The day's figures with the names that explain them, for the archive that monthly
        # reports read (hallctl report). Plain lists and dicts: packable and JSON-able.
        cfg = self.cfg
        st = self.stats
        from firmware.clock import civil
        y, m, d = civil(self.day)
        return {"v": 1, "hall": cfg.hall, "day": self.day, "date": "%04d-%02d-%02d" % (y, m, d),
                "services": [s[0] for s in cfg.services], "names": [s[1] for s in cfg.services],
                "max_wait_s": [s[8] for s in cfg.services], "windows": list(cfg.numbers),
                "staff": dict(cfg.staff), "levels": st.levels,
                "issued": list(st.issued), "served": list(st.served_count),
                "within_max_wait": list(st.within_max_wait), "wait_sum": list(st.wait_sum),
                "service_sum": list(st.service_sum), "ends": list(st.ends),
                "window_served": list(st.window_served), "window_busy": list(st.window_busy),
                "early_stops": list(st.early_stops), "window_ratings": list(st.window_ratings),
                "service_ratings": list(st.service_ratings),
                "staff_ratings": {k: list(v) for k, v in st.staff_ratings.items()},
                "staff_served": dict(st.staff_served), "rating_rejects": list(self.rejects[:7]),
                "refused": st.refused, "journal_lost": st.journal_lost}

    # ---- tickets ----------------------------------------------------------------------------

    def service_index(self, prefix):
        return self.cfg.service(prefix)

    def parse_ticket(self, ticket):
        # "A012" or "AB012" -> (service index, number), or (-1, 0).
        if type(ticket) is not str or len(ticket) < 2:
            return -1, 0
        cut = 2 if len(ticket) > 2 and "A" <= ticket[1] <= "Z" else 1
        s = self.service_index(ticket[:cut])
        digits = ticket[cut:]
        if s < 0 or not digits or not digits.isdigit():
            return -1, 0
        number = int(digits)
        return (s, number) if 0 < number < 0x8000 else (-1, 0)

    def ticket_name(self, service, number):
        return "%s%03d" % (self.cfg.services[service][0], number)

    def waiting(self, service):
        # People waiting for a service: its queues, due or not yet due appointments, transfers.
        n = self.queues.live[2 * service] + self.queues.live[2 * service + 1]
        for a in self.appointments:
            n += a[1] == service
        for t in self.transfers:
            n += t[1] == service
        return n

    def _issue_verdict(self, now, s, kind, slot):
        # (refusal reason or 0, the class the ticket gets).
        svc = self.cfg.services[s] if s >= 0 else None
        clock = self.clock(now)
        reason = 0
        if svc is None or type(kind) is not int or type(slot) is not int:
            reason = 4
        elif clock < svc[2] or clock >= svc[4]:
            reason = SERVICE_CLOSED
        elif clock > svc[3]:
            reason = AFTER_LAST_TICKET
        elif self.stats.issued[s] >= svc[5]:  # tickets given, not the last number: numbers
            reason = QUOTA_REACHED            # skip past records lost to damage
        elif kind == APPOINTMENT:
            if slot <= 0:
                reason = BOOKING_UNKNOWN
            elif now < slot - self.cfg.appointment_early_s:
                reason = TOO_EARLY
            elif now > slot + self.cfg.appointment_late_s:
                kind = ORDINARY                 # too late for the slot: served as a walk-in
        elif kind != ORDINARY and kind != PRIORITY:
            reason = 4
        return reason, kind

    def _issue_number(self, now, prefix, kind, slot):
        # (number, estimate) the ticket will get (number 0: refused), journalled with the
        # request, so that replay gives the same number and needs no estimator.
        s = self.service_index(prefix) if type(prefix) is str else -1
        reason, kind = self._issue_verdict(now, s, kind, slot)
        if reason:
            return 0, 0
        if kind == APPOINTMENT:
            estimate = (slot - now) if slot > now else 0
        else:
            estimate = self.estimator.estimate(self, s, self.waiting(s), now)
        return min(self.next_number[s] + 1, 0x7FFF), estimate

    def _issue(self, now, prefix, kind, slot, number, estimate):
        # number and estimate: as journalled. In replay the number is the truth even where
        # damage has left the books short: the ticket is in a citizen's hand with that number.
        s = self.service_index(prefix) if type(prefix) is str else -1
        reason, kind = self._issue_verdict(now, s, kind, slot)
        if number == 0 or s < 0:
            self.out.append(("refused", prefix, reason or QUOTA_REACHED))
            self.stats.refused = _sat16(self.stats.refused + 1)
            self.stats.changes += 1
            return REFUSED
        if number <= self.next_number[s]:
            number = self.next_number[s] + 1  # (never a number given out already)
        self.next_number[s] = number
        ahead = self.waiting(s)
        if kind == APPOINTMENT:
            self._insert_appointment((slot, s, number, now, estimate))
        else:
            self.queues.push(2 * s + (1 if kind == PRIORITY else 0), number, self._rel(now),
                             min(estimate, 0xFFFF))
        low, high = self.estimator.spread(estimate)
        self.out.append(("issued", s, number, kind, ahead, low, high, now))
        self.out.append(("queue", s, ahead + 1))
        _inc(self.stats.issued, s)
        return OK

    def _insert_appointment(self, entry):
        k = 0
        while k < len(self.appointments) and self.appointments[k][0] <= entry[0]:
            k += 1
        self.appointments.insert(k, entry)

    def _ended(self, service, number, how, wait_s, estimate):
        self.out.append(("ended", service, number, how, wait_s, estimate))
        self.stats.ended(service, how)

    # ---- choosing the next ticket (ROUTING.md) -----------------------------------------

    def _set_state(self, w, state):
        self.state[w] = state
        self._services_cache = None           # backups take over or give back services

    def window_services(self, w):
        # The services window w calls for: its own, then those of windows it backs up while
        # they are paused or closed. Cached until a window's state changes (the choice and
        # the estimator ask constantly, and it costs a scan of every window); without a backup
        # in force the cache holds the config's own bytes, so it allocates nothing.
        cache = self._services_cache
        if cache is None:
            cache = self._services_cache = [None] * (2 * len(self.state))
        if cache[2 * w] is None:
            cache[2 * w], cache[2 * w + 1] = self._window_services(w)
        return cache[2 * w]

    def window_weights(self, w):
        # The weights of window_services(w), one byte each (1 for services taken over).
        self.window_services(w)
        return self._services_cache[2 * w + 1]

    def _window_services(self, w):
        services = self.cfg.window_services[w]
        weights = self.cfg.window_weights[w]
        extra = None
        for other in range(len(self.state)):
            if self.cfg.backup[other] == w and self.state[other] != OPEN:
                for s in self.cfg.window_services[other]:
                    if s not in services and (extra is None or s not in extra):
                        extra = (extra or b"") + bytes((s,))
        if extra:
            return services + extra, weights + b"\x01" * len(extra)
        return services, weights

    def choose(self, w, now):
        # (source, key) of the ticket window w would call now, or None. Sources: 0 transfer
        # (key = index), 1 priority / 3 ordinary (key = queue), 2 appointment (key = index).
        services = self.window_services(w)
        weights = self.window_weights(w)
        number = self.cfg.numbers[w]
        best = -1
        for k in range(len(self.transfers)):       # 1. transfers to this window, then to its services
            t = self.transfers[k]
            if t[0] == number or (t[0] == 0 and t[1] in services):
                rank = (0 if t[0] == number else 1, t[3])
                if best < 0 or rank < best_rank:
                    best, best_rank = k, rank
        if best >= 0:
            return 0, best
        oldest = -1                                # 2. priority, oldest first across services
        for s in services:
            at = self.queues.first(2 * s + 1)
            if at >= 0:
                issued = self.queues.entry(2 * s + 1, at)[1]
                if oldest < 0 or issued < oldest:
                    oldest, pick = issued, 2 * s + 1
        if oldest >= 0:
            return 1, pick
        grace = self.cfg.appointment_grace_s       # 3. appointments whose slot is due, by slot
        for k in range(len(self.appointments)):
            a = self.appointments[k]
            if a[0] - grace > now:
                break
            if a[1] in services:
                return 2, k
        rel = self._rel(now)                       # 4. ordinary: aged first, then wait x weight
        aged = -1
        score = -1
        for k in range(len(services)):
            s = services[k]
            at = self.queues.first(2 * s)
            if at < 0:
                continue
            issued = self.queues.entry(2 * s, at)[1]
            wait = rel - issued
            if wait >= self.cfg.services[s][8]:    # past the service's maximum wait: aged
                if aged < 0 or issued < aged_issued:
                    aged, aged_issued = 2 * s, issued
            value = (wait + 1) * weights[k]
            if value > score:
                score, pick = value, 2 * s
        if aged >= 0:
            return 3, aged
        if score >= 0:
            return 3, pick
        return None

    def _take(self, choice):
        # Remove the chosen ticket: (service, number, kind, issued abs, estimate).
        source, key = choice
        if source == 0:
            t = self.transfers.pop(key)
            return t[1], t[2], ORDINARY, t[3], t[4]
        if source == 2:
            a = self.appointments.pop(key)
            return a[1], a[2], APPOINTMENT, a[3], a[4]
        number, issued, estimate = self.queues.pop(key)
        return key // 2, number, (PRIORITY if key & 1 else ORDINARY), self._abs(issued), estimate

    # ---- window operations ------------------------------------------------------------------

    def _window(self, window):
        return self.cfg.window(window)

    def _ready(self, w):
        if w < 0:
            return UNKNOWN_WINDOW
        if self.state[w] != OPEN:
            return WRONG_STATE
        if self.staff[w] is None:
            return NOT_LOGGED_IN
        return OK

    def _at_window(self, window, phase, busy=False):
        # (window index, result) for a staff command: the window must be open and staffed, and
        # in `phase` (or, with busy=True, in any phase but idle).
        w = self._window(window)
        result = self._ready(w)
        if result == OK and ((self.phase[w] == IDLE) if busy else (self.phase[w] != phase)):
            result = WRONG_STATE
        return w, result

    def _call_hint(self, now, window):
        # The ticket a call-next will take, (service, number), or None: journalled with it.
        # The choice is kept for _call_next, which runs next, on the same state.
        self._chosen = None
        w, result = self._at_window(window, IDLE)
        if result != OK:
            return None
        choice = self._chosen = self.choose(w, now)
        return None if choice is None else self._peek(choice)

    def _peek(self, choice):
        source, key = choice
        if source == 0:
            return self.transfers[key][1], self.transfers[key][2]
        if source == 2:
            return self.appointments[key][1], self.appointments[key][2]
        return key // 2, self.queues.entry(key, self.queues.first(key))[0]

    def _call_next(self, now, window, hint):
        # hint: the ticket chosen when the call was made. Replay takes that same ticket, so a
        # damaged record before it cannot make the hall's later calls diverge.
        w, result = self._at_window(window, IDLE)
        if result == OK:
            entry = None
            choice = self._chosen
            self._chosen = None
            if hint is not None and choice is not None and not self.replaying:
                entry = self._take(choice)            # (live: chosen for the hint just now)
            elif hint is not None:
                hint = tuple(hint)
                choice = self.choose(w, now)
                if choice is not None and self._peek(choice) == hint:
                    entry = self._take(choice)
                else:
                    entry = self._take_ticket(hint[0], hint[1])
            if entry is None:
                result = NOBODY_WAITING
            else:
                service, number, kind, issued, estimate = entry
                self._set_current(w, service, number, kind, issued, estimate, now)
                self._announce(w, now)
        return result

    def _set_current(self, w, service, number, kind, issued, estimate, now):
        self.cur_service[w] = service
        self.cur_number[w] = number
        self.cur_kind[w] = kind
        self.cur_issued[w] = issued
        self.cur_estimate[w] = estimate
        self.first_call[w] = now
        self.recalls[w] = 0
        self.phase[w] = CALLED
        self.flags[w] = 0
        self.out.append(("queue", service, self.waiting(service)))

    def _announce(self, w, now):
        self.last_call[w] = now
        self.out.append(("called", w, self.cur_service[w], self.cur_number[w], self.recalls[w]))
        self.out.append(("window", w))

    def _find_waiting(self, s, number):
        # Where a waiting ticket is: ("q", queue, offset) / ("a", index) / ("t", index) / None.
        for q in (2 * s, 2 * s + 1):
            at = self.queues.find(q, number)
            if at >= 0:
                return "q", q, at
        for k in range(len(self.appointments)):
            if self.appointments[k][1] == s and self.appointments[k][2] == number:
                return "a", k, 0
        for k in range(len(self.transfers)):
            if self.transfers[k][1] == s and self.transfers[k][2] == number:
                return "t", k, 0
        return None

    def _take_ticket(self, s, number):
        # Remove a waiting ticket wherever it waits: (service, number, kind, issued, estimate).
        where = self._find_waiting(s, number) if s >= 0 else None
        if where is None:
            return None
        kind, key, at = where
        if kind == "q":
            n, issued, estimate = self.queues.remove(key, at)
            return s, number, PRIORITY if key & 1 else ORDINARY, self._abs(issued), estimate
        if kind == "a":
            a = self.appointments.pop(key)
            return s, number, APPOINTMENT, a[3], a[4]
        t = self.transfers.pop(key)
        return s, number, ORDINARY, t[3], t[4]

    def _call_ticket(self, now, window, ticket):
        w, result = self._at_window(window, IDLE)
        if result == OK:
            s, number = self.parse_ticket(ticket)
            entry = self._take_ticket(s, number)
            if entry is None:
                result = UNKNOWN_TICKET
            else:
                self._set_current(w, *entry, now=now)
                self._announce(w, now)
        return result

    def _recall(self, now, window):
        w, result = self._at_window(window, CALLED)
        if result == OK:
            result = self._do_recall(w, now)
        return result

    def _do_recall(self, w, now):
        if self.recalls[w] >= self.cfg.recall_limit:
            self._end_current(w, NO_SHOW, now)
            return RECALL_LIMIT
        self.recalls[w] += 1
        self._announce(w, now)
        return OK

    def _start(self, now, window):
        w, result = self._at_window(window, CALLED)
        if result == OK:
            self.phase[w] = SERVING
            self.started[w] = now
            self.out.append(("window", w))
        return result

    def _finish(self, now, window):
        w, result = self._at_window(window, SERVING)
        if result == OK:
            service, number = self.cur_service[w], self.cur_number[w]
            duration = now - self.started[w]
            # wait, SLA and the estimate's error count the tickets served, when they are
            # served: a ticket started and then held, transferred or cut off at close is
            # not among the served and must not be among those within the maximum wait
            wait = self.first_call[w] - self.cur_issued[w]
            self.stats.served(service, w, duration, self.staff[w])
            self.stats.served_wait(service, wait, wait <= self.cfg.services[service][8])
            self.stats.estimates(self.cur_estimate[w], wait)
            # the window was taken from the call on (the citizen's walk included), which is
            # what spaces one call from the next
            self.estimator.served(service, now - self.first_call[w])
            self.last_done[w] = (service, number, self.staff[w], now, False)
            self._end_current(w, FINISHED, now)
            self.out.append(("rating_request", w, service, number, self.staff[w]))
        return result

    def _end_current(self, w, how, now):
        self._ended(self.cur_service[w], self.cur_number[w], how,
                    self.first_call[w] - self.cur_issued[w], self.cur_estimate[w])
        self._clear_current(w)
        self.idle_since[w] = now
        self.out.append(("window", w))

    def _clear_current(self, w):
        self.cur_service[w] = NONE
        self.cur_number[w] = 0
        self.phase[w] = IDLE
        self.recalls[w] = 0
        self.flags[w] = 0

    def _no_show(self, now, window):
        w, result = self._at_window(window, CALLED)
        if result == OK:
            self._end_current(w, NO_SHOW, now)
        return result

    def _hold(self, now, window):
        # 挂起: the current ticket steps aside (missing papers...) and can be called back later.
        w, result = self._at_window(window, IDLE, busy=True)
        if result == OK:
            self.held.append((self.cfg.numbers[w], self.cur_service[w], self.cur_number[w],
                              self.cur_kind[w], self.cur_issued[w], self.cur_estimate[w]))
            self._clear_current(w)
            self.idle_since[w] = now
            self.out.append(("window", w))
        return result

    def _call_back(self, now, window, ticket):
        w, result = self._at_window(window, IDLE)
        if result == OK:
            s, number = self.parse_ticket(ticket)
            result = UNKNOWN_TICKET
            for k in range(len(self.held)):
                h = self.held[k]
                if h[0] == self.cfg.numbers[w] and h[1] == s and h[2] == number:
                    self.held.pop(k)
                    self._set_current(w, s, number, h[3], h[4], h[5], now)
                    self._announce(w, now)
                    result = OK
                    break
        return result

    def _transfer(self, now, window, prefix, to_window):
        # The current ticket moves to another service (or a given window); it keeps its issue
        # time and goes ahead of ordinary and priority tickets there.
        w = self._window(window)
        result = self._ready(w)
        s = self.service_index(prefix)
        if result == OK and self.phase[w] == IDLE:
            result = WRONG_STATE
        elif result == OK and s < 0:
            result = UNKNOWN_SERVICE
        elif result == OK and to_window and self._window(to_window) < 0:
            result = UNKNOWN_WINDOW
        if result == OK:
            self._ended(self.cur_service[w], self.cur_number[w], TRANSFERRED,
                        self.first_call[w] - self.cur_issued[w], self.cur_estimate[w])
            self.transfers.append((to_window, s, self.cur_number[w] if s == self.cur_service[w]
                                   else self._transfer_number(s), self.cur_issued[w], 0))
            self._clear_current(w)
            self.idle_since[w] = now
            self.out.append(("window", w))
            self.out.append(("queue", s, self.waiting(s)))
        return result

    def _transfer_number(self, s):
        # A transferred ticket is known by a number of its new service from then on.
        self.next_number[s] += 1
        self.stats.issued[s] += 1
        return self.next_number[s]

    def _cancel(self, now, ticket):
        # The citizen left (gave up waiting, or cancelled at the dispenser).
        s, number = self.parse_ticket(ticket)
        entry = self._take_ticket(s, number)
        if entry is None:
            return UNKNOWN_TICKET
        self._ended(s, number, CANCELLED, now - entry[3], entry[4])
        self.out.append(("queue", s, self.waiting(s)))
        return OK

    def _window_open(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] == OPEN else OK
        if result == OK:
            self._set_state(w, OPEN)
            self.idle_since[w] = now
            self.flags[w] = 0
            self.out.append(("window", w))
        return result

    def _leave(self, now, w, state):
        # Pause or close: the window's current ticket goes back to the front of the line, and
        # stopping before closing time while people wait for its services is recorded.
        if self.cur_service[w] != NONE:
            self.transfers.insert(0, (0, self.cur_service[w], self.cur_number[w],
                                      self.cur_issued[w], self.cur_estimate[w]))
            self._clear_current(w)
        self._set_state(w, state)
        waiting = 0
        for s in self.cfg.window_services[w]:
            waiting += self.waiting(s)
        if waiting and self.clock(now) < self.cfg.closing_s:
            self.stats.early_stop(w)
            self.out.append(("alert", EARLY_CLOSE, w, NONE, 0, waiting))
        self.out.append(("window", w))

    def _pause(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] != OPEN else OK
        if result == OK:
            self._leave(now, w, PAUSED)
        return result

    def _resume(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] != PAUSED else OK
        if result == OK:
            self._set_state(w, OPEN)
            self.idle_since[w] = now
            self.out.append(("window", w))
        return result

    def _window_close(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] == CLOSED else OK
        if result == OK:
            self._leave(now, w, CLOSED)
            self.staff[w] = None
        return result

    def _login(self, now, window, staff):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else OK
        if result == OK and staff not in self.cfg.staff:
            result = REFUSED
        if result == OK:
            self.staff[w] = staff
            self.out.append(("window", w))
        return result

    def _logout(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.phase[w] != IDLE else OK
        if result == OK:
            self.staff[w] = None
            self.out.append(("window", w))
        return result

    # ---- ratings (政务服务好差评) -------------------------------------------------------------

    def _rate(self, now, window, ticket, level, reasons, evaluator):
        result = self._rating_verdict(now, window, ticket, level, reasons, evaluator)
        if result == RECORDED:
            w = self._window(window)
            done = self.last_done[w]
            self.last_done[w] = (done[0], done[1], done[2], done[3], True)
            self.stats.rating(done[2], w, done[0], level)
        self.out.append(("rating_result", window, ticket, result))
        return result

    def _rating_verdict(self, now, window, ticket, level, reasons, evaluator):
        w = self._window(window) if type(window) is int else -1
        s, number = self.parse_ticket(ticket)
        done = self.last_done[w] if w >= 0 else None
        if w < 0 or evaluator is None or self.cfg.evaluator[w] != evaluator:
            result = WRONG_WINDOW          # only the evaluator paired with the window counts
        elif done is None or done[0] != s or done[1] != number:
            result = NO_SUCH_TICKET if s < 0 else WRONG_WINDOW
        elif done[4]:
            result = ALREADY_RATED
        elif now - done[3] > self.cfg.rating_window_s:
            result = EXPIRED
        elif type(level) is not int or not 1 <= level <= self.cfg.rating_levels:
            result = BAD_LEVEL
        elif level >= self.cfg.reason_required_from and not reasons:
            result = REASON_REQUIRED
        else:
            result = RECORDED
        return result

    # ---- timers and alerts ------------------------------------------------------------------

    def _tick(self, now):
        cfg = self.cfg
        for w in range(len(self.state)):
            if self.phase[w] == CALLED and now - self.last_call[w] >= cfg.recall_timeout_s:
                self._do_recall(w, now)
            elif self.phase[w] == SERVING and not self.flags[w] & 1:
                service = self.cur_service[w]
                if now - self.started[w] > cfg.services[service][7]:
                    self.flags[w] |= 1
                    self.stats.changes += 1
                    self.out.append(("alert", OVER_TIME_LIMIT, w, service, self.cur_number[w],
                                     (now - self.started[w]) // 60))
            elif (self.phase[w] == IDLE and self.state[w] == OPEN and not self.flags[w] & 2
                  and self.staff[w] is not None and now - self.idle_since[w] >= cfg.idle_alert_s):
                # idle *while people wait*: from when the window fell idle or the oldest of
                # the people it could call arrived, whichever was later
                oldest = self._oldest_waiting(w)
                since = max(self.idle_since[w], oldest) if oldest >= 0 else -1
                if since >= 0 and now - since >= cfg.idle_alert_s:
                    self.flags[w] |= 2
                    self.stats.changes += 1
                    self.stats.idle_alerts += 1
                    self.out.append(("alert", WINDOW_IDLE, w, NONE, 0, (now - since) // 60))
        rel = self._rel(now)
        for q in range(self.queues.count):
            max_wait = cfg.services[q // 2][8]
            for number, issued, estimate in self.queues.entries(q):
                if rel - issued <= max_wait:
                    break
                if number > self.wait_alerted[q]:
                    self.wait_alerted[q] = number
                    self.stats.changes += 1
                    self.out.append(("alert", WAIT_TOO_LONG, NONE, q // 2, number,
                                     (rel - issued) // 60))
        open_windows = bytearray(len(self.next_number))     # open windows serving each service
        for w in range(len(self.state)):
            if self.state[w] == OPEN:
                for s in self.window_services(w):
                    if open_windows[s] < 255:
                        open_windows[s] += 1
        for s in range(len(self.next_number)):
            self._crowd_check(s, open_windows[s])

    def _oldest_waiting(self, w):
        # Issue time of the longest-waiting ticket window w could call, or -1.
        oldest = -1
        services = self.window_services(w)
        for s in services:
            for q in (2 * s, 2 * s + 1):
                at = self.queues.first(q)
                if at >= 0:
                    issued = self._abs(self.queues.entry(q, at)[1])
                    if oldest < 0 or issued < oldest:
                        oldest = issued
        for t in self.transfers:
            if (t[0] == self.cfg.numbers[w] or (t[0] == 0 and t[1] in services)) \
                    and (oldest < 0 or t[3] < oldest):
                oldest = t[3]
        return oldest

    def _crowd_check(self, s, open_windows):
        # People waiting per open window serving s, over the threshold: say how many should open.
        waiting = self.waiting(s)
        limit = self.cfg.waiting_per_window_alert
        over = waiting > limit * max(open_windows, 1)
        if over and not self.crowd_alerted[s]:
            self.crowd_alerted[s] = 1
            self.stats.changes += 1
            needed = (waiting + limit - 1) // limit
            self.out.append(("alert", OPEN_WINDOW, NONE, s, 0, needed))
        elif not over and self.crowd_alerted[s] and waiting <= limit * max(open_windows, 1) // 2:
            self.crowd_alerted[s] = 0
            self.stats.changes += 1

    def window_view(self, w):
        # What a window's caller board shows: (state, phase, ticket, recalls, waiting, staff).
        ticket = self.ticket_name(self.cur_service[w], self.cur_number[w]) \
            if self.cur_service[w] != NONE else ""
        waiting = 0
        for s in self.window_services(w):
            waiting += self.waiting(s)
        return (self.state[w], self.phase[w], ticket, self.recalls[w], waiting, self.staff[w] or "")


def _sat16(v):
    return v if v < 0xFFFF else 0xFFFF


def _inc(arr, k, v=1, top=0xFFFF):
    # Counters saturate: a flood can make a figure wrong, never the hub crash.
    v += arr[k]
    arr[k] = v if v < top else top


class DayStats:
    # The day's figures, kept as counters (the journal has every ticket for the full record).
    def __init__(self, services, windows, levels):
        self.levels = levels
        self.issued = array("H", bytes(2 * services))
        self.served_count = array("H", bytes(2 * services))
        self.within_max_wait = array("H", bytes(2 * services))
        self.wait_sum = array("I", bytes(4 * services))
        self.service_sum = array("I", bytes(4 * services))
        self.ends = array("H", bytes(2 * 5 * services))       # per service, per end kind
        self.window_served = array("H", bytes(2 * windows))
        self.window_busy = array("I", bytes(4 * windows))
        self.early_stops = array("H", bytes(2 * windows))
        self.window_ratings = array("H", bytes(2 * 6 * windows))
        self.service_ratings = array("H", bytes(2 * 6 * services))
        self.staff_ratings = {}
        self.staff_served = {}                                  # staff id -> tickets finished
        self.estimate_abs_error = 0                            # seconds, summed
        self.estimate_count = 0
        self.refused = 0
        self.idle_alerts = 0
        self.journal_lost = 0                                   # records recovery could not read
        self.changes = 0
        self.closed_days = []                                   # (day, served) of past days

    def served_wait(self, s, wait, within):
        _inc(self.wait_sum, s, max(wait, 0), 0xFFFFFFFF)
        _inc(self.within_max_wait, s, 1 if within else 0)
        self.changes += 1

    def estimates(self, estimate, wait):
        self.estimate_abs_error += abs(estimate - max(wait, 0))
        self.estimate_count += 1

    def served(self, s, w, duration, staff=None):
        if staff is not None:
            self.staff_served[staff] = self.staff_served.get(staff, 0) + 1
        _inc(self.served_count, s)
        _inc(self.service_sum, s, max(duration, 0), 0xFFFFFFFF)
        _inc(self.window_served, w)
        _inc(self.window_busy, w, max(duration, 0), 0xFFFFFFFF)
        self.changes += 1

    def ended(self, s, how):
        _inc(self.ends, 5 * s + how)
        self.changes += 1

    def early_stop(self, w):
        _inc(self.early_stops, w)
        self.changes += 1

    def rating(self, staff, w, s, level):
        _inc(self.window_ratings, 6 * w + level)
        _inc(self.service_ratings, 6 * s + level)
        counts = self.staff_ratings.get(staff)
        if counts is None:
            counts = self.staff_ratings[staff] = array("H", bytes(12))
        _inc(counts, level)
        self.changes += 1

    def close_day(self, day):
        total = 0
        for s in range(len(self.served_count)):
            total += self.served_count[s]
        self.closed_days.append((day, total))
        if len(self.closed_days) > 31:
            self.closed_days.pop(0)
        for arr in (self.issued, self.served_count, self.within_max_wait, self.wait_sum,
                    self.service_sum, self.ends, self.window_served, self.window_busy,
                    self.early_stops, self.window_ratings, self.service_ratings):
            for k in range(len(arr)):
                arr[k] = 0
        self.staff_ratings = {}
        self.staff_served = {}
        self.estimate_abs_error = self.estimate_count = self.refused = self.idle_alerts = 0
        self.journal_lost = 0

    def state(self):
        # (rejected ratings are not here: they are refused before the journal, see RoutingCore)
        return (self.issued, self.served_count, self.within_max_wait, self.wait_sum,
                self.service_sum, self.ends, self.window_served, self.window_busy,
                self.early_stops, self.window_ratings, self.service_ratings,
                dict(self.staff_ratings), self.estimate_abs_error, self.estimate_count,
                self.refused, self.idle_alerts, self.changes, list(self.closed_days),
                dict(self.staff_served), self.journal_lost)

    def restore(self, st):
        (self.issued, self.served_count, self.within_max_wait, self.wait_sum, self.service_sum,
         self.ends, self.window_served, self.window_busy, self.early_stops, self.window_ratings,
         self.service_ratings, staff, self.estimate_abs_error, self.estimate_count,
         self.refused, self.idle_alerts, self.changes, closed, served, self.journal_lost) = st
        self.staff_ratings = dict(staff)
        self.staff_served = dict(served)
        self.closed_days = [tuple(c) for c in closed]
