# The day's figures, kept as counters; saturating, so that a flood can make a figure wrong,
# never the hub crash.
from array import array


def sat16(v):
    return v if v < 0xFFFF else 0xFFFF


def inc(arr, k, v=1, top=0xFFFF):
    # Counters saturate: a flood can make a figure wrong, never the hub crash.
    v += arr[k]
    arr[k] = v if v < top else top


class DayStats:
    # The day's figures, kept as counters (the journal has every ticket for the full record).
    def __init__(self, services, windows, levels):
        self.levels = levels
        self.issued = array("H", bytes(2 * services))
        self.served_count = array("H", bytes(2 * services))
        self.within_max_wait = array("H", bytes(2 * services))
        self.wait_sum = array("I", bytes(4 * services))
        self.service_sum = array("I", bytes(4 * services))
        self.ends = array("H", bytes(2 * 5 * services))       # per service, per end kind
        self.window_served = array("H", bytes(2 * windows))
        self.window_busy = array("I", bytes(4 * windows))
        self.early_stops = array("H", bytes(2 * windows))
        self.window_ratings = array("H", bytes(2 * 6 * windows))
        self.service_ratings = array("H", bytes(2 * 6 * services))
        self.staff_ratings = {}
        self.staff_served = {}                                  # staff id -> tickets finished
        self.estimate_abs_error = 0                            # seconds, summed
        self.estimate_count = 0
        self.refused = 0
        self.idle_alerts = 0
        self.journal_lost = 0                                   # records recovery could not read
        self.changes = 0
        self.closed_days = []                                   # (day, served) of past days

    def served_wait(self, s, wait, within):
        inc(self.wait_sum, s, max(wait, 0), 0xFFFFFFFF)
        inc(self.within_max_wait, s, 1 if within else 0)
        self.changes += 1

    def estimates(self, estimate, wait):
        self.estimate_abs_error += abs(estimate - max(wait, 0))
        self.estimate_count += 1

    def served(self, s, w, duration, staff=None):
        if staff is not None:
            self.staff_served[staff] = self.staff_served.get(staff, 0) + 1
        inc(self.served_count, s)
        inc(self.service_sum, s, max(duration, 0), 0xFFFFFFFF)
        inc(self.window_served, w)
        inc(self.window_busy, w, max(duration, 0), 0xFFFFFFFF)
        self.changes += 1

    def ended(self, s, how):
        inc(self.ends, 5 * s + how)
        self.changes += 1

    def early_stop(self, w):
        inc(self.early_stops, w)
        self.changes += 1

    def rating(self, staff, w, s, level):
        inc(self.window_ratings, 6 * w + level)
        inc(self.service_ratings, 6 * s + level)
        counts = self.staff_ratings.get(staff)
        if counts is None:
            counts = self.staff_ratings[staff] = array("H", bytes(12))
        inc(counts, level)
        self.changes += 1

    def close_day(self, day):
        total = 0
        for s in range(len(self.served_count)):
            total += self.served_count[s]
        self.closed_days.append((day, total))
        if len(self.closed_days) > 31:
            self.closed_days.pop(0)
        for arr in (self.issued, self.served_count, self.within_max_wait, self.wait_sum,
                    self.service_sum, self.ends, self.window_served, self.window_busy,
                    self.early_stops, self.window_ratings, self.service_ratings):
            for k in range(len(arr)):
                arr[k] = 0
        self.staff_ratings = {}
        self.staff_served = {}
        self.estimate_abs_error = self.estimate_count = self.refused = self.idle_alerts = 0
        self.journal_lost = 0

    def state(self):
        # (rejected ratings are not here: they are refused before the journal, see RoutingCore)
        return (self.issued, self.served_count, self.within_max_wait, self.wait_sum,
                self.service_sum, self.ends, self.window_served, self.window_busy,
                self.early_stops, self.window_ratings, self.service_ratings,
                dict(self.staff_ratings), self.estimate_abs_error, self.estimate_count,
                self.refused, self.idle_alerts, self.changes, list(self.closed_days),
                dict(self.staff_served), self.journal_lost)

    def restore(self, st):
        (self.issued, self.served_count, self.within_max_wait, self.wait_sum, self.service_sum,
         self.ends, self.window_served, self.window_busy, self.early_stops, self.window_ratings,
         self.service_ratings, staff, self.estimate_abs_error, self.estimate_count,
         self.refused, self.idle_alerts, self.changes, closed, served, self.journal_lost) = st
        self.staff_ratings = dict(staff)
        self.staff_served = dict(served)
        self.closed_days = [tuple(c) for c in closed]

