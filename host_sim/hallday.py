"""A simulated day in a hall, ticket by ticket, driving the real routing core in virtual time.

Events come from the simulator's one scheduler (host_sim/events.py), at the same time in the
order of their kind, then as pushed, so a seed fixes the whole day; the day's record is kept
by the one book-keeper (host_sim/books.py). Citizens arrive by a Poisson process whose rate changes
through the day, take a ticket, and give up after an exponential patience; staff open their
windows by the roster, call as soon as they are free, take breaks once the current citizen is
done, and close at the end of their shift; served citizens rate at the window's evaluator.
"""
import math
import random

from firmware.routing.core import RoutingCore
from firmware.routing.journal import MemoryStorage
from firmware.routing.config import S_PREFIX
from host_sim import people
from host_sim.books import Books, DayResult
from host_sim.events import Scheduler
from host_sim.scenario import Shift, draw
from protocol.codes import OK, FINISHED, CANCELLED, UNSERVED, PRIORITY

SHIFT, DONE, ARRIVE, GIVE_UP, TICK, SAMPLE, RESTART, CALL, STAFF = range(9)


def next_arrival(sc, rng, prefix, t):
    # The next arrival for a service after t (UTC seconds), or None before the day's end: a
    # Poisson process whose rate steps through the day; draw within the current step, or jump
    # to the next.
    steps = sc.arrivals[prefix]
    end = sc.at(sc.end)
    while t < end:
        rate = 0.0
        for start, per_hour in steps:
            if t - sc.midnight >= start:
                rate = per_hour
        later = [sc.at(s) for s, _ in steps if sc.at(s) > t]
        boundary = min(later) if later else end
        if rate > 0:
            gap = rng.expovariate(rate / 3600.0)
            if t + gap < boundary:
                return t + gap
        t = boundary
    return None


def service_time(rng, mean, cv):
    # Exponential for cv = 1, else lognormal with that mean and coefficient of variation.
    if cv == 1.0:
        return rng.expovariate(1 / mean)
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def service_for(sc, rng, prefix):
    # Seconds a citizen of this service keeps the window busy once there (at least one), as
    # the scenario's service_times say, at every level.
    mean, cv = sc.service_times[prefix]
    return max(1.0, service_time(rng, mean, cv))


class Nowhere(MemoryStorage):
    # Storage that keeps nothing.
    def append(self, chunk):
        self.appends += 1

    def replace(self, chunks, aside=False):
        for _ in chunks:
            pass


