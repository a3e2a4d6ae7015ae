"""The same days in peer simulators (Ciw, SimPy): the textbook M/M/c day and a hall-like day,
for the peer checks (tests/test_peers.py) and the speed figures (tools/bench.py sim).

The hall-like day: services A, B and C; windows 1-3 serve A and B, windows 4-5 serve C only;
a tenth of the tickets are priority tickets (called first, oldest first, never displacing a
citizen already at a window); citizens give up after an exponential patience if still waiting.
In Ciw that is two nodes (the A/B windows and the C windows), one customer class per service
and kind, two priority classes, and reneging; in the hall it is the real routing core.
"""
import math
import random

from host_sim import scenario as scenarios

HOURS = 4                # of arrivals, from 08:00; the hall stays open until everyone is served
PER_HOUR = {"A": 30, "B": 15, "C": 20}
SERVICE_MIN = {"A": 5, "B": 4, "C": 5}
WINDOWS = {"A": (1, 2, 3), "B": (1, 2, 3), "C": (4, 5)}
PRIORITY_SHARE = 0.1
PATIENCE_MIN = 20


def hall_like(seed):
    numbers = sorted({n for ns in WINDOWS.values() for n in ns})
    doc = {
        "scenario": {"name": "hall-like", "start": "08:00", "end": "16:00", "seed": seed},
        "hall": {"services": [{"prefix": p, "open": "08:00", "close": "16:00",
                               "last_ticket": "16:00", "service_min": SERVICE_MIN[p],
                               "max_wait_min": 1440, "limit_min": 1440, "quota": 9999}
                              for p in PER_HOUR],
                 "windows": [{"number": n, "services": [p for p in WINDOWS if n in WINDOWS[p]]}
                             for n in numbers],
                 "staff": {"S%d" % n: "s" for n in numbers}},
        "arrivals": dict({p: [["08:00", r], ["%02d:00" % (8 + HOURS), 0]]
                          for p, r in PER_HOUR.items()}, priority_share=PRIORITY_SHARE),
        "service_times": {p: {"mean_min": m, "cv": 1.0} for p, m in SERVICE_MIN.items()},
        "roster": [{"window": n, "staff": "S%d" % n, "from": "08:00", "to": "16:00"}
                   for n in numbers],
        "patience": {"mean_min": PATIENCE_MIN},
        "ratings": {"share": 0},
        "people": {"walk_s": [0, 0], "react_s": [0, 0]},
    }
    return scenarios.parse(doc, "hall-like.toml")


class Day:
    # One day's figures by group (a service, or "priority" for every priority ticket):
    # group -> [sum of the served's waits, served, gave up].
    def __init__(self):
        self.groups = {}

    def add(self, service, priority, wait):
        # wait None: gave up
        for group in (service, "priority") if priority else (service,):
            row = self.groups.setdefault(group, [0.0, 0, 0])
            if wait is None:
                row[2] += 1
            else:
                row[0] += wait
                row[1] += 1


def hall_day(seed):
    # The same day through the real routing core (the ticket level).
    from host_sim.hallday import HallDay
    from protocol.codes import FINISHED, CANCELLED, PRIORITY
    day = Day()
    for t in HallDay(hall_like(seed)).run().tickets:
        assert t.how in (FINISHED, CANCELLED), t
        day.add(t.service, t.kind == PRIORITY, t.wait if t.how == FINISHED else None)
    return day


