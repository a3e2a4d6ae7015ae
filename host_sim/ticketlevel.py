"""Ticket-level discrete-event simulation of a hall driving the real routing core.

Events sit in a heap ordered by (time, priority, insertion counter), so equal times run in a
fixed order and a seed fixes the whole day. Citizens arrive by a Poisson process per service,
staff call the next ticket as soon as they are free, start at once, and serve for an
exponentially distributed time. This is the fast model (no devices, no wire); the frame-level
simulator adds devices and the protocol on top.
"""
import heapq
import math
import random
from dataclasses import dataclass, field

from firmware.routing.core import RoutingCore, OK, FINISHED, PRIORITY


@dataclass
class Result:
    issued: int = 0
    served: int = 0
    waits: list = field(default_factory=list)          # seconds, served tickets
    estimates: list = field(default_factory=list)      # core's estimate, same tickets
    naive: list = field(default_factory=list)          # naive estimate, same tickets

    def mae(self, which):
        values = self.estimates if which == "core" else self.naive
        return sum(abs(e - w) for e, w in zip(values, self.waits)) / max(len(self.waits), 1)

    def mean_wait(self):
        return sum(self.waits) / max(len(self.waits), 1)


class TicketLevelHall:
    ARRIVE, DONE = 0, 1        # at equal times, a window finishing goes after arrivals

    def __init__(self, config, start, end, rates, mean_service, seed=1, windows=None,
                 priority_share=0.0, service_cv=1.0):
        """rates: prefix -> arrivals per hour; mean_service: prefix -> mean seconds.

        Service times are exponential (service_cv 1, the M/M/c case) or lognormal with that
        coefficient of variation; priority_share of arrivals hold priority (绿色通道) tickets.
        """
        self.priority_share = priority_share
        self.service_cv = service_cv
        self.cfg = config
        self.start, self.end = start, end
        self.rates, self.mean_service = rates, mean_service
        self.rng = random.Random(seed)
        self.core = RoutingCore(config, now=start)
        self.windows = list(windows or config.numbers)
        self.heap = []
        self.counter = 0
        self.result = Result()
        self.naive_at_issue = {}

    def push(self, when, kind, arg):
        self.counter += 1
        heapq.heappush(self.heap, (when, kind, self.counter, arg))

    def run(self):
        core = self.core
        staff = sorted(self.cfg.staff)
        for k, window in enumerate(self.windows):
            core.window_open(self.start, window)
            core.login(self.start, window, staff[k % len(staff)])
        for prefix, rate in self.rates.items():
            if rate > 0:
                self.push(self.start + self.rng.expovariate(rate / 3600), self.ARRIVE, prefix)
        core.out.clear()
        while self.heap:
            when, kind, _, arg = heapq.heappop(self.heap)
            if when > self.end:
                break
            now = int(when)
            if kind == self.ARRIVE:
                self.arrive(now, arg)
                self.push(when + self.rng.expovariate(self.rates[arg] / 3600), self.ARRIVE, arg)
            else:
                core.finish(now, arg)
                self.record(core.out)
                self.call(now, arg)
            core.out.clear()
        return self.result

    def arrive(self, now, prefix):
        core = self.core
        kind = PRIORITY if self.priority_share and self.rng.random() < self.priority_share else 0
        if core.issue(now, prefix, kind=kind) != OK:
            return
        issued = [o for o in core.out if o[0] == "issued"][0]
        s, number, ahead = issued[1], issued[2], issued[4]
        self.naive_at_issue[(s, number)] = core.estimator.naive(core, s, ahead)
        self.result.issued += 1
        for window in self.windows:                     # idle staff call at once
            if core.phase[core.cfg.window(window)] == 0:
                self.call(now, window)

    def call(self, now, window):
        core = self.core
        if core.call_next(now, window) != OK:
            return
        core.start(now, window)
        prefix = self.cfg.services[core.cur_service[core.cfg.window(window)]][0]
        duration = max(1, round(self.service_time(self.mean_service[prefix])))
        self.push(now + duration, self.DONE, window)

    def service_time(self, mean):
        if self.service_cv == 1.0:
            return self.rng.expovariate(1 / mean)
        sigma2 = math.log(1 + self.service_cv ** 2)
        return self.rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    def record(self, out):
        for o in out:
            if o[0] == "ended" and o[3] == FINISHED:
                self.result.served += 1
                self.result.waits.append(o[4])
                self.result.estimates.append(o[5])
                self.result.naive.append(self.naive_at_issue.pop((o[1], o[2]), 0))