class HallDay:
    SAMPLE_S = 300

    def __init__(self, scenario, progress=None, staffing=None, estimates=True, order=None,
                 journal=True):
        # The citizen's walk and the staff's reaction: the scenario's [people] (0 for a
        # textbook queue), drawn as the frame level draws them.
        # staffing: instead of the scenario's roster, {hour: windows open} (hours since local
        # midnight; the first k windows of `order`, hall order by default, are open, staff by
        # their names' order), read as each hour begins, so a planner may change an hour not
        # yet begun.
        # estimates=False: the core prints no wait estimates (the waits are the same).
        # journal=False: the journal's records are written nowhere (a day with no restarts
        # reads none back; the planner copies its days every hour).
        self.sc = scenario
        self.rng = random.Random(scenario.seed)
        # the hub's flash: it survives a restart
        self.storage = MemoryStorage() if journal else Nowhere()
        self.core = RoutingCore(scenario.hall, self.storage, now=scenario.at(scenario.start),
                                estimates=estimates)
        self.staffing = staffing
        self.order = list(order or scenario.hall.numbers)
        self.on = {}                # window number -> its Shift, while staffed by `staffing`
        self.events = Scheduler()
        self.result = DayResult(scenario.name)
        self.books = Books(self.result, self.core)
        self.tickets = self.books.tickets           # name -> Ticket
        self.serving = {}           # window number -> (ticket name, started at)
        self.pending = {}           # window number -> "pause" | "close" (when the citizen is done)
        self.opened = {}            # window number -> when it last opened (for utilisation)
        self.progress = progress

    def push(self, when, kind, arg=None):
        # At the same time, events go in the order of their kind; staffing as shifts do.
        self.events.push(when, kind, arg, priority=SHIFT if kind == STAFF else kind)

    def run(self):
        self.begin()
        self.advance(self.sc.at(self.sc.end))
        return self.finish()

    def begin(self):
        sc = self.sc
        if self.staffing is None:
            for shift in sc.roster:
                self.push(sc.at(shift.start), SHIFT, ("start", shift))
                for b_from, b_to in shift.breaks:
                    self.push(sc.at(b_from), SHIFT, ("break", shift))
                    self.push(sc.at(b_to), SHIFT, ("back", shift))
                self.push(sc.at(shift.end), SHIFT, ("end", shift))
        else:
            self.push(sc.at(sc.start), STAFF)
            for hour in range(sc.start // 3600 + 1, (sc.end + 3599) // 3600):
                self.push(sc.at(hour * 3600), STAFF)
        for prefix in sc.arrivals:
            self._next_arrival(prefix, sc.at(sc.start))
        self.push(sc.at(sc.start), TICK)
        self.push(sc.at(sc.start), SAMPLE)
        for _ in range(sc.hub_restarts):
            self.push(self.rng.uniform(sc.at(sc.start), sc.at(sc.end)), RESTART)

    def advance(self, until):
        # Every event up to `until` (UTC seconds, at most the day's end).
        sc = self.sc
        end = sc.at(sc.end)
        until = min(until, end)
        while self.events.due(until):
            when, kind, arg = self.events.pop()
            now = int(when)
            if kind == SHIFT:
                self._shift(now, *arg)
            elif kind == DONE:
                self._done(when, arg)
            elif kind == ARRIVE:
                self._arrive(now, arg, when)
            elif kind == GIVE_UP:
                if self.tickets[arg].how < 0 and self.core.cancel(now, arg) == OK:
                    self.tickets[arg].gone = True
                    self._absorb(now)
            elif kind == TICK:
                self.core.tick(now)
                self._absorb(now)
                self.push(now + 60, TICK)
            elif kind == RESTART:
                self._restart(now)
            elif kind == CALL:
                self._call(when, arg)
            elif kind == STAFF:
                self._staff(now)
            elif kind == SAMPLE:
                waiting = sum(self.core.waiting(s) for s in range(sc.hall.service_count()))
                self.result.queue.append((now - sc.midnight, waiting))
                self.push(now + self.SAMPLE_S, SAMPLE)
                if self.progress is not None:
                    self.progress((now - sc.at(sc.start)) / (end - sc.at(sc.start)))

    def finish(self):
        end = self.sc.at(self.sc.end)
        for window, (name, started) in self.serving.items():   # staff stop where the day ends
            self.result.busy[window] = self.result.busy.get(window, 0) + end - started
        self.core.on_day_closed = self.result.days.append
        self.core.close_day(end)
        self._absorb(end)
        return self.books.close()

    def _restart(self, now):
        # The hub loses power and comes back: everything it knows comes from its journal.
        self.core = self.books.restart(self.sc.hall, self.storage, now)

    # ---- citizens ----------------------------------------------------------------------------

    def _next_arrival(self, prefix, t):
        at = next_arrival(self.sc, self.rng, prefix, t)
        if at is not None:
            self.push(at, ARRIVE, prefix)

    def _arrive(self, now, arg, when):
        # arg: a service prefix (the next Poisson arrival is drawn), or ("again", prefix) for a
        # citizen whose ticket did not print and who takes another. The next arrival is drawn
        # from this one's exact time `when`: from the core's whole second `now`, every gap
        # came out half a second short (4% more people at 324 an hour, 11% at a city's rates).
        retry = isinstance(arg, tuple)
        prefix = arg[1] if retry else arg
        if not retry:
            self.result.arrivals += 1
            self._next_arrival(prefix, when)
        core = self.core
        kind = PRIORITY if self.rng.random() < self.sc.priority_share else 0
        result = core.issue(now, prefix, kind=kind)
        name = self._absorb(now)
        if result != OK:
            self.result.refused += 1
            return
        if self.sc.print_failures and self.rng.random() < self.sc.print_failures:
            self.tickets[name].voided = True           # the printer failed: the hub voids it
            core.cancel(now, name)
            self._absorb(now)
            self.push(now + 30, ARRIVE, ("again", prefix))
            return
        if self.sc.patience_s:
            self.push(when + self.rng.expovariate(1 / self.sc.patience_s), GIVE_UP, name)
        s = core.service_index(prefix)
        for window in self.sc.hall.numbers:    # idle staff whose board shows the newcomer call
            w = core.cfg.window(window)
            if window not in self.serving and core.is_open(w) and core.is_idle(w) \
                    and s in core.window_services(w):
                self._notice(when, window)

    # ---- staff -------------------------------------------------------------------------------

    def _shift(self, now, action, shift):
        core = self.core
        window = shift.window
        if action == "start":
            core.window_open(now, window)
            core.login(now, window, shift.staff)
            self._open_since(window, now)
            self._notice(now, window)
        elif action == "back":
            core.resume(now, window)
            self._open_since(window, now)
            self._notice(now, window)
        elif window in self.serving:
            self.pending[window] = "pause" if action == "break" else "close"
        else:
            self._leave(now, window, "pause" if action == "break" else "close")
        self._absorb(now)

    def _staff(self, now):
        # The hour's staffing: the first k windows open, the others close once their citizen
        # is done (and reopen at once if wanted again before then).
        sc = self.sc
        count = self.staffing.get((now - sc.midnight) // 3600, 0)
        names = sorted(sc.hall.staff)
        for k, number in enumerate(self.order):
            if k < count and number not in self.on:
                shift = Shift(number, names[k % len(names)], 0, 0)
                self.on[number] = shift
                if self.pending.get(number) == "close":
                    del self.pending[number]
                else:
                    self._shift(now, "start", shift)
            elif k >= count and number in self.on:
                self._shift(now, "end", self.on.pop(number))

    def _open_since(self, window, now):
        self.opened[window] = now

    def _leave(self, now, window, how):
        core = self.core
        (core.pause if how == "pause" else core.window_close)(now, window)
        opened = self.opened.pop(window, None)
        if opened is not None:
            self.result.staffed[window] = self.result.staffed.get(window, 0) + now - opened
        self._absorb(now)

    def _notice(self, when, window):
        # Staff see their board change and act once they have noticed it.
        react = draw(self.rng, self.sc.react_s)
        if react:
            self.push(when + react, CALL, window)
        else:
            self._call(when, window)

    def _call(self, when, window):
        # The simulation keeps exact times and the core its whole seconds (as a hub's clock):
        # waits measured as the difference of two whole seconds come out right on average,
        # and a service that started at the core's whole second instead of when the citizen
        # came would be cut short by half a second each time (3% of the wait at rho 0.95).
        now = int(when)
        core = self.core
        w = core.cfg.window(window)
        if window in self.serving or not core.is_open(w) or not core.is_idle(w) \
                or not core.window_view(w)[4]:
            return                            # staff call when their board shows people waiting
        if core.call_next(now, window) != OK:
            self._absorb(now)
            return
        name = core.window_view(w)[2]
        s = core.parse_ticket(name)[0]
        self._absorb(now)
        start = when + draw(self.rng, self.sc.walk_s)
        core.start(int(start), window)
        duration = service_for(self.sc, self.rng, self.sc.hall.services[s][S_PREFIX])
        self.serving[window] = (name, int(start))
        self.push(start + duration, DONE, window)

    def _done(self, when, window):
        now = int(when)
        core = self.core
        name, started = self.serving.pop(window)
        self.result.busy[window] = self.result.busy.get(window, 0) + now - started
        core.finish(now, window)
        self._absorb(now)
        # a served citizen rates at the window's evaluator, where the window has one
        if self.rng.random() < self.sc.rating_share and \
                core.cfg.evaluator[core.cfg.window(window)] is not None:
            level, reason = people.rating(self.rng, self.sc.rating_weights,
                                          core.cfg.reason_required_from)
            reasons = () if reason is None else (1 + reason,)
            w = core.cfg.window(window)
            staff = core.window_view(w)[5] or None
            if core.rate(now + 5, window, name, level, reasons, core.cfg.evaluator[w]) == 0:
                self.result.ratings.append((window, staff, self.tickets[name].service, level))
            else:
                self.result.rating_rejects += 1
            self._absorb(now)
        if window in self.pending:
            self._leave(now, window, self.pending.pop(window))
        else:
            self._notice(when, window)

    # ---- what the core said ------------------------------------------------------------------

    def _absorb(self, now):
        # The core's outputs into the day's record; the name of a ticket issued, if any.
        core = self.core
        issued = self.books.absorb(now, core.out)
        core.out = []
        return issued


ENDS = {FINISHED: "finished", 1: "no-show", CANCELLED: "gave up", 3: "transferred",
        UNSERVED: "unserved at close", -1: "open"}
