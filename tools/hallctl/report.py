"""hallctl report DAYS_OR_DB --month 2026-11: a hall's month from the days its hub closed.

Every close of day the hub summarises the day (RoutingCore.day_summary: tickets, waits, service
times, ends, ratings per window, service and staff member, early stops) and keeps it: an ESP32
or unix-port hub in days.bin beside its journal (the journal itself is compacted at close of
day), a hub on MQTT also publishes it on qms/HALL/hub/day, where `hallctl collect` stores it.
So the source is a days.bin, the hub's directory holding one, or a collect database
(sqlite:///PATH or postgresql://...).

The report: the month's totals, per service (waits, service times, SLA: the share called
within the service's maximum wait, ends), per window (served, early stops, 满意率), per staff
member, the 服务标兵 ranking (highest 满意率 among those with at least --min-ratings ratings;
ties go to more 非常满意, then more served), and the windows that stopped early, day by day.
As a table, --json, --csv DIR (services, windows, staff, days) and --png DIR (plots).
"""
import csv
import io
import json
import re
import sys
from pathlib import Path

from hallpc.errors import CommandError
from hallpc.files import check_out_dir, write_files
from hallpc.figures import satisfaction

END_NAMES = ("finished", "no_show", "gave_up", "transferred", "unserved")
LEVEL_NAMES = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")


