"""The day's report: waits, SLA, utilisation, satisfaction, alerts, estimate accuracy and what
was lost; as text, and with --out as JSON and CSV."""
import csv
import io
import json

from protocol.codes import FINISHED
from firmware.routing.config import S_PREFIX, S_MAX_WAIT
from host_sim.hallday import ENDS
from host_sim.scenario import hhmm

ALERT_NAMES = {1: "wait too long", 2: "over time limit", 3: "window idle", 4: "open a window",
               7: "paused or closed with people waiting"}


def percentile(values, q):
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(scenario, result):
    hall = scenario.hall
    served = [t for t in result.tickets if t.how == FINISHED]
    waits = [t.wait for t in served]
    max_wait = {s[S_PREFIX]: s[S_MAX_WAIT] for s in hall.services}
    services = {}
    for prefix in [s[S_PREFIX] for s in hall.services]:
        mine = [t for t in served if t.service == prefix]
        w = [t.wait for t in mine]
        services[prefix] = {
            "issued": sum(1 for t in result.tickets if t.service == prefix),
            "served": len(mine),
            "mean_wait_min": round(sum(w) / len(w) / 60, 1) if w else 0,
            "p90_wait_min": round(percentile(w, 0.9) / 60, 1),
            "within_max_wait": round(sum(1 for x in w if x <= max_wait[prefix]) / len(w), 3) if w else None,
        }
    windows = {}
    for number in hall.numbers:
        staffed = result.staffed.get(number, 0)
        ratings = [r[3] for r in result.ratings if r[0] == number]
        windows[number] = {
            "utilisation": round(result.busy.get(number, 0) / staffed, 3) if staffed else None,
            "ratings": len(ratings),
            "satisfaction": _satisfaction(ratings),
        }
    staff = {}
    for _, who, _, level in result.ratings:
        staff.setdefault(who, []).append(level)
    ends, hub_ends = {}, {}
    for t in result.tickets:
        how = end(t)
        ends[how] = ends.get(how, 0) + 1
        how = how if t.voided else ENDS[t.how]
        hub_ends[how] = hub_ends.get(how, 0) + 1
    return {
        "scenario": scenario.name,
        "arrivals": result.arrivals,
        "tickets": len(result.tickets),
        "refused": result.refused,
        "ends": ends,
        # What the hub's books say became of each ticket (hallctl report reads these);
        # they differ from ends only where the hub was not told, as of a citizen who gave up.
        "hub_ends": hub_ends,
        "mean_wait_min": round(sum(waits) / len(waits) / 60, 1) if waits else 0,
        "p90_wait_min": round(percentile(waits, 0.9) / 60, 1),
        "max_wait_min": round(max(waits) / 60, 1) if waits else 0,
        "within_max_wait": round(sum(1 for t in served if t.wait <= max_wait[t.service])
                                 / len(served), 3) if served else None,
        "services": services,
        "windows": windows,
        "satisfaction": _satisfaction([r[3] for r in result.ratings]),
        "staff_satisfaction": {who: _satisfaction(levels) for who, levels in sorted(staff.items())},
        "rating_rejects": result.rating_rejects,
        "alerts": {ALERT_NAMES.get(k, str(k)): v for k, v in sorted(result.alerts.items())},
        "estimate_mae_min": round(result.estimate_error / 60, 1),
        "naive_mae_min": round(result.naive_error / 60, 1),
        "estimate_vs_naive": round(result.estimate_error / result.naive_error, 2)
        if result.naive_error else None,
        "lost": lost(result) + result.checks.get("problems", 0),
        "hub_restarts": result.hub_restarts,
        "frame_level": result.checks or None,
    }


def _satisfaction(levels):
    # 满意率 of a list of rating levels, as hallctl report defines it from counts.
    from hallpc.figures import satisfaction
    counts = [0] * 6
    for level in levels:
        counts[level] += 1
    rate = satisfaction(counts)[0]
    return None if rate is None else round(rate, 3)


def end(ticket):
    # What became of a ticket. A citizen who left is counted as gone at both levels; at frame
    # level nobody told the hub, so it called them in vain first (walked_away_called) and its
    # books say no-show (tickets.csv's hub_end).
    if ticket.voided:
        return "voided (not printed)"
    return "gave up" if ticket.gone else ENDS[ticket.how]


