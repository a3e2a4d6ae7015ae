"""The simulated hall against queueing theory and against a peer: an M/M/c hall (Poisson
arrivals, exponential service, c identical windows, one service, no priorities) reproduces the
Erlang C mean wait within its confidence interval, and a SimPy model of the same queue agrees."""
import functools
import math
import random
import statistics

import pytest
import simpy

from host_sim import scenario as scenarios
from host_sim.hallday import HallDay

SERVICE_MIN = 5
WINDOWS = 10           # ten windows: at rho = 0.95 a queue that starts empty settles within the
                       # warm-up (relaxation time ~ 1 / (c mu (1 - sqrt(rho))^2)); with three it
                       # would still be filling at noon, and every model (SimPy too) reads low
WARM_UP_H = 3          # tickets issued in the first hours (queue still filling) are not counted
DAY_H = 13


def erlang_c_wait(c, lam, mu):
    # Mean wait in queue of M/M/c (seconds when rates are per second).
    a = lam / mu
    rho = a / c
    top = a ** c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def mmc(rho, seed):
    per_hour = rho * WINDOWS * 60 / SERVICE_MIN
    doc = {
        "scenario": {"name": "M/M/c", "start": "05:00", "end": "%02d:00" % (5 + DAY_H), "seed": seed},
        "hall": {"services": [{"prefix": "A", "open": "05:00", "close": "18:00",
                               "last_ticket": "18:00", "service_min": SERVICE_MIN,
                               "max_wait_min": 1440, "quota": 9999}],
                 "windows": [{"number": n, "services": ["A"]} for n in range(1, WINDOWS + 1)],
                 "staff": {"S%d" % n: "s" for n in range(1, WINDOWS + 1)}},
        "arrivals": {"A": [["05:00", per_hour]]},
        "service_times": {"A": {"mean_min": SERVICE_MIN, "cv": 1.0}},
        "roster": [{"window": n, "staff": "S%d" % n, "from": "05:00", "to": "18:00"}
                   for n in range(1, WINDOWS + 1)],
        "ratings": {"share": 0},
        "people": {"walk_s": [0, 0], "react_s": [0, 0]},     # a textbook queue
    }
    return scenarios.parse(doc, "mmc.toml")


@functools.lru_cache(maxsize=None)      # both tests use the same simulated days
def day_mean_wait(rho, seed):
    sc = mmc(rho, seed)
    result = HallDay(sc).run()
    start = sc.at(sc.start) + WARM_UP_H * 3600
    stop = sc.at(sc.end) - 3 * 3600            # late tickets may still be waiting at close
    waits = [t.wait for t in result.tickets if t.how == 0 and start <= t.issued < stop]
    return statistics.mean(waits)


def simpy_mean_wait(rho, seed):
    rng = random.Random(seed)
    lam = rho * WINDOWS / (SERVICE_MIN * 60)
    env = simpy.Environment()
    windows = simpy.Resource(env, capacity=WINDOWS)
    waits = []

    def citizen(env):
        arrived = env.now
        with windows.request() as req:
            yield req
            if WARM_UP_H * 3600 <= arrived < (DAY_H - 3) * 3600:
                waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1 / (SERVICE_MIN * 60)))

    def arrivals(env):
        while True:
            yield env.timeout(rng.expovariate(lam))
            env.process(citizen(env))

    env.process(arrivals(env))
    env.run(until=DAY_H * 3600)
    return statistics.mean(waits)


def interval(values):
    mean = statistics.mean(values)
    return mean, 2.0 * statistics.stdev(values) / math.sqrt(len(values))   # ~95%


@pytest.mark.parametrize("rho,days", [(0.5, 8), (0.8, 12), (0.95, 24)])
def test_mmc_hall_matches_erlang_c(rho, days):
    theory = erlang_c_wait(WINDOWS, rho * WINDOWS / (SERVICE_MIN * 60), 1 / (SERVICE_MIN * 60))
    mean, half = interval([day_mean_wait(rho, seed) for seed in range(1, days + 1)])
    assert abs(mean - theory) <= half + 0.05 * theory, (rho, mean, half, theory)


@pytest.mark.parametrize("rho", [0.8, 0.95])
def test_simpy_model_of_the_same_queue_agrees(rho):
    days = 12 if rho < 0.9 else 24
    ours, ours_half = interval([day_mean_wait(rho, seed) for seed in range(1, days + 1)])
    peer, peer_half = interval([simpy_mean_wait(rho, 1000 + seed) for seed in range(days)])
    assert abs(ours - peer) <= math.hypot(ours_half, peer_half) + 0.05 * peer, (ours, peer)
