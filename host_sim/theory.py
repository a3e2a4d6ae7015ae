"""What queueing theory says exactly, for the simulator to be checked against and for the planner
to start from: Erlang C (the steady state of M/M/c) and the transient M/M/c day that opens empty.

An M/M/c hall: Poisson arrivals at rate lam, exponential service at rate mu, c windows, one
queue served first come first served. Rates are per second, waits in seconds.
"""
import math

import numpy as np


def erlang_c_p_wait(c, a):
    # P(an arrival waits) in M/M/c with offered load a = lam / mu Erlangs (1 when c <= a), by
    # the Erlang B recursion, which neither overflows nor loses precision at 60 windows.
    if c <= a:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def erlang_c_wait(c, lam, mu):
    # Mean wait in queue of M/M/c in steady state.
    if lam == 0:
        return 0.0
    if c * mu <= lam:
        return math.inf
    return erlang_c_p_wait(c, lam / mu) / (c * mu - lam)


def erlang_c_within(c, lam, mu, t):
    # P(wait <= t) in M/M/c in steady state.
    if lam == 0:
        return 1.0
    if c * mu <= lam:
        return 0.0
    return 1 - erlang_c_p_wait(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def erlang_c_windows(lam, mu, share, within_s, limit):
    # Fewest c with P(wait <= within_s) >= share in M/M/c, or None when even limit windows
    # do not reach it; 0 when nobody comes.
    if lam == 0:
        return 0
    for c in range(max(1, math.floor(lam / mu)), limit + 1):
        if erlang_c_within(c, lam, mu, within_s) >= share:
            return c
    return None


def transient_mean_wait(c, lam, mu, hours):
    # The expected wait of the citizens who arrive in the first `hours` of a day that opens
    # with nobody waiting, in M/M/c, exactly (to 1e-9 of the value): by PASTA an arrival at
    # time t finds the number in the hall distributed as p(t), and waits
    # (n - c + 1) / (c mu) on average if it finds n >= c; so the mean over the day's arrivals is
    # (1 / T) * integral over [0, T] of sum_n p_n(t) w_n dt. p(t) by uniformisation of the
    # birth-death chain: with L = lam + c mu and P = I + Q / L,
    # integral_0^T p(t) dt = (1 / L) sum_k P(Poisson(L T) > k) p(0) P^k.
    T = hours * 3600.0
    arrivals = lam * T                     # the hall never holds more people than have come
    top = int(arrivals + 12 * math.sqrt(arrivals) + 60) + c
    n = np.arange(top + 1, dtype=float)
    birth = np.full(top + 1, lam)
    birth[-1] = 0.0                        # reached with probability below 1e-30
    death = np.minimum(n, c) * mu
    L = lam + c * mu
    stay = 1 - (birth + death) / L
    up = birth / L
    down = death / L
    x = L * T
    kmax = int(x + 12 * math.sqrt(x) + 60)
    k = np.arange(kmax + 1, dtype=float)
    log_pmf = -x + k * math.log(x) - np.array([math.lgamma(j + 1) for j in range(kmax + 1)])
    tail = np.clip(1 - np.cumsum(np.exp(log_pmf)), 0, None)      # P(Poisson(x) > k)
    p = np.zeros(top + 1)
    p[0] = 1.0
    spent = np.zeros(top + 1)             # sum_k tail_k p(0) P^k
    for j in range(kmax + 1):
        spent += tail[j] * p
        nxt = stay * p
        nxt[1:] += up[:-1] * p[:-1]
        nxt[:-1] += down[1:] * p[1:]
        p = nxt
    wait_if_found = np.where(n >= c, (n - c + 1) / (c * mu), 0.0)
    return float(spent @ wait_if_found) / L / T


def window_mean_wait(c, lam, mu, from_h, to_h):
    # The expected wait of those who arrive between from_h and to_h hours into a day that opens
    # empty: the warm-up left out of a long day, exactly.
    whole = transient_mean_wait(c, lam, mu, to_h) * to_h
    early = transient_mean_wait(c, lam, mu, from_h) * from_h if from_h else 0.0
    return (whole - early) / (to_h - from_h)


def mmc_scenario(c, rho, hours, service_min=5, seed=1, drain_h=4):
    # The textbook hall as a scenario: one service, c windows staffed all day, Poisson arrivals
    # at load rho for `hours` from 06:00, exponential service, no walk, no reaction, nobody
    # giving up, and drain_h hours after the last arrival for the queue to empty.
    from host_sim import scenario as scenarios
    end = "%02d:%02d" % divmod(int((6 + hours + drain_h) * 60), 60)
    last = "%02d:%02d" % divmod(int((6 + hours) * 60), 60)
    doc = {
        "scenario": {"name": "M/M/%d" % c, "start": "06:00", "end": end, "seed": seed},
        "hall": {"services": [{"prefix": "A", "open": "06:00", "close": end,
                               "last_ticket": end, "service_min": service_min,
                               "max_wait_min": 1440, "limit_min": 1440, "quota": 9999}],
                 "windows": [{"number": n, "services": ["A"]} for n in range(1, c + 1)],
                 "staff": {"S%d" % n: "s" for n in range(1, c + 1)}},
        "arrivals": {"A": [["06:00", rho * c * 60 / service_min], [last, 0]]},
        "service_times": {"A": {"mean_min": service_min, "cv": 1.0}},
        "roster": [{"window": n, "staff": "S%d" % n, "from": "06:00", "to": end}
                   for n in range(1, c + 1)],
        "ratings": {"share": 0},
        "people": {"walk_s": [0, 0], "react_s": [0, 0]},
    }
    return scenarios.parse(doc, "mmc.toml")
