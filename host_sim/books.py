"""The simulators' one book-keeper: the day's record of every ticket from what the hub's core
says (issued, called, how it ended, the alerts), the hub's own books read through its day
summary, and the check that a hub that lost power came back exactly as its journal holds."""
from dataclasses import dataclass, field

from firmware.routing.config import S_PREFIX
from firmware.routing.core import RoutingCore
from protocol.codes import EARLY_CLOSE, FINISHED, TRANSFERRED


@dataclass(slots=True)          # a city's day holds 12,000; the planner copies them hourly
class Ticket:
    service: str
    name: str
    issued: int
    kind: int
    naive: int
    how: int = -1                  # codes as in RoutingCore's "ended" output; -1 still open
    wait: int = 0
    estimate: int = 0
    voided: bool = False           # the printer failed: the hub voided it
    called: int = -1               # when it was first called (UTC seconds), -1 not yet
    gone: bool = False             # its holder gave up and left (the hall may not know it)


@dataclass
class DayResult:
    scenario: str
    tickets: list = field(default_factory=list)
    refused: int = 0
    arrivals: int = 0                                   # citizens who came for a ticket
    ratings: list = field(default_factory=list)        # (window number, staff, service, level)
    rating_rejects: int = 0
    alerts: dict = field(default_factory=dict)          # kind -> count
    days: list = field(default_factory=list)            # the hub's day summaries (days.bin)
    busy: dict = field(default_factory=dict)            # window number -> seconds serving
    staffed: dict = field(default_factory=dict)         # window number -> seconds open
    queue: list = field(default_factory=list)           # (seconds since midnight, waiting)
    early_stops: int = 0
    hub_restarts: int = 0
    estimate_error: float = 0.0
    naive_error: float = 0.0
    checks: dict = field(default_factory=dict)         # frame level: what people saw vs the books


class Books:
    def __init__(self, result, core):
        self.result = result        # a DayResult, filled as the day goes
        self.core = core            # the hub's core (replaced when the hub restarts)
        self.tickets = {}           # name -> Ticket
        self.first_calls = []       # every ticket's first call, in order (a repeat: a bug)
        self.reused = []            # ticket names the hub gave out twice in a day (a bug)

    def absorb(self, now, outputs):
        # What the core said at `now`; returns the name of the ticket it issued, if any.
        core = self.core
        result = self.result
        issued = None
        for o in outputs:
            kind = o[0]
            if kind == "issued":
                issued = core.ticket_name(o[1], o[2])
                known = self.tickets.get(issued)
                if known is not None and known.issued != o[7]:
                    self.reused.append(issued)        # (a repeated answer has the same time)
                elif known is not None:
                    continue
                self.tickets[issued] = Ticket(core.cfg.services[o[1]][S_PREFIX], issued, now,
                                              o[3], core.naive_estimate(o[1], o[4]))
            elif kind == "ended":
                ticket = self.tickets.get(core.ticket_name(o[1], o[2]))
                if ticket is not None and o[3] != TRANSFERRED:   # transfers live on renumbered
                    ticket.how, ticket.wait, ticket.estimate = o[3], o[4], o[5]
            elif kind == "called" and o[4] == 0:
                name = core.ticket_name(o[2], o[3])
                self.first_calls.append(name)
                ticket = self.tickets.get(name)
                if ticket is not None and ticket.called < 0:
                    ticket.called = now
            elif kind == "alert":
                result.alerts[o[1]] = result.alerts.get(o[1], 0) + 1
                if o[1] == EARLY_CLOSE:
                    result.early_stops += 1
        return issued

    def restart(self, hall, storage, now):
        # The hub loses power and comes back: everything it knows comes from its journal, which
        # must give back exactly what it held, with no record skipped.
        before = self.core.fingerprint()
        core = RoutingCore.recover(hall, storage, now)
        if core.fingerprint() != before or core.replay_skipped:
            raise AssertionError("the hub came back different from its journal")
        self.core = core
        self.result.hub_restarts += 1
        return core

    def close_day(self, now, archive=None):
        # Close of business at the hub, and the day's books balanced: every ticket issued has
        # ended one way or another (whoever still waited is unserved), none lost.
        # archive: where the hub's day summary goes (the day archive's add).
        core = self.core
        books = totals(core)
        core.out = []
        core.on_day_closed = archive
        core.close_day(now)
        unserved = sum(1 for o in core.out if o[0] == "ended")
        self.absorb(now, core.out)
        core.out = []
        books["unserved_at_close"] = unserved
        books["ended"] += unserved
        books["lost"] = books["issued"] - books["ended"]
        return books

    def close(self):
        # The day's tickets and the estimate's error against the naive one, for the report.
        result = self.result
        result.tickets = list(self.tickets.values())
        served = [t for t in result.tickets if t.how == FINISHED]
        if served:
            result.estimate_error = sum(abs(t.estimate - t.wait) for t in served) / len(served)
            result.naive_error = sum(abs(t.naive - t.wait) for t in served) / len(served)
        return result


def totals(core):
    """What the hub's books say of the day so far: tickets issued, tickets that left the
    queues (any end), tickets finished, ratings recorded, ratings refused."""
    day = core.day_summary()
    return {"issued": sum(day["issued"]), "ended": sum(day["ends"]), "finished": sum(day["served"]),
            "ratings": sum(sum(levels) for levels in day["staff_ratings"].values()),
            "rating_rejects": sum(day["rating_rejects"])}
