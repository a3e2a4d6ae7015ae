"""Staffing advice: the fewest windows open each hour that meet a waiting-time target, found by
simulating whole days (queues carry over from hour to hour), with the Erlang C answer for each
hour on its own beside it."""
import math
import re
from dataclasses import replace

from protocol.codes import FINISHED
from host_sim.hallday import HallDay
from host_sim.scenario import ScenarioError, Shift

TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*within\s*(\d+(?:\.\d+)?)\s*min\s*$")


def parse_target(text):
    # "90% within 15 min" -> (0.9, 900 seconds)
    m = TARGET.match(text or "")
    if not m or not 0 < float(m.group(1)) <= 100:
        raise ScenarioError("--target: expected like \"90%% within 15 min\", got %r" % (text,))
    return float(m.group(1)) / 100, float(m.group(2)) * 60


def erlang_c_windows(per_hour, mean_s, share, within_s, limit):
    # Fewest c with P(wait <= t) >= share in M/M/c (or limit if none does).
    lam = per_hour / 3600.0
    if lam == 0:
        return 0
    mu = 1.0 / mean_s
    a = lam / mu
    for c in range(max(1, math.ceil(a)), limit + 1):
        if c <= a:
            continue
        top = a ** c / math.factorial(c) * c / (c - a)
        p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
        if 1 - p_wait * math.exp(-(c * mu - lam) * within_s) >= share:
            return c
    return limit


class Planner:
    def __init__(self, scenario, share, within_s, max_rounds=40, progress=None):
        # progress(days simulated, what is being tried), where someone watches
        self.progress = progress or (lambda done, text=None: None)
        self.sc = scenario
        self.share = share
        self.within = within_s
        self.max_rounds = max_rounds
        self.hours = list(range(scenario.start // 3600, (scenario.end + 3599) // 3600))
        self.limit = len(scenario.hall.numbers)
        self.staff = sorted(scenario.hall.staff)
        self.runs = 0

    def rates(self, hour):
        # People arriving in this hour (all services, averaged over the hour), and how long,
        # on average, each holds a window: the service of what they come for and the walk to
        # the window from the call (the scenario's [people] walk_s), as the simulation has it.
        total = 0.0
        work = 0.0
        for prefix, steps in self.sc.arrivals.items():
            rate = 0.0
            for minute in range(0, 60, 5):
                t = hour * 3600 + minute * 60 + 150
                current = 0.0
                for start, per_hour in steps:
                    if start <= t:
                        current = per_hour
                if self.sc.start <= t < self.sc.end:
                    rate += current / 12
            total += rate
            work += rate * self.sc.service_times[prefix][0]
        walk = (self.sc.walk_s[0] + self.sc.walk_s[1]) / 2
        return total, (work / total + walk if total else 0)

    def roster(self, open_by_hour):
        # Window k (in hall order) works the hours where at least k windows are wanted.
        shifts = []
        for k, number in enumerate(self.sc.hall.numbers):
            start = None
            for hour in self.hours + [None]:
                on = hour is not None and open_by_hour[hour] > k
                if on and start is None:
                    start = hour
                elif not on and start is not None:
                    shifts.append(Shift(number, self.staff[k % len(self.staff)],
                                        max(start * 3600, self.sc.start), min(hour * 3600 if hour else
                                                                              self.sc.end, self.sc.end)))
                    start = None
        return shifts

    def met(self, open_by_hour):
        # Share within the target per hour of issue (None for an hour nobody arrived).
        self.runs += 1
        self.progress(self.runs, "day %d: %s windows" % (
            self.runs, " ".join(str(open_by_hour[h]) for h in self.hours)))
        day = HallDay(replace(self.sc, roster=self.roster(open_by_hour), patience_s=None)).run()
        by_hour = {}
        for t in day.tickets:
            hour = (t.issued - self.sc.midnight) // 3600
            ok = t.how == FINISHED and t.wait <= self.within
            by_hour.setdefault(hour, []).append(ok)
        return {h: (sum(v) / len(v) if v else None) for h, v in by_hour.items()}

    def plan(self):
        erlang = {}
        for hour in self.hours:
            per_hour, mean = self.rates(hour)
            erlang[hour] = erlang_c_windows(per_hour, mean, self.share, self.within, 4 * self.limit)
        wanted = {h: min(self.limit, max(1, erlang[h])) if self.rates(h)[0] else 0
                  for h in self.hours}
        for _ in range(self.max_rounds):                 # raise the first hour that fails
            shares = self.met(wanted)
            failing = [h for h in self.hours if shares.get(h) is not None
                       and shares[h] < self.share and wanted[h] < self.limit]
            if not failing:
                break
            wanted[failing[0]] += 1
        shares = self.met(wanted)
        for hour in reversed(self.hours):                # then give back what is not needed
            while wanted[hour] > 0:
                wanted[hour] -= 1
                trial = self.met(wanted)
                if all(v is None or v >= self.share for v in trial.values()):
                    shares = trial
                else:
                    wanted[hour] += 1
                    break
        return [{"hour": "%02d:00" % h, "arrivals_per_hour": round(self.rates(h)[0]),
                 "windows": wanted[h], "erlang_c": erlang[h],
                 "within_target": None if shares.get(h) is None else round(shares[h], 3),
                 "met": shares.get(h) is None or shares[h] >= self.share}
                for h in self.hours], self.roster(wanted)
