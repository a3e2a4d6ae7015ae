# The hall's timers and alerts: automatic recall and no-show, over the time limit, a window
# idle while people wait, a wait too long, and too many people per open window.
from firmware.routing.durable import OP_TICK
from firmware.routing.config import S_LIMIT, S_MAX_WAIT
from protocol.codes import (OPEN, IDLE, CALLED, SERVING, WAIT_TOO_LONG, OVER_TIME_LIMIT,
    WINDOW_IDLE, OPEN_WINDOW, NONE)


class Timers:
    def tick(self, now):
        # Timers: automatic recall and no-show, alerts. Journalled only when it changed state;
        # a change that cannot be journalled is undone, and timers wait before trying again.
        if self.storage_failed and now < self.retry_at:
            return
        before = len(self.out)
        mark = self.stats.changes
        day = self.day
        self._roll_day(now, False)
        self._tick(now)
        if self.day != day:
            mark -= 1                         # a new day began: that is a change to journal
        if self.stats.changes != mark or len(self.out) != before:
            ticked = len(self.out)
            if not self._log(OP_TICK, now, ()):
                told = self.out[ticked:]          # what the failed write said (its alert)
                kept = self.out[:before]
                self._rollback(now)
                self.out = kept + told

    def _tick(self, now):
        cfg = self.cfg
        for w in range(len(self.state)):
            if self.phase[w] == CALLED and now - self.last_call[w] >= cfg.recall_timeout_s:
                self._do_recall(w, now)
            elif self.phase[w] == SERVING and not self.flags[w] & 1:
                service = self.cur_service[w]
                if now - self.started[w] > cfg.services[service][S_LIMIT]:
                    self.flags[w] |= 1
                    self.stats.changes += 1
                    self.out.append(("alert", OVER_TIME_LIMIT, w, service, self.cur_number[w],
                                     (now - self.started[w]) // 60))
            elif (self.phase[w] == IDLE and self.state[w] == OPEN and not self.flags[w] & 2
                  and self.staff[w] is not None and now - self.idle_since[w] >= cfg.idle_alert_s):
                # idle *while people wait*: from when the window fell idle or the oldest of
                # the people it could call arrived, whichever was later
                oldest = self._oldest_waiting(w)
                since = max(self.idle_since[w], oldest) if oldest >= 0 else -1
                if since >= 0 and now - since >= cfg.idle_alert_s:
                    self.flags[w] |= 2
                    self.stats.changes += 1
                    self.stats.idle_alerts += 1
                    self.out.append(("alert", WINDOW_IDLE, w, NONE, 0, (now - since) // 60))
        rel = self._rel(now)
        for q in range(self.queues.count):
            max_wait = cfg.services[q // 2][S_MAX_WAIT]
            for number, issued, estimate in self.queues.entries(q):
                if rel - issued <= max_wait:
                    break
                if number > self.wait_alerted[q]:
                    self.wait_alerted[q] = number
                    self.stats.changes += 1
                    self.out.append(("alert", WAIT_TOO_LONG, NONE, q // 2, number,
                                     (rel - issued) // 60))
        open_windows = bytearray(len(self.next_number))     # open windows serving each service
        for w in range(len(self.state)):
            if self.state[w] == OPEN:
                for s in self.window_services(w):
                    if open_windows[s] < 255:
                        open_windows[s] += 1
        for s in range(len(self.next_number)):
            self._crowd_check(s, open_windows[s])

    def _oldest_waiting(self, w):
        # Issue time of the longest-waiting ticket window w could call, or -1.
        oldest = -1
        services = self.window_services(w)
        for s in services:
            for q in (2 * s, 2 * s + 1):
                at = self.queues.first(q)
                if at >= 0:
                    issued = self._abs(self.queues.entry(q, at)[1])
                    if oldest < 0 or issued < oldest:
                        oldest = issued
        for t in self.transfers:
            if (t[0] == self.cfg.numbers[w] or (t[0] == 0 and t[1] in services)) \
                    and (oldest < 0 or t[3] < oldest):
                oldest = t[3]
        return oldest

    def _crowd_check(self, s, open_windows):
        # People waiting per open window serving s, over the threshold: say how many should open.
        waiting = self.waiting(s)
        limit = self.cfg.waiting_per_window_alert
        over = waiting > limit * max(open_windows, 1)
        if over and not self.crowd_alerted[s]:
            self.crowd_alerted[s] = 1
            self.stats.changes += 1
            needed = (waiting + limit - 1) // limit
            self.out.append(("alert", OPEN_WINDOW, NONE, s, 0, needed))
        elif not over and self.crowd_alerted[s] and waiting <= limit * max(open_windows, 1) // 2:
            self.crowd_alerted[s] = 0
            self.stats.changes += 1
