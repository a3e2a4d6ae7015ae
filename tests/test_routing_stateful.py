"""Random sequences of hall operations against the routing core, with the invariants checked
after every step (hypothesis stateful testing)."""
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from firmware.routing.core import RoutingCore
from protocol.codes import OK, ORDINARY, PRIORITY, APPOINTMENT, NONE
from hall import at, config

PREFIXES = ("A", "B", "C")
WINDOWS = (1, 2, 3)


class Hall(RuleBasedStateMachine):
    @initialize()
    def open(self):
        self.now = at("09:00")
        self.core = RoutingCore(config(recall_limit=1, recall_timeout_s=60), now=self.now)
        for window in WINDOWS:                 # a hall at work; rules may pause or close windows
            self.core.window_open(self.now, window)
            self.core.login(self.now, window, "S%d" % window)
        self.core.out = []
        self.ended = set()

    def step(self, seconds):
        self.now += seconds

    def waiting_entries(self):
        # (service, number, class, issued) of every ticket in the waiting rings.
        core = self.core
        out = []
        for q in range(core.queues.count):
            for number, issued, est in core.queues.entries(q):
                out.append((q // 2, number, q & 1, core._abs(issued)))
        return out

    def all_tickets(self):
        core = self.core
        tickets = [(s, n) for s, n, c, i in self.waiting_entries()]
        tickets += [(a[1], a[2]) for a in core.appointments]
        tickets += [(t[1], t[2]) for t in core.transfers]
        tickets += [(h[1], h[2]) for h in core.held]
        tickets += [(core.cur_service[w], core.cur_number[w]) for w in range(3)
                    if core.cur_service[w] != NONE]
        return tickets

    def absorb(self):
        for o in self.core.out:
            if o[0] == "ended" and o[3] != 3:          # transferred tickets live on renumbered
                self.ended.add((o[1], o[2]))
        self.core.out = []

    @rule(prefix=st.sampled_from(PREFIXES), kind=st.sampled_from((ORDINARY, ORDINARY, PRIORITY)),
          dt=st.integers(0, 40))
    def issue(self, prefix, kind, dt):
        self.step(dt)
        self.core.issue(self.now, prefix, kind=kind)
        self.absorb()

    @rule(prefix=st.sampled_from(PREFIXES), ahead=st.integers(-40, 40))
    def appointment(self, prefix, ahead):
        self.core.issue(self.now, prefix, kind=APPOINTMENT, slot=self.now + ahead * 60)
        self.absorb()

    @rule(window=st.sampled_from(WINDOWS), dt=st.integers(0, 90))
    def call_next(self, window, dt):
        self.step(dt)
        core = self.core
        w = core.cfg.window(window)
        before = self.waiting_entries()
        transfers = list(core.transfers)
        due = [a for a in core.appointments if a[0] - core.cfg.appointment_grace_s <= self.now]
        services = core.window_services(w)
        result = core.call_next(self.now, window)
        calls = [o for o in core.out if o[0] == "called"]
        self.absorb()
        if result != OK:
            return
        s, number = calls[0][2], calls[0][3]
        mine = [e for e in before if e[0] in services]
        picked = [e for e in mine if e[0] == s and e[1] == number]
        if not picked:                                  # a transfer or an appointment
            assert any(t[1] == s and t[2] == number for t in transfers) or \
                any(a[1] == s and a[2] == number for a in due)
            return
        _, _, cls, issued = picked[0]
        assert not any(t[0] == window or (t[0] == 0 and t[1] in services) for t in transfers), \
            "a transfer for this window was passed"
        # within a service and class, issue order
        assert not any(e[0] == s and e[2] == cls and e[1] < number for e in mine)
        if cls == ORDINARY:
            # a priority ticket is never passed by an ordinary one at a window serving it
            assert not any(e[2] == PRIORITY for e in mine)
            # aging: tickets past their service's maximum wait go first, oldest first
            aged = [e for e in mine if e[2] == ORDINARY and
                    self.now - e[3] >= core.cfg.services[e[0]][8]]
            if aged:
                assert issued == min(e[3] for e in aged)

    @rule(window=st.sampled_from(WINDOWS), op=st.sampled_from(
        ("recall", "start", "finish", "no_show", "hold", "window_open", "pause", "resume",
         "window_close", "logout")), dt=st.integers(0, 60))
    def window_op(self, window, op, dt):
        self.step(dt)
        getattr(self.core, op)(self.now, window)
        self.absorb()

    @rule(window=st.sampled_from(WINDOWS))
    def login(self, window):
        self.core.login(self.now, window, "S%d" % window)
        self.absorb()

    @rule(window=st.sampled_from(WINDOWS), prefix=st.sampled_from(PREFIXES),
          to_window=st.sampled_from((0, 1, 2, 3)))
    def transfer(self, window, prefix, to_window):
        self.core.transfer(self.now, window, prefix, to_window)
        self.absorb()

    @precondition(lambda self: self.all_tickets())
    @rule(data=st.data(), window=st.sampled_from(WINDOWS))
    def call_specific_or_back(self, data, window):
        s, n = data.draw(st.sampled_from(self.all_tickets()))
        name = self.core.ticket_name(s, n)
        if data.draw(st.booleans()):
            self.core.call_ticket(self.now, window, name)
        else:
            self.core.call_back(self.now, window, name)
        self.absorb()

    @precondition(lambda self: self.all_tickets())
    @rule(data=st.data())
    def cancel(self, data):
        s, n = data.draw(st.sampled_from(self.all_tickets()))
        self.core.cancel(self.now, self.core.ticket_name(s, n))
        self.absorb()

    @rule(window=st.sampled_from(WINDOWS), level=st.integers(1, 5), dt=st.integers(0, 60))
    def rate(self, window, level, dt):
        self.step(dt)
        done = self.core.last_done[self.core.cfg.window(window)]
        ticket = self.core.ticket_name(done[0], done[1]) if done else "A001"
        self.core.rate(self.now, window, ticket, level, (1,), "eval-%d" % window)
        self.absorb()

    @rule(dt=st.integers(1, 400))
    def tick(self, dt):
        self.step(dt)
        self.core.tick(self.now)
        self.absorb()

    @invariant()
    def each_ticket_is_in_exactly_one_place(self):
        tickets = self.all_tickets()
        assert len(tickets) == len(set(tickets)), sorted(tickets)
        assert not set(tickets) & self.ended, set(tickets) & self.ended

    @invariant()
    def no_ticket_is_called_at_two_windows(self):
        core = self.core
        current = [(core.cur_service[w], core.cur_number[w]) for w in range(3)
                   if core.cur_service[w] != NONE]
        assert len(current) == len(set(current))

    @invariant()
    def counters_match_the_queues(self):
        core = self.core
        for q in range(core.queues.count):
            assert core.queues.live[q] == len(list(core.queues.entries(q)))

    @invariant()
    def replaying_the_journal_gives_the_live_state(self):
        again = RoutingCore.recover(self.core.cfg, self.core.storage, self.now)
        assert again.replay_skipped == 0
        assert again.fingerprint() == self.core.fingerprint()


Hall.TestCase.settings = settings(max_examples=80, stateful_step_count=50, deadline=None,
                                  derandomize=True)
TestHall = Hall.TestCase
