# The hub's day archive: each closed day summarised once, with the names that explain it,
# kept across power cuts and bounded in size. Both runtimes.
from hall import at, config
from firmware.clock import civil
from firmware.routing.core import RoutingCore
from firmware.routing.journal import DayArchive, MemoryStorage, read_days

HEAPSIZE = "256K"     # the routing core's bytecode alone is about 50K on this 64-bit port


def one_day(core, day):
    # Two citizens at window 1 (S1), one rated 非常满意; window 2 stops early with one waiting.
    t = at("09:00") + day * 86400
    core.window_open(t, 1)
    core.login(t, 1, "S1")
    core.window_open(t, 2)
    core.login(t, 2, "S2")
    for k in range(3):
        core.issue(t + k, "A")
    core.call_next(t + 300, 1)
    core.start(t + 330, 1)
    core.finish(t + 900, 1)
    core.rate(t + 910, 1, "A001", 1, (), "eval-1")
    core.call_next(t + 960, 1)
    core.start(t + 990, 1)
    core.finish(t + 1500, 1)
    core.window_close(t + 1600, 2)              # one still waits: an early stop
    core.close_day(at("18:00") + day * 86400)


def test_a_closed_day_is_archived_once_with_its_figures():
    storage = MemoryStorage()
    core = RoutingCore(config(), MemoryStorage(), at("08:00"))
    core.on_day_closed = DayArchive(storage).add
    one_day(core, 0)
    got = read_days(storage)
    assert len(got) == 1
    d = got[0]
    assert d["date"] == "2026-11-23" and d["hall"] == "district-1"
    assert d["services"] == ["A", "B", "C"] and d["names"][0] == "社保"
    assert d["issued"][0] == 3 and d["served"][0] == 2
    assert d["wait_sum"][0] == (300 - 0) + (960 - 1)           # first call minus issue
    assert d["staff_served"] == {"S1": 2} and d["staff_ratings"]["S1"][1] == 1
    assert d["early_stops"] == [0, 1, 0]
    assert d["ends"][4] == 1                                   # A003 unserved at close


def test_replay_after_a_power_cut_does_not_archive_again():
    journal = MemoryStorage()
    storage = MemoryStorage()
    core = RoutingCore(config(), journal, at("08:00"))
    core.on_day_closed = DayArchive(storage).add
    one_day(core, 0)
    again = RoutingCore.recover(config(), journal, at("18:30"))
    again.on_day_closed = DayArchive(storage).add
    assert len(read_days(storage)) == 1
    # The same day archived twice (power lost between archive and journal) reads as one.
    DayArchive(storage).add(read_days(storage)[0])
    assert len(read_days(storage)) == 1


def test_the_archive_keeps_the_newest_days():
    storage = MemoryStorage()
    archive = DayArchive(storage, keep=3)
    for day in range(5):
        archive.add({"hall": "h", "day": 20000 + day, "date": "%d-%d-%d" % civil(20000 + day)})
    assert [d["day"] for d in read_days(storage)] == [20002, 20003, 20004]