def lost(result):
    # Tickets that did not end as finished, gave up, no-show, transferred or unserved at close.
    return sum(1 for t in result.tickets if t.how < 0)


def text(s):
    lines = ["%s: %d came, %d tickets, %d refused"
             % (s["scenario"], s["arrivals"], s["tickets"], s["refused"]),
             "  ends: " + ", ".join("%s %d" % kv for kv in sorted(s["ends"].items())),
             "  wait: mean %.1f min, p90 %.1f, max %.1f; within the maximum wait %s"
             % (s["mean_wait_min"], s["p90_wait_min"], s["max_wait_min"], _pct(s["within_max_wait"])),
             "  satisfaction (满意率) %s; ratings rejected %d" % (_pct(s["satisfaction"]), s["rating_rejects"]),
             "  wait estimates: mean error %.1f min (naive %.1f min)"
             % (s["estimate_mae_min"], s["naive_mae_min"]),
             "  alerts: " + (", ".join("%s %d" % kv for kv in s["alerts"].items()) or "none"),
             "  lost: %d (hub restarts from its journal: %d)" % (s["lost"], s["hub_restarts"])]
    f = s.get("frame_level")
    if f:
        lines += [
            "  bus: %d devices, %d online at close; call key to board p50 %.0f ms, p99 %.0f ms"
            % (f["devices"], f["devices_online"], f["call_latency_ms_p50"],
               f["call_latency_ms_p99"]),
            "  books: %d issued, %d printed, %d first calls (%d twice), ratings %d given, "
            "%d recorded" % (f["issued"], f["printed"], f["calls"], f["duplicated_calls"],
                             f["ratings_given"], f["ratings_recorded"]),
            "  gave up: %d walked away unseen, %d of them called in vain (recalled, then "
            "no-show to the hub)" % (f["walked_away"], f["walked_away_called"]),
            "  faults: %d frames corrupted, %d lost, %d garbled by collisions, %d device "
            "restarts, %d paper outs" % (f["frames_corrupted"], f["frames_lost"], f["collisions"],
                                         f["device_reboots"], f["paper_outs"])]
    lines += ["",
              "  service  issued served  mean wait  p90  in time"]
    for prefix, v in s["services"].items():
        lines.append("  %-7s %6d %6d %8.1f m %5.1f %8s" % (prefix, v["issued"], v["served"],
                                                            v["mean_wait_min"], v["p90_wait_min"],
                                                            _pct(v["within_max_wait"])))
    lines += ["", "  window  utilisation  ratings  satisfaction"]
    for number, v in s["windows"].items():
        lines.append("  %6d %12s %8d %13s" % (number, _pct(v["utilisation"]), v["ratings"],
                                                _pct(v["satisfaction"])))
    return "\n".join(lines)


def _pct(x):
    return "-" if x is None else "%.0f%%" % (100 * x)


def files(scenario, result, s):
    """[(name, data)] of the day's report files: report.json, tickets.csv, queue.csv and the
    hub's archive of the day (days.bin, as hallctl report reads it)."""
    tickets = io.StringIO(newline="")
    w = csv.writer(tickets)
    w.writerow(["ticket", "service", "issued_local", "end", "hub_end", "wait_s", "estimate_s",
                "naive_s"])
    for t in result.tickets:
        w.writerow([t.name, t.service, _local(scenario, t.issued), end(t), ENDS[t.how], t.wait,
                    t.estimate, t.naive])
    queue = io.StringIO(newline="")
    w = csv.writer(queue)
    w.writerow(["time", "waiting"])
    for seconds, waiting in result.queue:
        w.writerow([hhmm(seconds), waiting])
    out = [("report.json", json.dumps(s, ensure_ascii=False, indent=2) + "\n"),
           ("tickets.csv", tickets.getvalue()), ("queue.csv", queue.getvalue())]
    if result.days:
        from firmware.routing.journal import DayArchive, MemoryStorage
        storage = MemoryStorage()
        archive = DayArchive(storage)
        for summary in result.days:
            archive.add(summary)
        out.append(("days.bin", bytes(storage.data)))
    return out


def _local(scenario, utc):
    seconds = utc - scenario.midnight
    return "%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
