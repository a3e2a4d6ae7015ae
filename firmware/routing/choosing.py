# Choosing the next ticket for a window (ROUTING.md): the services a window calls for, backups
# included, and the order transfers, priority, due appointments and ordinary tickets go in.
from firmware.routing.config import S_MAX_WAIT
from protocol.codes import (OK, ORDINARY, PRIORITY, APPOINTMENT, OPEN, IDLE)


class Choosing:
    def _set_state(self, w, state):
        self.state[w] = state
        self._services_cache = None           # backups take over or give back services

    def window_services(self, w):
        # The services window w calls for: its own, then those of windows it backs up while
        # they are paused or closed. Cached until a window's state changes (the choice and
        # the estimator ask constantly, and it costs a scan of every window); without a backup
        # in force the cache holds the config's own bytes, so it allocates nothing.
        cache = self._services_cache
        if cache is None:
            cache = self._services_cache = [None] * (2 * len(self.state))
        if cache[2 * w] is None:
            cache[2 * w], cache[2 * w + 1] = self._window_services(w)
        return cache[2 * w]

    def window_weights(self, w):
        # The weights of window_services(w), one byte each (1 for services taken over).
        self.window_services(w)
        return self._services_cache[2 * w + 1]

    def _window_services(self, w):
        services = self.cfg.window_services[w]
        weights = self.cfg.window_weights[w]
        extra = None
        for other in range(len(self.state)):
            if self.cfg.backup[other] == w and self.state[other] != OPEN:
                for s in self.cfg.window_services[other]:
                    if s not in services and (extra is None or s not in extra):
                        extra = (extra or b"") + bytes((s,))
        if extra:
            return services + extra, weights + b"\x01" * len(extra)
        return services, weights

    def choose(self, w, now):
        # (source, key) of the ticket window w would call now, or None. Sources: 0 transfer
        # (key = index), 1 priority / 3 ordinary (key = queue), 2 appointment (key = index).
        services = self.window_services(w)
        weights = self.window_weights(w)
        number = self.cfg.numbers[w]
        best = -1
        for k in range(len(self.transfers)):       # 1. transfers to this window, then to its services
            t = self.transfers[k]
            if t[0] == number or (t[0] == 0 and t[1] in services):
                rank = (0 if t[0] == number else 1, t[3])
                if best < 0 or rank < best_rank:
                    best, best_rank = k, rank
        if best >= 0:
            return 0, best
        oldest = -1                                # 2. priority, oldest first across services
        for s in services:
            at = self.queues.first(2 * s + 1)
            if at >= 0:
                issued = self.queues.entry(2 * s + 1, at)[1]
                if oldest < 0 or issued < oldest:
                    oldest, pick = issued, 2 * s + 1
        if oldest >= 0:
            return 1, pick
        grace = self.cfg.appointment_grace_s       # 3. appointments whose slot is due, by slot
        for k in range(len(self.appointments)):
            a = self.appointments[k]
            if a[0] - grace > now:
                break
            if a[1] in services:
                return 2, k
        rel = self._rel(now)                       # 4. ordinary: aged first, then wait x weight
        aged = -1
        score = -1
        for k in range(len(services)):
            s = services[k]
            at = self.queues.first(2 * s)
            if at < 0:
                continue
            issued = self.queues.entry(2 * s, at)[1]
            wait = rel - issued
            if wait >= self.cfg.services[s][S_MAX_WAIT]:    # past the service's maximum wait: aged
                if aged < 0 or issued < aged_issued:
                    aged, aged_issued = 2 * s, issued
            value = (wait + 1) * weights[k]
            if value > score:
                score, pick = value, 2 * s
        if aged >= 0:
            return 3, aged
        if score >= 0:
            return 3, pick
        return None

    def _take(self, choice):
        # Remove the chosen ticket: (service, number, kind, issued abs, estimate).
        source, key = choice
        if source == 0:
            t = self.transfers.pop(key)
            return t[1], t[2], ORDINARY, t[3], t[4]
        if source == 2:
            a = self.appointments.pop(key)
            return a[1], a[2], APPOINTMENT, a[3], a[4]
        number, issued, estimate = self.queues.pop(key)
        return key // 2, number, (PRIORITY if key & 1 else ORDINARY), self._abs(issued), estimate

    def _peek(self, choice):
        source, key = choice
        if source == 0:
            return self.transfers[key][1], self.transfers[key][2]
        if source == 2:
            return self.appointments[key][1], self.appointments[key][2]
        return key // 2, self.queues.entry(key, self.queues.first(key))[0]

    def _call_hint(self, now, window):
        # The ticket a call-next will take, (service, number), or None: journalled with it.
        # The choice is kept for _call_next, which runs next, on the same state.
        self._chosen = None
        w, result = self._at_window(window, IDLE)
        if result != OK:
            return None
        choice = self._chosen = self.choose(w, now)
        return None if choice is None else self._peek(choice)
