# The core's journal (routing/journal.py) at work: every operation written before it is applied
# and returned, replay after a restart re-executes them, damage stepped over and reported, a
# failed write undone and retried, and the journal compacted into a verified snapshot. The
# operations are journalled as (op, now, args...) with the numbers below.
from firmware.routing import journal as jr
from firmware.routing.stats import sat16
from protocol.codes import (REFUSED, NOT_JOURNALLED, HUB_STORAGE, RATING_NOT_JOURNALLED,
    JOURNAL_DAMAGED, JOURNAL_FAILED, NONE)
from protocol.compat import const

OP_ISSUE = const(0)
OP_CALL_NEXT = const(1)
OP_CALL_TICKET = const(2)
OP_RECALL = const(3)
OP_START = const(4)
OP_FINISH = const(5)
OP_NO_SHOW = const(6)
OP_HOLD = const(7)
OP_CALL_BACK = const(8)
OP_TRANSFER = const(9)
OP_CANCEL = const(10)
OP_WINDOW_OPEN = const(11)
OP_PAUSE = const(12)
OP_RESUME = const(13)
OP_WINDOW_CLOSE = const(14)
OP_LOGIN = const(15)
OP_LOGOUT = const(16)
OP_RATE = const(17)
OP_TICK = const(18)
OP_CLOSE_DAY = const(19)

# The method that applies each operation (index = op), live and in replay.
METHODS = ("_issue", "_call_next", "_call_ticket", "_recall", "_start", "_finish", "_no_show",
           "_hold", "_call_back", "_transfer", "_cancel", "_window_open", "_pause", "_resume",
           "_window_close", "_login", "_logout", "_rate", "_tick", "_close_day")


def carries_req(op):
    # Operations a device requests end in (device, req): remembered, answered again if repeated.
    return op <= OP_LOGOUT and op != OP_CANCEL


RETRY_MIN_S = 10         # after a failed write, timers wait this long (doubling) to try again
RETRY_MAX_S = 300


class Durable:
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
        self._roll_day(now, op != OP_CLOSE_DAY)
        if op == OP_ISSUE:
            args = args[:3] + self._issue_number(now, args[0], args[1], args[2]) + args[3:]
        elif op == OP_CALL_NEXT:
            args = (args[0], self._call_hint(now, args[0])) + args[1:]
        if not self._log(op, now, args):
            return self._not_journalled(op, args)
        result = self._exec(op, now, args)
        if op == OP_CLOSE_DAY or self.day != day or self.journal_records >= self.compact_every:
            self.compact()                    # snapshot plus tail: bounded over days
        return result

    def _not_journalled(self, op, args):
        if op == OP_ISSUE:
            self.out.append(("refused", args[0], HUB_STORAGE))
            return REFUSED
        if op == OP_RATE:
            self.out.append(("rating_result", args[0], args[1], RATING_NOT_JOURNALLED))
            return RATING_NOT_JOURNALLED
        return NOT_JOURNALLED

    def _exec(self, op, now, args):
        # Apply one operation (live or in replay). Operations that carry (device, req) as their
        # last arguments are remembered, so a repeated request is answered, not re-executed.
        apply = getattr(self, METHODS[op])
        if carries_req(op):
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
            core.stats.journal_lost = sat16(core.stats.journal_lost + lost)
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
                    self._roll_day(value[1], value[0] != OP_TICK and value[0] != OP_CLOSE_DAY)
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
        type(self).__init__(self, self.cfg, self.storage, now)
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