def load_days(source, warn=None):
    """Every day summary in a days.bin, a hub directory or a collect database."""
    if re.match(r"^(sqlite|postgres|postgresql)://", source):
        return _from_db(source)
    path = Path(source)
    if path.is_dir():
        path = path / "days.bin"
    if not path.is_file():
        raise CommandError("%s: no such file (expected the hub's days.bin, its directory, or a "
                           "database URL)" % path)
    from firmware.routing.journal import FileStorage, JournalError, read_days_checked
    try:
        days, damage, other = read_days_checked(_ReadOnly(FileStorage(str(path))))
    except (JournalError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise CommandError("%s: not a day archive: %s" % (path, exc)) from None
    hurt = damage_text(damage)
    if not days and (hurt or not other):
        raise CommandError("%s: damaged: %s; no closed day in it could be read" % (
            path, hurt or "not a day archive") if path.stat().st_size else
            "%s: empty: no closed days in it yet" % path)
    if not days:
        raise CommandError("%s: no closed days in it (the hub archives each day in days.bin "
                           "beside its journal when the day closes)" % path)
    if hurt and warn is not None:
        warn("%s: damaged: %s; the days in them are missing from this report" % (path, hurt))
    return days


def damage_text(damage):
    # What a read stepped over, for the operator ("" where nothing was).
    parts = []
    if damage.regions:
        parts.append("%d bytes in %d place%s could not be read" % (
            damage.bad_bytes, damage.regions, "" if damage.regions == 1 else "s"))
    if damage.torn:
        parts.append("its last record is cut short (%d bytes)" % damage.torn)
    return ", ".join(parts)


class _ReadOnly:
    # A report never changes the hub's files, even where their tail is torn.
    def __init__(self, storage):
        self.storage = storage

    def chunks(self, size=4096):
        return self.storage.chunks(size)

    def truncate(self, length):
        pass


def _from_db(url):
    from hallctl.collect import Store
    store = Store(url, readonly=True)
    try:
        rows = store.db.execute("SELECT body FROM events WHERE direction = 'day' AND "
                                "type = 'day'")
    except Exception as exc:            # sqlite3's or psycopg's: not a collect database
        raise CommandError("%s: not a collect database: %s" % (url, exc)) from None
    days = {}
    for (body,) in rows.fetchall():
        try:
            doc = json.loads(body)
        except ValueError:
            continue
        if isinstance(doc, dict) and "day" in doc and "hall" in doc:
            days[(doc["hall"], doc["day"])] = doc
    if not days:
        raise CommandError("%s: no closed days collected (hubs publish each on qms/HALL/hub/day)"
                           % url)
    return [days[k] for k in sorted(days, key=lambda k: (k[1], k[0]))]


class Month:
    """The month's figures for one hall, added up from its day summaries."""

    def __init__(self, hall, month, days):
        self.hall, self.month, self.days = hall, month, days
        self.services = {}       # prefix -> figures
        self.windows = {}        # number -> figures
        self.staff = {}          # id -> figures
        self.daily = []
        self.early = []          # (date, window, times)
        self.refused = 0
        self.rating_rejects = 0
        self.journal_lost = []   # (date, records the hub could not read from its journal)
        for day in days:
            self._add(day)

    def _add(self, d):
        levels = 6
        issued_day = served_day = wait_day = within_day = 0
        ratings_day = [0] * 6
        for k, prefix in enumerate(d["services"]):
            s = self.services.setdefault(prefix, {
                "service": prefix, "name": prefix, "issued": 0, "served": 0, "wait_s": 0,
                "service_s": 0, "within": 0, "ratings": [0] * 6,
                **{name: 0 for name in END_NAMES}})
            s["name"] = d["names"][k]
            s["issued"] += d["issued"][k]
            s["served"] += d["served"][k]
            s["wait_s"] += d["wait_sum"][k]
            s["service_s"] += d["service_sum"][k]
            s["within"] += d["within_max_wait"][k]
            for e, name in enumerate(END_NAMES):
                s[name] += d["ends"][5 * k + e]
            for level in range(1, levels):
                s["ratings"][level] += d["service_ratings"][6 * k + level]
                ratings_day[level] += d["service_ratings"][6 * k + level]
            issued_day += d["issued"][k]
            served_day += d["served"][k]
            wait_day += d["wait_sum"][k]
            within_day += d["within_max_wait"][k]
        for k, number in enumerate(d["windows"]):
            w = self.windows.setdefault(number, {"window": number, "served": 0, "busy_s": 0,
                                                 "early_stops": 0, "ratings": [0] * 6})
            w["served"] += d["window_served"][k]
            w["busy_s"] += d["window_busy"][k]
            w["early_stops"] += d["early_stops"][k]
            if d["early_stops"][k]:
                self.early.append((d["date"], number, d["early_stops"][k]))
            for level in range(1, levels):
                w["ratings"][level] += d["window_ratings"][6 * k + level]
        for sid in set(d["staff_ratings"]) | set(d["staff_served"]):
            p = self.staff.setdefault(sid, {"staff": sid, "name": "", "served": 0,
                                            "ratings": [0] * 6})
            p["name"] = d["staff"].get(sid, p["name"])
            p["served"] += d["staff_served"].get(sid, 0)
            counts = d["staff_ratings"].get(sid, [0] * 6)
            for level in range(1, levels):
                p["ratings"][level] += counts[level]
        self.refused += d["refused"]
        self.rating_rejects += sum(d["rating_rejects"])
        if d.get("journal_lost"):
            self.journal_lost.append((d["date"], d["journal_lost"]))
        self.daily.append({"date": d["date"], "issued": issued_day, "served": served_day,
                           "mean_wait_min": _minutes(wait_day, served_day),
                           "sla": _share(within_day, served_day),
                           "satisfaction": satisfaction(ratings_day)[0],
                           "early_stops": sum(d["early_stops"])})

    def ranking(self, min_ratings):
        """服务标兵: staff with enough ratings, best 满意率 first."""
        eligible = []
        for p in self.staff.values():
            rate, n = satisfaction(p["ratings"])
            if n >= min_ratings:
                eligible.append((-rate, -p["ratings"][1] / n, -p["served"], p["staff"], p))
        eligible.sort()
        return [item[-1] for item in eligible]

    def tables(self, min_ratings):
        services = []
        for s in self.services.values():
            rate, n = satisfaction(s["ratings"])
            services.append({"service": s["service"], "name": s["name"], "issued": s["issued"],
                             "served": s["served"],
                             "mean_wait_min": _minutes(s["wait_s"], s["served"]),
                             "mean_service_min": _minutes(s["service_s"], s["served"]),
                             "sla": _share(s["within"], s["served"]),
                             **{name: s[name] for name in END_NAMES},
                             "ratings": n, "satisfaction": rate})
        windows = []
        for number in sorted(self.windows):
            w = self.windows[number]
            rate, n = satisfaction(w["ratings"])
            windows.append({"window": number, "served": w["served"],
                            "busy_h": round(w["busy_s"] / 3600, 1),
                            "early_stops": w["early_stops"], "ratings": n, "satisfaction": rate})
        staff = []
        ranked = {p["staff"]: k + 1 for k, p in enumerate(self.ranking(min_ratings))}
        for sid in sorted(self.staff, key=lambda i: (ranked.get(i, 10 ** 6), i)):
            p = self.staff[sid]
            rate, n = satisfaction(p["ratings"])
            staff.append({"rank": ranked.get(sid), "staff": sid, "name": p["name"],
                          "served": p["served"], "ratings": n, "satisfaction": rate,
                          "very_satisfied": _share(p["ratings"][1], n)})
        served = sum(s["served"] for s in self.services.values())
        total = [0] * 6
        for s in self.services.values():
            for level in range(1, 6):
                total[level] += s["ratings"][level]
        overall = {"hall": self.hall, "month": self.month, "days": len(self.days),
                   "issued": sum(s["issued"] for s in self.services.values()), "served": served,
                   "refused": self.refused,
                   "mean_wait_min": _minutes(sum(s["wait_s"] for s in self.services.values()),
                                             served),
                   "sla": _share(sum(s["within"] for s in self.services.values()), served),
                   "satisfaction": satisfaction(total)[0], "ratings": sum(total),
                   "rating_rejects": self.rating_rejects,
                   "journal_lost": [{"date": d, "records": n} for d, n in self.journal_lost],
                   "early_stops": [{"date": d, "window": w, "times": n}
                                   for d, w, n in self.early]}
        return {"overall": overall, "services": services, "windows": windows, "staff": staff,
                "days": self.daily}


def _wide(text, width):
    # Left-justified to a terminal width: CJK characters take two columns.
    import unicodedata
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _minutes(seconds, n):
    return round(seconds / n / 60, 1) if n else None


def _share(part, whole):
    return round(part / whole, 3) if whole else None


def _pct(x):
    return "-" if x is None else "%.1f%%" % (100 * x)


def _num(x):
    return "-" if x is None else str(x)


def text(t, min_ratings):
    o = t["overall"]
    out = ["%s %s: %d days, %d tickets issued, %d served, %d refused" % (
        o["hall"], o["month"], o["days"], o["issued"], o["served"], o["refused"]),
        "  mean wait %s min; SLA (called within the maximum wait) %s; 满意率 %s of %d ratings "
        "(%d rejected)" % (_num(o["mean_wait_min"]), _pct(o["sla"]), _pct(o["satisfaction"]),
                           o["ratings"], o["rating_rejects"]), ""]
    for lost in o["journal_lost"]:
        out.insert(-1, "  ! %s: the hub could not read %d records of its journal; that day's "
                   "figures may be short" % (lost["date"], lost["records"]))
    out.append("  service          issued  served  wait min  service min     SLA  no-show  "
               "gave up   满意率")
    for s in t["services"]:
        out.append("  %-3s %s %6d %7d %9s %12s %7s %8d %8d %8s" % (
            s["service"], _wide(s["name"], 12), s["issued"], s["served"], _num(s["mean_wait_min"]),
            _num(s["mean_service_min"]), _pct(s["sla"]), s["no_show"], s["gave_up"],
            _pct(s["satisfaction"])))
    out += ["", "  window  served  busy h  early stops  ratings   满意率"]
    for w in t["windows"]:
        out.append("  %6d %7d %7.1f %12d %8d %8s" % (w["window"], w["served"], w["busy_h"],
                                                     w["early_stops"], w["ratings"],
                                                     _pct(w["satisfaction"])))
    out += ["", "  服务标兵 (at least %d ratings)" % min_ratings]
    ranked = [p for p in t["staff"] if p["rank"] is not None]
    if not ranked:
        out.append("    nobody has enough ratings this month")
    for p in ranked[:10]:
        out.append("    %2d. %-6s %s 满意率 %s, 非常满意 %s, %d ratings, %d served" % (
            p["rank"], p["staff"], _wide(p["name"], 8), _pct(p["satisfaction"]),
            _pct(p["very_satisfied"]), p["ratings"], p["served"]))
    out += ["", "  windows that stopped early"]
    if not o["early_stops"]:
        out.append("    none")
    for e in o["early_stops"]:
        out.append("    %s  window %d%s" % (e["date"], e["window"],
                                            " (%d times)" % e["times"] if e["times"] > 1 else ""))
    return "\n".join(out) + "\n"


def csv_files(t):
    """[(name, text)]: the month's services, windows, staff and days as CSV."""
    files = []
    for name in ("services", "windows", "staff", "days"):
        rows = t[name]
        f = io.StringIO(newline="")
        if rows:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        files.append(("%s.csv" % name, f.getvalue()))
    return files


def png_files(t, min_ratings):
    """[(name, PNG bytes)]: the month's plots."""
    from hallpc.plotting import png, pyplot
    plt = pyplot()
    o = t["overall"]
    written = []

    def save(fig, name, title):
        written.append((name, png(fig, "%s %s: %s" % (o["hall"], o["month"], title))))

    days = t["days"]
    labels = [d["date"][-2:] for d in days]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(labels, [d["mean_wait_min"] or 0 for d in days], color="#4c72b0", label="mean wait")
    ax.set_xlabel("day of the month")
    ax.set_ylabel("mean wait (minutes)")
    ax2 = ax.twinx()
    ax2.plot(labels, [100 * (d["sla"] or 0) for d in days], "o-", color="#dd8452", label="SLA")
    ax2.set_ylabel("called within the maximum wait (%)")
    ax2.set_ylim(0, 105)
    save(fig, "days.png", "waiting and SLA by day")

    windows = t["windows"]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar([str(w["window"]) for w in windows], [100 * (w["satisfaction"] or 0) for w in windows],
           color="#55a868")
    ax.set_xlabel("window")
    ax.set_ylabel("满意率 (%)")
    ax.set_ylim(0, 105)
    save(fig, "windows.png", "满意率 by window")

    ranked = [p for p in t["staff"] if p["rank"] is not None][:10]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.barh(["%d. %s" % (p["rank"], p["name"] or p["staff"]) for p in ranked][::-1],
            [100 * p["satisfaction"] for p in ranked][::-1], color="#c44e52")
    ax.set_xlabel("满意率 (%%), at least %d ratings" % min_ratings)
    ax.set_xlim(0, 105)
    save(fig, "staff.png", "服务标兵")
    return written


class Report:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("source", help="the hub's days.bin (or its directory), or a "
                                           "collect database: sqlite:///PATH, postgresql://...")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--hall", help="which hall, where the source has several")
        parser.add_argument("--min-ratings", type=int, default=20,
                            help="ratings a staff member needs to be ranked (default 20)")
        parser.add_argument("--json", action="store_true", help="the figures as one JSON object")
        parser.add_argument("--csv", metavar="DIR", help="also write services, windows, staff "
                                                        "and days as CSV files")
        parser.add_argument("--png", metavar="DIR", help="also write plots")

    @staticmethod
    def run(args, stdin, stdout):
        if not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", args.month):
            raise CommandError("--month: expected YYYY-MM, got %r" % args.month)
        for option, place in (("--csv", args.csv), ("--png", args.png)):
            if place is not None:
                check_out_dir(place, option)
        days = load_days(args.source, lambda text: sys.stderr.write("hallctl: warning: %s\n"
                                                                    % text))
        halls = sorted({d["hall"] for d in days})
        if args.hall:
            if args.hall not in halls:
                raise CommandError("%s: no hall %r (it has %s)" % (args.source, args.hall,
                                                                   ", ".join(halls)))
            halls = [args.hall]
        elif len(halls) > 1:
            raise CommandError("%s: holds %d halls (%s): choose one with --hall" % (
                args.source, len(halls), ", ".join(halls)))
        hall = halls[0]
        mine = [d for d in days if d["hall"] == hall and d["date"].startswith(args.month)]
        if not mine:
            have = sorted({d["date"][:7] for d in days if d["hall"] == hall})
            raise CommandError("%s: no closed days of %s in %s (it has %s)" % (
                args.source, hall, args.month, ", ".join(have)))
        t = Month(hall, args.month, mine).tables(args.min_ratings)
        if args.json:
            stdout.write(json.dumps(t, ensure_ascii=False) + "\n")
        else:
            stdout.write(text(t, args.min_ratings))
        files = []
        if args.csv:
            files += write_files(args.csv, csv_files(t), inputs=[args.source])
        if args.png:
            files += write_files(args.png, png_files(t, args.min_ratings), inputs=[args.source])
        if files and not args.json:
            stdout.write("\nwrote %s\n" % ", ".join(str(f) for f in files))
        return 0
