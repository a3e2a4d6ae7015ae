# Wait estimates for new tickets (firmware/routing/ROUTING.md, "Estimated wait").
# The router balances weighted waits across the services a window serves, so a new ticket's
# wait depends on every queue its windows serve, not only its own. The estimate replays the
# routing policy forward in virtual time: the busy windows come free one every mean turn /
# (windows busy), in the order their turns are due, each takes the ticket the policy would choose (priority first, then
# aged, then wait x weight), and is busy for that service's mean turn (from the call to the
# finish: the citizen's walk to the window included), learned as the day goes (integer
# seconds x 16). The replay walks read-only cursors over the rings,
# copies nothing, and stops after MAX_STEPS calls, extrapolating by capacity beyond them.
import heapq
from array import array

from firmware.routing.queues import DEAD
from firmware.routing.config import S_MEAN, S_MAX_WAIT
from protocol.codes import OPEN, IDLE

MAX_STEPS = 120
_VIRTUAL = 0xFFFF       # the new ticket in the replay

_SCALE = 16     # fixed point: floats allocate on MicroPython
_PRIOR = 20     # the configured service time weighs as much as this many observed services


class Estimator:
    def __init__(self, config):
        self.cfg = config
        n = config.service_count()
        # mean service time: the configured one counts as PRIOR services, then the day's own
        self.service_sum = array("I", [svc[S_MEAN] * _PRIOR for svc in config.services])
        self.service_n = array("H", [_PRIOR] * n)
        self.service = array("I", [svc[S_MEAN] * _SCALE for svc in config.services])

    def served(self, s, duration):
        if self.service_n[s] < 60000:
            self.service_sum[s] += duration
            self.service_n[s] += 1
        self.service[s] = self.service_sum[s] * _SCALE // self.service_n[s]

    def capacity_gap(self, core, s):
        # Expected seconds between calls of s from the windows open for it, x16.
        share = 0                                   # in 1/100 of a window
        for w in range(len(core.state)):
            if core.state[w] != OPEN or core.staff[w] is None:
                continue
            services = core.window_services(w)
            weights = core.window_weights(w)
            total = 0
            mine = 0
            for k in range(len(services)):
                if services[k] == s:
                    mine = weights[k]
                if core.waiting(services[k]) or services[k] == s:
                    total += weights[k]
            if mine:
                share += 100 * mine // total
        if share == 0:
            return self.service[s]
        return self.service[s] * 100 // share

    def estimate(self, core, s, ahead, now):
        # Seconds a ticket issued now for service s is expected to wait.
        windows = []                          # every open window: those that do not serve s
        serving_s = False                     # still drain the queues that those that do share
        for w in range(len(core.state)):
            if core.state[w] == OPEN and core.staff[w] is not None:
                windows.append(w)
                serving_s = serving_s or s in core.window_services(w)
        if not serving_s:
            return (ahead + 1) * self.service[s] // _SCALE
        # When the busy windows come free: one every mean turn / (windows busy), in the order
        # their turns are due. That is right whatever the spread of the turns: for turns of
        # fixed length the windows' phases are even, and for exponential ones (where a window
        # that has run long is no nearer its end) the calls of b busy windows come as a stream
        # of rate b / mean. Taking each window's own due time instead put every overdue window
        # "half a turn from now" and overestimated every wait at 60 windows by 11 to 22 times.
        free = []                             # heap of (time the window is free, window)
        busy = []
        for w in windows:
            if core.phase[w] == IDLE:
                free.append((now, w))
            else:                             # a window's turn runs from call to finish
                mean = self.service[core.cur_service[w]] // _SCALE
                busy.append((core.first_call[w] + mean, w, mean))
        busy.sort()
        n = len(busy)
        for rank in range(n):
            w, mean = busy[rank][1], busy[rank][2]
            free.append((now + (rank + 1) * mean // n, w))
        heapq.heapify(free)
        cursor = {}                           # queue -> [ring index, consumed], VIRTUAL -> taken
        mine_issued = core._rel(now)
        for step in range(MAX_STEPS):
            if not free:
                break
            t, w = free[0]
            picked = self._pick(core, w, t - core.day_base, cursor, s, mine_issued)
            if picked == _VIRTUAL:
                return self._median(core, s, t - now)
            if picked < 0:                    # nothing left this window could take
                heapq.heappop(free)
                continue
            heapq.heappop(free)               # (MicroPython's heapq has no heapreplace)
            heapq.heappush(free, (t + self.service[picked // 2] // _SCALE, w))
        left = ahead
        for q in (2 * s, 2 * s + 1):
            if q in cursor:
                left -= cursor[q][1]
        start = free[0][0] if free else now
        return self._median(core, s, start - now + max(left, 0) * self.capacity_gap(core, s)
                            // _SCALE)

    def _median(self, core, s, mean_wait):
        # The replay gives the mean wait; what is printed is the median, which a wait made of
        # n gaps between calls (about a Gamma distribution) has a third of a gap below its mean:
        # it is the estimate that is off by the least on average.
        if mean_wait <= 0:
            return 0
        wait = mean_wait - self.capacity_gap(core, s) // (3 * _SCALE)
        return wait if wait > 0 else 0

    def _pick(self, core, w, t_rel, cursor, mine, mine_issued):
        # The queue the routing policy takes from at window w at (day-relative) time t, with its
        # cursor advanced; _VIRTUAL for the new ticket (service `mine`, at the end of its
        # ordinary queue); -1 when w has nothing left to take.
        services = core.window_services(w)
        weights = core.window_weights(w)
        pick = -1
        oldest = 0
        for s in services:                                # priority, oldest first
            issued = self._peek(core, 2 * s + 1, cursor)
            if issued >= 0 and (pick < 0 or issued < oldest):
                pick, oldest = 2 * s + 1, issued
        if pick < 0:
            aged = -1
            aged_issued = 0
            score = -1
            for k in range(len(services)):                # ordinary: aged, then wait x weight
                s = services[k]
                q = 2 * s
                issued = self._peek(core, q, cursor)
                if issued < 0 and s == mine and _VIRTUAL not in cursor:
                    q, issued = _VIRTUAL, mine_issued
                if issued < 0:
                    continue
                wait = t_rel - issued
                if wait >= core.cfg.services[s][S_MAX_WAIT] and (aged < 0 or issued < aged_issued):
                    aged, aged_issued = q, issued
                value = (wait + 1) * weights[k]
                if value > score:
                    score, pick = value, q
            if aged >= 0:
                pick = aged
        if pick == _VIRTUAL:
            cursor[_VIRTUAL] = 1
        elif pick >= 0:
            cursor[pick][0] += 1
            cursor[pick][1] += 1
        return pick

    def _peek(self, core, q, cursor):
        # Issue time of queue q's next entry not yet taken in the replay, or -1.
        queues = core.queues
        ring = queues.rings[q]
        if ring is None:
            return -1
        c = cursor.get(q)
        if c is None:
            c = cursor[q] = [0, 0]
        while c[0] < queues.size[q]:
            at = queues._at(q, c[0])
            if not ring[at] & DEAD:
                return ring[at + 1]
            c[0] += 1
        return -1

    def spread(self, estimate):
        # The range shown on the ticket, in seconds: -25% .. +25%, at least a minute wide.
        low = estimate * 3 // 4
        high = estimate * 5 // 4
        if high - low < 60:
            high = low + 60
        return low, high

    def naive(self, core, s, ahead):
        # The baseline to beat: people ahead x mean service time / open windows serving s.
        windows = 0
        for w in range(len(core.state)):
            if core.state[w] == OPEN and core.staff[w] is not None and s in core.window_services(w):
                windows += 1
        return ahead * self.cfg.services[s][S_MEAN] // max(windows, 1)

    def state(self):
        return (self.service, self.service_sum, self.service_n)

    def restore(self, st):
        self.service, self.service_sum, self.service_n = st
