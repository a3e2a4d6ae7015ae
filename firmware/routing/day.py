# The hall's day: local dates, the base that waiting tickets' times count from, close of
# business (whoever still waits is unserved, numbers restart) and the day's archive record.
from firmware.routing.config import S_PREFIX, S_NAME, S_OPEN, S_MAX_WAIT
from protocol.codes import (OK, CLOSED, IDLE, UNSERVED, NONE)


class Day:
    def local_day(self, now):
        return (now + self.cfg.tz_offset_s) // 86400

    def clock(self, now):
        # Seconds since local midnight.
        return (now + self.cfg.tz_offset_s) % 86400

    def _start_day(self, now):
        self.day_closed = False
        self.day = self.local_day(now)
        opening = min(s[S_OPEN] for s in self.cfg.services)
        self.day_base = self.day * 86400 - self.cfg.tz_offset_s + max(0, opening - 3600)

    def _roll_day(self, now, reopen):
        # A new local date starts a new day (ending the old one if nobody closed it); after
        # close_day, the next operation other than a timer tick reopens the same date.
        if self.local_day(now) != self.day:
            if not self.day_closed:
                self._end_day(now)
            self._start_day(now)
        elif self.day_closed and reopen:
            self._start_day(now)

    def _rel(self, now):
        # Time as stored with waiting tickets: seconds since the day's base (fits 18 hours).
        rel = now - self.day_base
        return 0 if rel < 0 else 0xFFFF if rel > 0xFFFF else rel

    def _abs(self, rel):
        return self.day_base + rel

    def _close_day(self, now):
        # Close of business: whoever still waits is recorded as unserved; numbers restart.
        if not self.day_closed:
            self._end_day(now)
            self.day_closed = True
        return OK

    def _end_day(self, now):
        for q in range(self.queues.count):
            for number, issued, estimate in self.queues.entries(q):
                self._ended(q // 2, number, UNSERVED, now - self._abs(issued), estimate)
        for slot, service, number, issued, estimate in self.appointments:
            self._ended(service, number, UNSERVED, now - issued, estimate)
        for to_window, service, number, issued, estimate in self.transfers:
            self._ended(service, number, UNSERVED, now - issued, estimate)
        for window, service, number, kind, issued, estimate in self.held:
            self._ended(service, number, UNSERVED, now - issued, estimate)
        for w in range(len(self.state)):
            if self.cur_service[w] != NONE:
                self._ended(self.cur_service[w], self.cur_number[w], UNSERVED,
                            now - self.cur_issued[w], self.cur_estimate[w])
                self._clear_current(w)
            self._set_state(w, CLOSED)
            self.phase[w] = IDLE
            self.staff[w] = None
            self.last_done[w] = None
        self.queues.clear()
        self.appointments = []
        self.transfers = []
        self.held = []
        for s in range(len(self.next_number)):
            self.next_number[s] = 0
            self.crowd_alerted[s] = 0
        for q in range(len(self.wait_alerted)):
            self.wait_alerted[q] = 0
        self.last_req = {}
        if self.on_day_closed is not None and not self.replaying:
            self.on_day_closed(self.day_summary())
        for k in range(len(self.rejects)):
            self.rejects[k] = 0
        self.stats.close_day(self.day)

    def day_summary(self):
        # The day's figures with the names that explain them, for the archive that monthly
        # reports read (hallctl report). Plain lists and dicts: packable and JSON-able.
        cfg = self.cfg
        st = self.stats
        from firmware.clock import civil
        y, m, d = civil(self.day)
        return {"v": 1, "hall": cfg.hall, "day": self.day, "date": "%04d-%02d-%02d" % (y, m, d),
                "services": [s[S_PREFIX] for s in cfg.services], "names": [s[S_NAME] for s in cfg.services],
                "max_wait_s": [s[S_MAX_WAIT] for s in cfg.services], "windows": list(cfg.numbers),
                "staff": dict(cfg.staff), "levels": st.levels,
                "issued": list(st.issued), "served": list(st.served_count),
                "within_max_wait": list(st.within_max_wait), "wait_sum": list(st.wait_sum),
                "service_sum": list(st.service_sum), "ends": list(st.ends),
                "window_served": list(st.window_served), "window_busy": list(st.window_busy),
                "early_stops": list(st.early_stops), "window_ratings": list(st.window_ratings),
                "service_ratings": list(st.service_ratings),
                "staff_ratings": {k: list(v) for k, v in st.staff_ratings.items()},
                "staff_served": dict(st.staff_served), "rating_rejects": list(self.rejects[:7]),
                "refused": st.refused, "journal_lost": st.journal_lost}