def ciw_hall_like(seed):
    # One day in Ciw.
    import ciw
    groups = [("A", "B"), ("C",)]
    node_of = {p: k for k, g in enumerate(groups) for p in g}
    classes = [p + kind for p in PER_HOUR for kind in ("", "*")]     # "A*": a priority ticket

    def per_node(cls, make):
        return [make() if node_of[cls[0]] == k else None for k in range(len(groups))]

    def arrival(cls):
        share = PRIORITY_SHARE if cls.endswith("*") else 1 - PRIORITY_SHARE
        return per_node(cls, lambda: ciw.dists.Exponential(PER_HOUR[cls[0]] * share / 3600))

    def service(cls):
        return [ciw.dists.Exponential(1 / (SERVICE_MIN[cls[0]] * 60))] * len(groups)

    network = ciw.create_network(
        arrival_distributions={c: arrival(c) for c in classes},
        service_distributions={c: service(c) for c in classes},
        number_of_servers=[len(WINDOWS[g[0]]) for g in groups],
        priority_classes={c: 0 if c.endswith("*") else 1 for c in classes},
        reneging_time_distributions={
            c: [ciw.dists.Exponential(1 / (PATIENCE_MIN * 60))] * len(groups) for c in classes},
        routing={c: [[0.0] * len(groups) for _ in groups] for c in classes})
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(HOURS * 3600 + 6 * 3600)
    day = Day()
    for r in sim.get_all_records():
        if r.arrival_date < HOURS * 3600:
            day.add(r.customer_class[0], r.customer_class.endswith("*"),
                    r.waiting_time if r.record_type == "service" else None)
    return day


def simpy_hall_like(seed):
    # One day in SimPy: a priority resource per group of windows, reneging as a race between
    # the window and the citizen's patience.
    import simpy
    rng = random.Random(seed)
    env = simpy.Environment()
    pools = {p: None for p in PER_HOUR}
    for group in (("A", "B"), ("C",)):
        pool = simpy.PriorityResource(env, capacity=len(WINDOWS[group[0]]))
        for p in group:
            pools[p] = pool
    day = Day()

    def citizen(env, p, priority):
        arrived = env.now
        with pools[p].request(priority=0 if priority else 1) as req:
            patience = env.timeout(rng.expovariate(1 / (PATIENCE_MIN * 60)))
            got = yield req | patience
            if req not in got:
                day.add(p, priority, None)
                return
            day.add(p, priority, env.now - arrived)
            yield env.timeout(rng.expovariate(1 / (SERVICE_MIN[p] * 60)))

    def arrivals(env, p):
        while True:
            yield env.timeout(rng.expovariate(PER_HOUR[p] / 3600))
            if env.now >= HOURS * 3600:
                return
            env.process(citizen(env, p, rng.random() < PRIORITY_SHARE))

    for p in PER_HOUR:
        env.process(arrivals(env, p))
    env.run()
    return day


def ciw_mmc(c, rho, hours, service_min, seed):
    # The textbook day in Ciw: (sum of waits, tickets) of those who arrived in `hours`.
    import ciw
    mean = service_min * 60
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rho * c / mean)],
        service_distributions=[ciw.dists.Exponential(1 / mean)], number_of_servers=[c])
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(hours * 3600 + 4 * 3600)
    waits = [r.waiting_time for r in sim.get_all_records() if r.arrival_date < hours * 3600]
    return sum(waits), len(waits)


def simpy_mmc(c, rho, hours, service_min, seed):
    # The textbook day in SimPy: (sum of waits, tickets) of those who arrived in `hours`.
    import simpy
    rng = random.Random(seed)
    mean = service_min * 60
    env = simpy.Environment()
    windows = simpy.Resource(env, capacity=c)
    waits = []

    def citizen(env):
        arrived = env.now
        with windows.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1 / mean))

    def arrivals(env):
        while True:
            yield env.timeout(rng.expovariate(rho * c / mean))
            if env.now >= hours * 3600:
                return
            env.process(citizen(env))

    env.process(arrivals(env))
    env.run(until=hours * 3600 + 4 * 3600)
    return sum(waits), len(waits)


def ratio(pairs):
    # sum(x) / sum(y) over days, and its half-interval of three standard errors (linearised).
    n = len(pairs)
    total = sum(x for x, _ in pairs) / max(1e-12, sum(y for _, y in pairs))
    ybar = sum(y for _, y in pairs) / n
    z = [(x - total * y) / ybar for x, y in pairs]
    sd = math.sqrt(sum(v * v for v in z) / (n - 1))
    return total, 3 * sd / math.sqrt(n)
