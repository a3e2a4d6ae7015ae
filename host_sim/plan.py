"""Staffing advice: the fewest windows open each hour that meet a waiting-time target on a stated
share of seeded days, found by simulating the days through the real routing core, with the
Erlang C answer for each hour on its own beside it.

The search goes hour by hour. Each seeded day is held as a snapshot at the hour's start; a
count is tried by running every day on from its snapshot through the hour and on until the
hour's last ticket is due (the later hour staffed alike), and judging every hour so far on
each day. The fewest windows with which enough days still meet every hour are kept, and the
days' snapshots at the hour's end become the next hour's start, so the days that judge the
last hour are the plan's own whole days. Removing a window from an hour only lengthens the
queues after it, so a count that fails an hour's own check fails the plan: the plan is minimal.
An hour that no count meets, all windows open, is reported with what Erlang C would need and
left out of the judging of the hours after it.
"""
import math
import multiprocessing
import os
import pickle
import re
from dataclasses import replace

from host_sim import theory
from host_sim.hallday import HallDay
from host_sim.scenario import ScenarioError, Shift

TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*within\s*(\d+(?:\.\d+)?)\s*min\s*$")
DAYS = 20                # seeded days a plan is judged on
DAYS_SHARE = 0.9         # the share of them on which it must meet the target in every hour


def parse_target(text):
    # "90% within 15 min" -> (0.9, 900 seconds)
    m = TARGET.match(text or "")
    if not m or not 0 < float(m.group(1)) <= 100 or not 0 < float(m.group(2)) <= 240:
        raise ScenarioError("--target: expected like \"90%% within 15 min\" (at most 240 min), "
                            "got %r" % (text,))
    return float(m.group(1)) / 100, float(m.group(2)) * 60


def erlang_c_windows(per_hour, mean_s, share, within_s, limit):
    # Fewest c with P(wait <= t) >= share in M/M/c, or None if even `limit` windows do not.
    return theory.erlang_c_windows(per_hour / 3600.0, 1.0 / mean_s, share, within_s, limit)


class Hour:
    def __init__(self, hour, start, end):
        self.hour = hour            # hours since local midnight
        self.start = start          # seconds since local midnight: the part the hall is open
        self.end = end


