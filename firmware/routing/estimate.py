# Wait estimates for new tickets (docs/routing.md, "Estimated wait").
# Per service, the core measures how far apart its calls come while people are queueing (an
# exponentially weighted mean, integer seconds x 16). A new ticket with k people ahead waits
# about k of those gaps plus what is left of the current one. Until a service has been seen
# calling, and as a bound afterwards, capacity stands in: the expected service time divided by
# the windows open for that service (each counted by its share of that window's weights).
from array import array

_SCALE = 16     # fixed point: floats allocate on MicroPython
_ALPHA = 8      # EWMA weight 1/8
_MIN_CALLS = 3  # calls observed before the measured gap is trusted


class Estimator:
    def __init__(self, config):
        self.cfg = config
        n = config.service_count()
        self.gap = array("I", bytes(4 * n))        # measured gap between calls, x16
        self.last_call = array("I", bytes(4 * n))
        self.calls = array("H", bytes(2 * n))
        self.queued = bytearray(n)                  # people still waited at the last call
        self.service = array("I", [svc[6] * _SCALE for svc in config.services])

    def called(self, s, now, waiting_after):
        if self.calls[s] and self.queued[s]:
            sample = (now - self.last_call[s]) * _SCALE
            if self.calls[s] <= _MIN_CALLS or self.gap[s] == 0:
                self.gap[s] = sample if self.gap[s] == 0 else (self.gap[s] + sample) // 2
            else:
                self.gap[s] += (sample - self.gap[s]) // _ALPHA
        self.last_call[s] = now
        self.calls[s] += 1
        self.queued[s] = 1 if waiting_after else 0

    def served(self, s, duration):
        self.service[s] += (duration * _SCALE - self.service[s]) // _ALPHA

    def capacity_gap(self, core, s):
        # Expected seconds between calls of s from the windows open for it, x16.
        share = 0                                   # in 1/100 of a window
        for w in range(len(core.state)):
            if core.state[w] != 1 or core.staff[w] is None:
                continue
            services, weights = core.window_services(w)
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
        capacity = self.capacity_gap(core, s)
        if ahead == 0 and self._idle_window(core, s):
            return 0
        gap = capacity
        if self.calls[s] > _MIN_CALLS and self.gap[s]:
            gap = self.gap[s]
            if gap > 3 * capacity:
                gap = 3 * capacity
            elif 3 * gap < capacity:
                gap = capacity // 3
        since = (now - self.last_call[s]) * _SCALE if self.calls[s] else 0
        residual = gap - since
        if residual < gap // 4:
            residual = gap // 4
        return (ahead * gap + residual) // _SCALE

    def _idle_window(self, core, s):
        for w in range(len(core.state)):
            if core.state[w] == 1 and core.phase[w] == 0 and core.staff[w] is not None \
                    and s in core.window_services(w)[0]:
                return True
        return False

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
            if core.state[w] == 1 and core.staff[w] is not None and s in core.window_services(w)[0]:
                windows += 1
        return ahead * self.cfg.services[s][6] // max(windows, 1)

    def new_day(self):
        for s in range(len(self.calls)):
            self.calls[s] = 0
            self.queued[s] = 0
            self.gap[s] = 0

    def state(self):
        return (self.gap, self.last_call, self.calls, bytes(self.queued), self.service)

    def restore(self, st):
        self.gap, self.last_call, self.calls, queued, self.service = st
        self.queued = bytearray(queued)
