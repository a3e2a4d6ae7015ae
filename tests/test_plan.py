"""hallsim plan: the fewest windows per hour for a waiting-time target, beside Erlang C."""
import json
import math

import pytest

from host_sim import scenario as scenarios
from host_sim.plan import Planner, erlang_c_windows, parse_target
from test_hallsim import hallsim


def within(c, per_hour, mean_s, t):
    # P(wait <= t) in M/M/c, by the Erlang B recursion (another route to Erlang C).
    a = per_hour / 3600 * mean_s
    if c <= a:
        return 0.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = c * b / (c - a * (1 - b))
    return 1 - p_wait * math.exp(-(c - a) / mean_s * t)


@pytest.mark.parametrize("per_hour,mean_s,share,t", [(20, 120, 0.9, 300), (20, 120, 0.99, 60),
                                                       (120, 300, 0.9, 900), (400, 180, 0.8, 120)])
def test_erlang_c_gives_the_fewest_windows_that_meet_the_target(per_hour, mean_s, share, t):
    c = erlang_c_windows(per_hour, mean_s, share, t, 100)
    assert within(c, per_hour, mean_s, t) >= share > within(c - 1, per_hour, mean_s, t)
    assert erlang_c_windows(0, mean_s, share, t, 100) == 0
    assert erlang_c_windows(per_hour, mean_s, share, t, c - 1) is None    # more than there are


def small_hall():
    doc = {
        "scenario": {"name": "small", "start": "09:00", "end": "15:00", "seed": 2},
        "hall": {"services": [{"prefix": "A", "open": "09:00", "close": "15:00",
                               "last_ticket": "14:00", "service_min": 5, "max_wait_min": 60}],
                 "windows": [{"number": n, "services": ["A"]} for n in range(1, 7)],
                 "staff": {"S%d" % n: "s" for n in range(1, 7)}},
        "arrivals": {"A": [["09:00", 40], ["11:00", 12], ["14:00", 0]]},
        "service_times": {"A": {"mean_min": 5, "cv": 0.5}},
        "roster": [{"window": n, "staff": "S%d" % n, "from": "09:00", "to": "15:00"}
                   for n in range(1, 7)],
    }
    return scenarios.parse(doc, "small.toml")


@pytest.fixture(scope="module")
def planned():
    planner = Planner(small_hall(), 0.9, 10 * 60)
    rows, roster, summary = planner.plan()
    return planner, rows, roster, summary


def test_plan_meets_the_target_on_the_stated_share_of_days_with_fewer_windows_when_quiet(planned):
    planner, rows, roster, summary = planned
    assert summary["days"] == 20 and summary["days_promised"] == 18
    assert all(r["met"] and r["days_met"] >= 18 for r in rows), rows
    busy = [r for r in rows if r["hour"] in ("09:00", "10:00")]
    quiet = [r for r in rows if r["hour"] in ("11:00", "12:00", "13:00")]
    assert min(r["windows"] for r in busy) > max(r["windows"] for r in quiet)
    # what it says is what whole days from scratch give, hour by hour
    seeds = range(planner.sc.seed, planner.sc.seed + planner.days)
    assert planner.evaluate(planner.wanted, seeds) == [r["days_met"] for r in rows]
    # the summary's promise is the worst hour's; whole days meeting every hour are fewer
    assert summary["days_met"] == min(r["days_met"] for r in rows) >= 18
    assert planner.days_met(planner.wanted, seeds) == (summary["days_met"],
                                                       summary["whole_days_met"])
    assert summary["whole_days_met"] <= summary["days_met"]


def test_plan_is_minimal_one_window_fewer_in_any_hour_breaks_the_promise(planned):
    planner, rows, roster, summary = planned
    seeds = range(planner.sc.seed, planner.sc.seed + planner.days)
    for k, hour in enumerate(planner.hours):
        if not planner.wanted[hour.hour]:
            continue
        fewer = dict(planner.wanted)
        fewer[hour.hour] -= 1
        met = planner.evaluate(fewer, seeds)
        assert min(met) < planner.required, (hour.hour, met)   # perhaps a later hour's


