# The journal's fault suite on both runtimes (the full-size run is tests/test_faults.py and
# tools/bench.py faults): damage anywhere in a morning's journal loses nothing intact, reuses no
# number and is reported; a disk that fills loses nothing acknowledged.
from faults import Checker, damages, disk_full_day

HEAPSIZE = "512K"    # the routing core as source, a morning's journal and its damaged copies


def test_damage_anywhere_in_a_journal_loses_nothing_intact():
    truth = Checker(tickets=8)
    for damaged, ruined, what in damages(truth.data, truth.spans, every=7, bits=(1, 4, 6)):
        truth.check(damaged, ruined, what)
    assert truth.tried > 100
    assert truth.problems == [], truth.problems[:3]


def test_a_damaged_snapshot_falls_back_on_the_previous_generation():
    truth = Checker(tickets=8, compact_at=4)
    start, end = truth.spans[0]
    for i in range(start, end, 11):
        damaged = bytearray(truth.data)
        damaged[i] ^= 0x01
        core = truth.check(bytes(damaged), (i, i + 1), "snapshot byte %d" % i)
        assert core.fingerprint() == truth.core.fingerprint(), i
    assert truth.problems == []


def test_a_disk_that_fills_loses_nothing_acknowledged():
    for at_write in (0, 5, 17, 30):
        problems, refused, writes = disk_full_day(at_write, 7, tickets=8)
        assert problems == [], problems
