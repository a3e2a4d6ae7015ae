"""hallctl report: a hall's month from the days its hub archived, as an operator reads it."""
import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.routing.core import RoutingCore
from firmware.routing.journal import DayArchive, FileStorage, MemoryStorage
from hall import at, config
from hallctl.collect import Store

HALLCTL = str(Path(sys.executable).parent / "hallctl")
NOV_23 = 0                     # hall.at() counts from 2026-11-23


def hallctl(*args):
    return subprocess.run([HALLCTL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=120)


def a_day(core, day, early=False):
    # Window 1 (张三, S1) and window 2 (李四, S2) each serve one citizen of A a day; 张三 is
    # rated 非常满意, 李四 不满意 (with a reason). On an early day window 2 closes at 10:00
    # while someone still waits.
    t = at("09:00") + day * 86400
    for window, staff in ((1, "S1"), (2, "S2")):
        core.window_open(t, window)
        core.login(t, window, staff)
    core.issue(t, "A")                 # A001 waits 5 min, A002 10 min
    core.issue(t, "A")
    core.call_next(t + 300, 1)
    core.start(t + 320, 1)
    core.finish(t + 900, 1)            # 580 s at the window
    core.rate(t + 905, 1, "A001", 1, (), "eval-1")
    core.call_next(t + 600, 2)
    core.start(t + 620, 2)
    core.finish(t + 1220, 2)           # 600 s
    core.rate(t + 1225, 2, "A002", 4, (1,), "eval-2")
    if early:
        core.issue(t + 3000, "A")
        core.window_close(t + 3600, 2)
    core.close_day(at("18:00") + day * 86400)


@pytest.fixture
def archive(tmp_path):
    """A hub directory with days.bin: Oct 31 and Nov 23-25 (the 24th with an early stop)."""
    hub = tmp_path / "hub"
    hub.mkdir()
    summaries = []
    core = RoutingCore(config(), FileStorage(str(hub / "journal.bin")), at("08:00") - 23 * 86400)
    archive = DayArchive(FileStorage(str(hub / "days.bin")))

    def keep(summary):
        summaries.append(summary)
        archive.add(summary)
    core.on_day_closed = keep
    a_day(core, -23)                                       # 2026-10-31
    for day in (0, 1, 2):
        a_day(core, day, early=day == 1)
    return hub, summaries


def test_the_month_from_the_hubs_day_archive(tmp_path, archive):
    hub, _ = archive
    proc = hallctl("report", hub, "--month", "2026-11", "--min-ratings", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    t = json.loads(proc.stdout)
    o = t["overall"]
    assert (o["days"], o["issued"], o["served"]) == (3, 7, 6)     # October is not in it
    assert o["mean_wait_min"] == 7.5 and o["sla"] == 1.0          # within A's 30 minutes
    assert o["satisfaction"] == 0.5 and o["ratings"] == 6
    assert o["early_stops"] == [{"date": "2026-11-24", "window": 2, "times": 1}]
    a = t["services"][0]
    assert (a["service"], a["name"], a["served"], a["mean_service_min"]) == ("A", "社保", 6, 9.8)
    assert a["unserved"] == 1
    staff = {p["staff"]: p for p in t["staff"]}
    assert staff["S1"]["rank"] == 1 and staff["S1"]["satisfaction"] == 1.0
    assert staff["S2"]["rank"] == 2 and staff["S2"]["satisfaction"] == 0.0
    assert staff["S1"]["served"] == 3 and staff["S1"]["name"] == "张三"
    windows = {w["window"]: w for w in t["windows"]}
    assert windows[2]["early_stops"] == 1 and windows[1]["satisfaction"] == 1.0


def test_the_table_csv_and_plots(tmp_path, archive):
    hub, _ = archive
    proc = hallctl("report", hub / "days.bin", "--month", "2026-11", "--min-ratings", "3",
                   "--csv", tmp_path / "csv", "--png", tmp_path / "png")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "district-1 2026-11: 3 days, 7 tickets issued, 6 served, 0 refused"
    assert "     1. S1     张三     满意率 100.0%, 非常满意 100.0%, 3 ratings, 3 served" in lines
    assert "  C   公积金            0       0         -" in proc.stdout   # aligned in a terminal
    assert "    2026-11-24  window 2" in lines
    with open(tmp_path / "csv" / "staff.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["staff"] for r in rows] == ["S1", "S2"] and rows[0]["name"] == "张三"
    with open(tmp_path / "csv" / "days.csv", encoding="utf-8") as f:
        assert [r["date"] for r in csv.DictReader(f)] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    for name in ("days.png", "windows.png", "staff.png"):
        assert (tmp_path / "png" / name).read_bytes()[:4] == b"\x89PNG"
    # Fewer ratings than asked for: nobody is ranked, and the report says so.
    few = hallctl("report", hub, "--month", "2026-11")
    assert "    nobody has enough ratings this month" in few.stdout.splitlines()


def test_a_damaged_archive_says_so(tmp_path, archive):
    # Random bytes, a truncated file and an empty one are not "no closed days"; an archive
    # with one damaged day still reports the others and says on stderr what is missing.
    hub, _ = archive
    good = (hub / "days.bin").read_bytes()
    import random
    cases = {"random.bin": (random.Random(7).randbytes(5000),
                            "damaged: 5000 bytes in 1 place could not be read; no closed day "
                            "in it could be read"),
             "cut.bin": (good[:len(good) // 4 - 9], "damaged: its last record is cut short"),
             "empty.bin": (b"", "empty: no closed days in it yet")}
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        proc = hallctl("report", path, "--month", "2026-11")
        assert proc.returncode == 2 and proc.stdout == "", proc.stderr
        assert proc.stderr.startswith("hallctl: %s: %s" % (path, message)), proc.stderr
        assert proc.stderr.count("\n") == 1
        assert path.read_bytes() == data                 # a report never repairs the file
    hurt = bytearray(good)
    hurt[len(good) // 2] ^= 0xFF                          # inside one of the four days
    path = tmp_path / "hurt.bin"
    path.write_bytes(bytes(hurt))
    proc = hallctl("report", path, "--month", "2026-11", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("hallctl: warning: %s: damaged: " % path)
    assert proc.stderr.endswith("the days in them are missing from this report\n")
    assert json.loads(proc.stdout)["overall"]["days"] < 3


def test_report_files_to_a_place_it_cannot_write(tmp_path, archive):
    hub, _ = archive
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    for option, place, message in (
            ("--csv", "/sys/qms-csv", "--csv /sys/qms-csv: cannot create it in /sys: "),
            ("--png", afile, "--png %s: not a directory" % afile),
            ("--csv", afile / "x", "--csv %s: cannot create it: %s is not a directory"
             % (afile / "x", afile))):
        proc = hallctl("report", hub, "--month", "2026-11", option, place)
        assert proc.returncode == 2 and proc.stdout == "", proc.stderr
        assert proc.stderr.startswith("hallctl: " + message) and proc.stderr.count("\n") == 1
    assert afile.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "hub"]


def test_the_same_month_from_a_collect_database(tmp_path, archive):
    _, summaries = archive
    url = "sqlite:///" + str(tmp_path / "city.db")
    store = Store(url)
    for s in summaries + summaries[1:2]:                   # one arrived twice
        store.add("qms/district-1/hub/day", json.dumps(s, ensure_ascii=False).encode(), 0.0)
    store.add("qms/district-9/hub/day", json.dumps(dict(summaries[1], hall="district-9")).encode(),
              0.0)
    store.commit()
    both = hallctl("report", url, "--month", "2026-11")
    assert both.returncode == 2 and "holds 2 halls (district-1, district-9)" in both.stderr
    proc = hallctl("report", url, "--month", "2026-11", "--hall", "district-1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["overall"]["served"] == 6


def test_report_errors_are_one_line(tmp_path, archive):
    hub, _ = archive
    cases = [
        (("report", hub, "--month", "11/2026"), "hallctl: --month: expected YYYY-MM, got '11/2026'"),
        (("report", tmp_path / "nothing", "--month", "2026-11"),
         "hallctl: %s: no such file (expected the hub's days.bin, its directory, or a database "
         "URL)" % (tmp_path / "nothing")),
        (("report", hub / "journal.bin", "--month", "2026-11"),
         "hallctl: %s: no closed days in it (the hub archives each day in days.bin beside its "
         "journal when the day closes)" % (hub / "journal.bin")),
        (("report", hub, "--month", "2026-09"),
         "hallctl: %s: no closed days of district-1 in 2026-09 (it has 2026-10, 2026-11)" % hub),
    ]
    for args, message in cases:
        proc = hallctl(*args)
        assert proc.returncode == 2 and proc.stderr == message + "\n", proc.stderr


HALLSIM = str(Path(sys.executable).parent / "hallsim")
DISTRICT = Path(__file__).resolve().parent.parent / "host_sim" / "scenarios" / "district.toml"


def a_busy_short_day(tmp_path):
    # The district office with twice its morning rush, closed at 10:45: at close people still
    # wait and some are at a window, the day's maximum waits are exceeded, and patience is
    # short enough that some give up.
    text = DISTRICT.read_text(encoding="utf-8")
    text = text.replace('end = "17:30"', 'end = "10:45"')
    text = text.replace('["08:30", 30]', '["08:30", 70]').replace('["08:30", 16]', '["08:30", 36]')
    text = text.replace("max_wait_min = 30", "max_wait_min = 12")
    text = text.replace("mean_min = 90 ", "mean_min = 40 ")
    path = tmp_path / "busy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("level, seeds", [("ticket", (1, 2, 3, 4)), ("frame", (5,))])
def test_the_report_agrees_with_hallsim_on_the_same_days(tmp_path, level, seeds):
    # Every figure hallctl report reads from the hub's days.bin is the one hallsim printed for
    # the same simulated day, on days that close with people waiting and at a window.
    scenario = a_busy_short_day(tmp_path)
    for seed in seeds:
        out = tmp_path / ("day-%d" % seed)
        sim = subprocess.run([HALLSIM, "run", str(scenario), "--level", level, "--seed",
                              str(seed), "--out", str(out), "--json"],
                             capture_output=True, text=True, timeout=600)
        assert sim.returncode in (0, 1), sim.stderr
        day = json.loads(sim.stdout)
        assert day["ends"].get("unserved at close", 0) > 0          # the day is cut at close
        assert day["within_max_wait"] < 1                           # and some waited too long
        proc = hallctl("report", out / "days.bin", "--month", "2026-11", "--json")
        assert proc.returncode == 0, proc.stderr
        month = json.loads(proc.stdout)
        overall = month["overall"]
        assert overall["days"] == 1
        assert overall["issued"] == day["tickets"]
        assert overall["served"] == day["ends"]["finished"]
        assert overall["refused"] == day["refused"]
        assert overall["mean_wait_min"] == day["mean_wait_min"]
        assert round(overall["sla"], 3) == day["within_max_wait"]
        assert round(overall["satisfaction"], 3) == day["satisfaction"]
        assert overall["rating_rejects"] == day["rating_rejects"]
        unserved = 0
        for row in month["services"]:
            mine = day["services"][row["service"]]
            assert (row["issued"], row["served"], row["mean_wait_min"]) == \
                (mine["issued"], mine["served"], mine["mean_wait_min"]), row["service"]
            assert (None if row["sla"] is None else round(row["sla"], 3)) == \
                mine["within_max_wait"], row["service"]
            assert 0 <= (row["sla"] or 0) <= 1
            unserved += row["unserved"]
        # At frame level nobody tells the hub of a citizen who gave up: it still holds them.
        assert unserved == day["hub_ends"]["unserved at close"]
        assert day["hub_ends"]["unserved at close"] >= day["ends"]["unserved at close"]
