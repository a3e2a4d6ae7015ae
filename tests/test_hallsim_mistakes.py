"""hallsim answers every mistake a user can make with one line naming the file, key or option
and the reason, exit status 2 (130 for Ctrl-C), and nothing written: never a traceback, never
an option that silently does nothing."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_sim import scenario as scenarios

HALLSIM = str(Path(sys.executable).parent / "hallsim")
DISTRICT = (scenarios.SCENARIOS / "district.toml").read_text(encoding="utf-8")


def hallsim(*args, cwd=None):
    return subprocess.run([HALLSIM] + [str(a) for a in args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=dict(os.environ, PYTHONIOENCODING="utf-8"))


def one_line(proc, *parts):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    err = proc.stderr
    assert err.startswith("hallsim: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for part in parts:
        assert part in err, err
    return err


def a_district(tmp_path, old, new):
    assert old in DISTRICT, old
    path = tmp_path / "s.toml"
    path.write_text(DISTRICT.replace(old, new, 1), encoding="utf-8")
    return path


# (what is replaced in the district scenario, by what, what the one line must say)
SCENARIO_MISTAKES = [
    ('seed = 1', 'seed = "five"', "scenario.seed: expected a whole number 0 or more, got 'five'"),
    ('seed = 1', 'sede = 1', "scenario.sede: unknown key (did you mean 'seed'?)"),
    ('mean_min = 90', 'mean_mins = 90', "patience.mean_mins: unknown key (did you mean 'mean_min'?)"),
    ('share = 0.8', 'shares = 0.8', "ratings.shares: unknown key (did you mean 'share'?)"),
    ('levels = [70, 20, 6, 3, 1]', 'levels = [0, 0, 0, 0, 0]', "ratings.levels: expected 5 "
     "weights, one per level, not all zero"),
    ('A = {mean_min = 6, cv = 0.6}', 'A = {mean_minutes = 6, cv = 0.6}',
     "service_times.A.mean_minutes: unknown key (did you mean 'mean_min'?)"),
    ('window = 1\nstaff = "S01"\nfrom = "08:30"\nto = "17:00"',
     'window = 1\nstaff = "S01"\nfrom = "16:00"\nto = "09:00"',
     "roster[0].to: the shift must end after it starts (16:00 to 09:00)"),
    ('window = 2\nstaff = "S02"', 'window = 1\nstaff = "S02"',
     "roster[1]: overlaps roster[0] (S01 at window 1, 08:30 to 17:00)"),
    ('window = 2\nstaff = "S02"', 'window = 2\nstaff = "S01"',
     "roster[1]: overlaps roster[0] (S01 at window 1, 08:30 to 17:00)"),
    ('window = 1\nstaff = "S01"', 'window = 1\nstaf = "S01"',
     "roster[0].staf: unknown key (did you mean 'staff'?)"),
    ('name = "社保业务"', 'nmae = "社保业务"', "hall.services[0].nmae: unknown key (did you "
     "mean 'name'?)"),
    ('number = 1\n', 'numbr = 1\n', "hall.windows[0].numbr: unknown key (did you mean 'number'?)"),
    ('closing_time', 'closing_tme', "hall.rules.closing_tme: unknown key (did you mean "
     "'closing_time'?)"),
    ('[patience]', '[patiense]', "patiense: unknown section (did you mean 'patience'?)"),
    ('name = "district office (6 windows)"', 'nam = "x"', "scenario.nam: unknown key"),
]


@pytest.mark.parametrize("old, new, message", SCENARIO_MISTAKES,
                         ids=[m[2][:40] for m in SCENARIO_MISTAKES])
def test_scenario_mistakes_are_one_line(tmp_path, old, new, message):
    path = a_district(tmp_path, old, new)
    one_line(hallsim("run", path, "--level", "ticket"), "hallsim: %s: %s" % (path, message))


def test_a_scenario_that_is_not_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes(DISTRICT.encode("gb18030"))
    one_line(hallsim("run", path), str(path), "not UTF-8 text")


OPTION_MISTAKES = [
    (("run", "--minutes", "5"), "--minutes: only with --realtime"),
    (("run", "--speed", "10"), "--speed: only with --realtime"),
    (("run", "--mqtt"), "--mqtt: only with --realtime"),
    (("run", "--realtime", "--out", "x"), "--out: not with --realtime"),
    (("run", "--realtime", "--level", "ticket"), "--level: not with --realtime"),
    (("run", "--realtime", "--minutes", "-3"), "--minutes: expected 1..1440 hall minutes, got -3"),
    (("run", "--realtime", "--speed", "0"), "--speed: expected 0.1..3600"),
    (("run", "--realtime", "--devices", "esp32"), "--devices: only micropython"),
    (("run", scenarios.SCENARIOS / "city.toml", "--realtime"),
     "city.toml has 122 devices; real time runs at most 64"),
    (("plan", "--target", "most of them"), "--target: expected like"),
]


@pytest.mark.parametrize("args, message", OPTION_MISTAKES, ids=[m[1][:30] for m in OPTION_MISTAKES])
def test_options_that_cannot_work_are_refused(tmp_path, args, message):
    one_line(hallsim(*args, cwd=tmp_path), message)
    assert list(tmp_path.iterdir()) == []


def test_out_is_checked_before_the_day_is_simulated(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    cases = [(afile, "--out %s: not a directory" % afile),
             (afile / "sub", "--out %s: cannot create it: %s is not a directory" % (afile / "sub",
                                                                                 afile)),
             ("/sys/qms-out", "--out /sys/qms-out: cannot create it in /sys: ")]
    for out, message in cases:
        started = time.monotonic()
        one_line(hallsim("run", "--out", out), message)
        assert time.monotonic() - started < 5           # (a frame-level day takes longer)
    assert afile.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_out_never_overwrites_the_scenario_it_read(tmp_path):
    path = tmp_path / "report.json"                    # a scenario oddly named
    path.write_text(DISTRICT, encoding="utf-8")
    one_line(hallsim("run", path, "--level", "ticket", "--out", tmp_path),
             "%s: is the command's input" % path)
    assert path.read_text(encoding="utf-8") == DISTRICT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


@pytest.mark.slow
@pytest.mark.parametrize("args", [("run", "city.toml", "--out", "out"),
                                  ("plan", "city.toml", "--target", "90% within 15 min"),
                                  ("run", "--realtime", "--minutes", "600")],
                         ids=["run", "plan", "realtime"])
def test_ctrl_c_is_one_line_exit_130_and_nothing_written(tmp_path, args):
    (tmp_path / "city.toml").write_text(
        (scenarios.SCENARIOS / "city.toml").read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.Popen([HALLSIM] + list(args), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(6 if "--realtime" in args else 3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == "" and err == "hallsim: interrupted: nothing written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city.toml"]


def test_a_window_without_an_evaluator_is_simply_not_rated(tmp_path):
    # not 40 "lost" ratings and exit 1: the citizens at window 3 have no keypad to press
    path = a_district(tmp_path, 'evaluator = "eval-3"\n', "")
    for level in ("ticket", "frame"):
        proc = hallsim("run", path, "--level", level, "--json")
        assert proc.returncode == 0, proc.stderr
        day = __import__("json").loads(proc.stdout)
        assert day["lost"] == 0 and day["rating_rejects"] == 0
        assert day["windows"]["3"]["ratings"] == 0 and day["windows"]["1"]["ratings"] > 10