def hours_of(sc):
    return [Hour(h, max(h * 3600, sc.start), min((h + 1) * 3600, sc.end))
            for h in range(sc.start // 3600, (sc.end + 3599) // 3600)]


def judge(day, sc, hours, within_s, upto):
    # Per hour up to index `upto`: (tickets issued, called within the target) on this day.
    counts = [[0, 0] for _ in range(upto + 1)]
    first = hours[0].hour
    for t in day.tickets.values():
        if t.voided:
            continue
        k = (t.issued - sc.midnight) // 3600 - first
        if 0 <= k <= upto:
            counts[k][0] += 1
            counts[k][1] += 0 <= t.called - t.issued <= within_s
    return counts


def opening_order(hall):
    # The order windows open in: one of each kind (the same services, the same weights) in
    # turn, the kinds with most windows first, so that any first k windows serve as many
    # services as k windows can; a hall with zones keeps every zone open.
    kinds = {}
    for w, number in enumerate(hall.numbers):
        key = (bytes(hall.window_services[w]), bytes(hall.window_weights[w]))
        kinds.setdefault(key, []).append(number)
    groups = sorted(kinds.values(), key=lambda g: (-len(g), g[0]))
    order = []
    for k in range(max(len(g) for g in groups)):
        order.extend(g[k] for g in groups if k < len(g))
    return order


def _work(conn, sc, seeds, within_s):
    # A worker: holds its seeded days' snapshots and tries counts on them as the planner asks.
    hours = hours_of(sc)
    base = {}
    for seed in seeds:
        day = HallDay(replace(sc, seed=seed), staffing={}, estimates=False,
                      order=opening_order(sc.hall), journal=False)
        day.begin()
        base[seed] = pickle.dumps(day)
    tried = {}
    while True:
        msg = conn.recv()
        if msg[0] == "stop":
            return
        if msg[0] == "commit":
            base = tried[msg[1]]
            tried = {}
            continue
        _, k, count, max_fail, share, skip = msg
        hour = hours[k]
        snaps = {}
        rows = []
        failed = [0] * (k + 1)
        for seed in seeds:
            day = pickle.loads(base[seed])
            day.staffing[hour.hour] = count
            day.advance(sc.at(hour.end) - 1e-6)            # up to (not into) the next hour
            snaps[seed] = pickle.dumps(day)
            if k + 1 < len(hours):
                day.staffing[hours[k + 1].hour] = count     # the spill, staffed alike
            day.advance(sc.at(hour.end) + within_s)
            counts = judge(day, sc, hours, within_s, k)
            rows.append((seed, counts))
            conn.send(("day", seed))
            for j, hour_counts in enumerate(counts):
                failed[j] += j not in skip and not hour_met(hour_counts, share)
            if max_fail is not None and max(failed) > max_fail:
                break                                    # it cannot pass: say so now
        if len(snaps) == len(seeds):
            tried[count] = snaps
        conn.send(("done", rows))


def hour_met(counts, share):
    # An hour of one day meets the target: nobody came, or enough were called in time.
    n, ok = counts
    return not n or ok >= share * n


def worst_hour(met, skip, days):
    # The fewest days any promised hour met the target on (all of them if none is promised).
    return min([m for k, m in enumerate(met) if k not in skip] or [days])


def day_ok(counts, share, skip):
    # A day meets the target in every hour judged (those not in skip).
    return all(k in skip or hour_met(c, share) for k, c in enumerate(counts))


class Planner:
    def __init__(self, scenario, share, within_s, days=DAYS, days_share=DAYS_SHARE,
                 progress=None, workers=None):
        # progress(hours planned, what is being tried), where someone watches
        self.progress = progress or (lambda done, text=None: None)
        self.sc = replace(scenario, patience_s=None, rating_share=0.0, hub_restarts=0)
        self.share = share
        self.within = within_s
        self.days = days
        self.required = math.ceil(days_share * days - 1e-9)
        self.hours = hours_of(self.sc)
        self.limit = len(scenario.hall.numbers)
        self.staff = sorted(scenario.hall.staff)
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self.runs = 0

    def rates(self, hour):
        # (people an hour while the hall is open in this hour, summed over services; seconds
        # each holds a window on average: the service they come for and the walk from the
        # call, the scenario's [people] walk_s, as the simulation has it). A part hour is
        # rated over the minutes it is open.
        total = work = 0.0
        minutes = [m for m in range(0, 60) if hour.start <= hour.hour * 3600 + m * 60 + 30 < hour.end]
        for prefix, steps in self.sc.arrivals.items():
            rate = 0.0
            for m in minutes:
                t = hour.hour * 3600 + m * 60 + 30
                current = 0.0
                for start, per_hour in steps:
                    if start <= t:
                        current = per_hour
                rate += current / len(minutes)
            total += rate
            work += rate * self.sc.service_times[prefix][0]
        walk = (self.sc.walk_s[0] + self.sc.walk_s[1]) / 2
        return total, (work / total + walk if total else 0)

    def erlang(self, hour):
        per_hour, mean = self.rates(hour)
        if not per_hour:
            return 0
        return erlang_c_windows(per_hour, mean, self.share, self.within, 4 * self.limit)

    def roster(self, open_by_hour):
        # Window k (in hall order) works the hours where at least k windows are wanted.
        shifts = []
        for k, number in enumerate(opening_order(self.sc.hall)):
            start = None
            for hour in self.hours + [None]:
                on = hour is not None and open_by_hour[hour.hour] > k
                if on and start is None:
                    start = hour.start
                elif not on and start is not None:
                    shifts.append(Shift(number, self.staff[k % len(self.staff)], start,
                                        hour.start if hour else self.sc.end))
                    start = None
        return shifts

    def _why(self, hour, erlang):
        # Why no count met the hour: more than the hall has by Erlang C, or what earlier hours
        # left waiting (Erlang C counts an hour on its own, starting in its steady state).
        if erlang is None:
            return "Erlang C needs more than %d" % (4 * self.limit)
        if erlang > self.limit:
            return "Erlang C needs %d" % erlang
        return "the queue left by earlier hours (Erlang C, for this hour alone, needs %d)" % erlang

    def _days(self, wanted, seeds):
        # Whole days of a plan ({hour: windows}) on the given seeds, from scratch, in this
        # process: each day's counts per hour (see judge).
        for seed in seeds:
            day = HallDay(replace(self.sc, seed=seed), staffing=dict(wanted), estimates=False,
                          order=opening_order(self.sc.hall), journal=False)
            day.begin()
            day.advance(self.sc.at(self.sc.end))
            yield judge(day, self.sc, self.hours, self.within, len(self.hours) - 1)

    def evaluate(self, wanted, seeds):
        # Per hour, on how many of the seeds' days the plan met the target (hours the plan
        # could not meet included).
        met = [0] * len(self.hours)
        for counts in self._days(wanted, seeds):
            for k, c in enumerate(counts):
                met[k] += hour_met(c, self.share)
        return met

    def days_met(self, wanted, seeds):
        # The promise, per hour: on how many of the seeds' days the plan met the target in
        # its worst promised hour; and on how many whole days it met it in every such hour
        # (fewer: different days miss different hours).
        per_hour = [0] * len(self.hours)
        whole = 0
        for counts in self._days(wanted, seeds):
            whole += day_ok(counts, self.share, self.skipped)
            for k, c in enumerate(counts):
                per_hour[k] += hour_met(c, self.share)
        return worst_hour(per_hour, self.skipped, len(seeds)), whole

    # ---- the search ------------------------------------------------------------------------

    def _start(self):
        seeds = list(range(self.sc.seed, self.sc.seed + self.days))
        ctx = multiprocessing.get_context("fork")
        self.pipes = []
        self.procs = []
        for k in range(self.workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_work, args=(theirs, self.sc, seeds[k::self.workers],
                                                   self.within), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def _stop(self):
        for pipe in self.pipes:
            pipe.send(("stop",))
        for proc in self.procs:
            proc.join(timeout=10)

    def _try(self, k, count, skip, full=False):
        # Whether every hour up to k (but those in skip) meets the target on the required
        # share of days with `count` windows in hour k, and the days' counts. A trial that
        # cannot pass stops early unless `full`.
        max_fail = None if full else self.days - self.required
        for pipe in self.pipes:
            pipe.send(("try", k, count, max_fail, self.share, skip))
        rows = []
        waiting = set(range(len(self.pipes)))
        text = "%s: trying %d windows" % (hhmm(self.hours[k].start), count)
        while waiting:
            for i in list(waiting):
                while self.pipes[i].poll(0.05):
                    msg = self.pipes[i].recv()
                    if msg[0] == "day":
                        self.runs += 1
                        self.progress(k, text)
                    else:
                        rows.extend(msg[1])
                        waiting.discard(i)
                        break
        return self._passes(rows, k, skip), rows

    def _passes(self, rows, k, skip):
        if len(rows) < self.days:
            return False
        return all(sum(hour_met(counts[j], self.share) for _, counts in rows) >= self.required
                   for j in range(k + 1) if j not in skip)

    def _search(self, k, low, high, skip):
        # The fewest windows in hour k that pass: (count, rows), or (None, rows with every
        # window) when not even every window does. Every window is tried first where the
        # range reaches it (an hour beyond the hall is then known at once); then halving
        # inside the guessed range [low, high] (low thought to fail, high to pass: a failing
        # trial stops early, so halving from far below is cheap), galloping out of it where
        # the guesses were wrong, and halving again.
        known = {}

        def passes(count):
            if count not in known:
                known[count] = self._try(k, count, skip, full=count == self.limit)
            return known[count][0]
        fail, ok = -1, None           # the largest count known to fail, the least known to pass
        if high == self.limit and high > low and not passes(high):
            return None, known[high][1]
        a, b = low, high
        while b - a > 1:
            mid = (a + b) // 2
            if passes(mid):
                ok = b = mid
            else:
                fail = a = mid
        if ok is None:                          # up from the range, doubling the step
            count, step = max(fail + 1, b), 1
            while not passes(count):
                fail = count
                if count == self.limit:
                    return None, known[count][1]
                count, step = min(self.limit, count + step), step * 2
            ok = count
        if fail < 0:                            # down from it
            step = 1
            while fail < 0 and ok > 0:
                count = max(0, ok - step)
                if passes(count):
                    ok, step = count, step * 2
                else:
                    fail = count
        while ok - fail > 1:
            mid = (fail + ok) // 2
            if passes(mid):
                ok = mid
            else:
                fail = mid
        return ok, known[ok][1]

    def plan(self):
        self._start()
        try:
            return self._plan()
        finally:
            self._stop()

    def _plan(self):
        wanted = {}
        erlang = {}
        skip = set()              # hours no count meets
        rows = None
        previous = None
        for k, hour in enumerate(self.hours):
            erlang[hour.hour] = self.erlang(hour)
            guess = self.limit if erlang[hour.hour] is None else min(self.limit,
                                                                    erlang[hour.hour])
            low = high = guess
            if k - 1 in skip:                     # a backlog comes in: between Erlang C for
                low, high = guess, max(guess, previous)     # the hour and what it had
            elif guess == self.limit:             # Erlang C wants more than there are: the
                low = guess // 2                  # day may still be filling (a first hour)
            count, rows = self._search(k, low, high, skip)
            if count is None:                     # not even with every window: all open, and
                skip.add(k)                       # the hour is left out of the judging after
                count = self.limit
            wanted[hour.hour] = previous = count
            self.progress(k + 1, "%s: %d windows" % (hhmm(hour.start), count))
            for pipe in self.pipes:
                pipe.send(("commit", count))
        whole_days = sum(day_ok(counts, self.share, skip) for _, counts in rows)
        self.skipped = skip
        result = []
        for k, hour in enumerate(self.hours):
            n = sum(counts[k][0] for _, counts in rows)
            ok = sum(counts[k][1] for _, counts in rows)
            days_met = sum(1 for _, counts in rows
                           if not counts[k][0] or counts[k][1] >= self.share * counts[k][0])
            result.append({"hour": hhmm(hour.start), "until": hhmm(hour.end),
                           "arrivals_per_hour": round(self.rates(hour)[0]),
                           "windows": wanted[hour.hour], "erlang_c": erlang[hour.hour],
                           "within_target": round(ok / n, 3) if n else None,
                           "days_met": days_met, "met": k not in skip,
                           "why": None if k not in skip else self._why(hour, erlang[hour.hour])})
        self.wanted = wanted
        met_days = worst_hour([r["days_met"] for r in result], skip, self.days)
        summary = {"days": self.days, "days_met": met_days, "whole_days_met": whole_days,
                   "days_promised": self.required,
                   "share_promised": self.required / self.days, "windows": self.limit,
                   "seeds": [self.sc.seed, self.sc.seed + self.days - 1]}
        return result, self.roster(wanted), summary


def why_not(row, limit):
    # The one line a manager reads for an hour the plan cannot meet.
    return "not met even with all %d windows: %s" % (limit, row["why"])


def hhmm(seconds):
    return "%02d:%02d" % divmod(seconds // 60, 60)