def test_the_roster_is_the_plan(planned):
    planner, rows, roster, summary = planned
    for row in rows:
        start = int(row["hour"][:2]) * 3600 + int(row["hour"][3:]) * 60
        on = [s for s in roster if s.start <= start < s.end]
        assert len(on) == row["windows"], row


def test_a_part_hour_is_rated_over_the_minutes_the_hall_is_open():
    # The hall opens at 08:30: its first hour's rate is the rate while open, not half of it.
    sc = small_hall()
    sc.start = 8 * 3600 + 1800
    planner = Planner(sc, 0.9, 600)
    first = planner.hours[0]
    assert (first.hour, first.start, first.end) == (8, 8 * 3600 + 1800, 9 * 3600)
    sc.arrivals["A"] = [(8 * 3600 + 1800, 40)] + sc.arrivals["A"][1:]
    assert planner.rates(first)[0] == pytest.approx(40)


def test_an_hour_beyond_the_hall_says_so_truly_and_the_rest_is_still_planned():
    # A rush no number of windows meets: that hour gets every window and says what Erlang C
    # needs; the quiet hours after it still give windows back.
    doc = {
        "scenario": {"name": "rush", "start": "09:00", "end": "14:00", "seed": 3},
        "hall": {"services": [{"prefix": "A", "service_min": 5, "max_wait_min": 120}],
                 "windows": [{"number": n, "services": ["A"]} for n in range(1, 5)],
                 "staff": {"S%d" % n: "s" for n in range(1, 5)}},
        "arrivals": {"A": [["09:00", 80], ["10:00", 6], ["13:00", 0]]},
        "service_times": {"A": {"mean_min": 5, "cv": 0.5}},
        "roster": [{"window": n, "staff": "S%d" % n, "from": "09:00", "to": "14:00"}
                   for n in range(1, 5)],
        "people": {"walk_s": [0, 0], "react_s": [0, 0]},
    }
    planner = Planner(scenarios.parse(doc, "rush.toml"), 0.9, 10 * 60, days=10)
    rows, roster, summary = planner.plan()
    rush = rows[0]
    assert not rush["met"] and rush["windows"] == 4
    needed = erlang_c_windows(80, 300, 0.9, 600, 16)
    assert rush["erlang_c"] == needed > 4 and rush["why"] == "Erlang C needs %d" % needed
    quiet = [r for r in rows if r["hour"] in ("11:00", "12:00")]
    assert all(r["met"] for r in quiet) and max(r["windows"] for r in quiet) < 4


def test_cli_prints_the_plan_and_refuses_a_bad_target():
    proc = hallsim("plan", "--target", "90% within 15 min", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["hours"] and doc["roster"] and "erlang_c" in doc["hours"][0]
    assert doc["judged_on"]["days"] == 20 and doc["judged_on"]["days_promised"] == 18
    bad = hallsim("plan", "--target", "soon")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("hallsim: --target: expected")
    few = hallsim("plan", "--target", "90% within 15 min", "--days", "2")
    assert few.returncode == 2 and few.stderr.strip() == \
        "hallsim: --days: expected 5..200 seeded days, got 2"


def test_target_parsing():
    assert parse_target("90% within 15 min") == (0.9, 900.0)
    with pytest.raises(scenarios.ScenarioError):
        parse_target("100 within")


def test_erlang_c_counts_the_walk_that_holds_the_window():
    # The simulation keeps a window for the walk from the call; the theory beside it must too.
    sc = small_hall()
    sc.walk_s = (0, 0)
    still = Planner(sc, 0.9, 10 * 60).rates(Planner(sc, 0.9, 600).hours[0])
    sc.walk_s = (100, 140)
    walking = Planner(sc, 0.9, 10 * 60).rates(Planner(sc, 0.9, 600).hours[0])
    assert still[0] == walking[0] and walking[1] == still[1] + 120
    assert erlang_c_windows(walking[0], walking[1], 0.9, 600, 60) >= \
        erlang_c_windows(still[0], still[1], 0.9, 600, 60)
