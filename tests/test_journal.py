"""The routing journal under power loss: cut at every byte offset of its last records, replay
loses nothing acknowledged; plus the record codec's round trip and robustness."""
from array import array

from hypothesis import given, settings, strategies as st

from firmware.routing import journal as jr
from firmware.routing.core import RoutingCore
from protocol.codes import PRIORITY
from hall import at, open_hall


def busy_hall():
    """A hall after a morning's work, and (journal length, fingerprint) after each operation."""
    core = open_hall(windows=(1, 2))
    acked = [(core.storage.size(), core.fingerprint())]
    t = at("09:00")
    ops = []
    for k in range(12):
        ops.append(lambda k=k: core.issue(t + k, "AB"[k % 2], kind=PRIORITY if k == 5 else 0))
    ops += [lambda: core.call_next(t + 30, 1), lambda: core.start(t + 31, 1),
            lambda: core.call_next(t + 32, 2), lambda: core.hold(t + 33, 2),
            lambda: core.finish(t + 300, 1), lambda: core.rate(t + 301, 1, "A002", 1, (), "eval-1"),
            lambda: core.cancel(t + 302, "B004"), lambda: core.tick(t + 4000),
            lambda: core.call_back(t + 4001, 2, "B001"), lambda: core.pause(t + 4002, 1)]
    for op in ops:
        op()
        acked.append((core.storage.size(), core.fingerprint()))
    return core, acked


def test_cut_at_every_offset_of_the_last_records_loses_nothing_acknowledged():
    core, acked = busy_hall()
    data = bytes(core.storage.data)
    start = acked[-6][0]                                # the last five records
    assert len(data) == acked[-1][0] and start < len(data)
    for cut in range(start, len(data) + 1):
        storage = jr.MemoryStorage(data[:cut])
        again = RoutingCore.recover(core.cfg, storage, at("09:00"))
        expected = [fp for size, fp in acked if size <= cut][-1]
        assert again.fingerprint() == expected, cut
        assert storage.size() == cut                    # recovery writes nothing
        torn = cut - max(size for size, _ in acked if size <= cut)
        assert again.damage()["torn"] == torn and again.damage()["lost"] == 0, cut
        again.issue(at("10:00"), "A")                   # the journal goes on, the torn tail voided
        later = RoutingCore.recover(core.cfg, storage, at("09:00"))
        assert later.fingerprint() == again.fingerprint() and later.damage()["lost"] == 0, cut


def test_snapshot_then_tail_survives_cuts_too():
    core, _ = busy_hall()
    core.compact()
    snap_size = core.storage.size()
    marks = [(snap_size, core.fingerprint())]
    for k in range(3):
        core.issue(at("11:00") + k, "A")
        marks.append((core.storage.size(), core.fingerprint()))
    data = bytes(core.storage.data)
    for cut in range(snap_size, len(data) + 1):
        again = RoutingCore.recover(core.cfg, jr.MemoryStorage(data[:cut]), at("09:00"))
        assert again.fingerprint() == [fp for size, fp in marks if size <= cut][-1], cut


def test_file_storage_appends_replaces_and_voids_a_torn_tail(tmp_path):
    path = str(tmp_path / "journal.bin")
    storage = jr.FileStorage(path)
    core = RoutingCore(open_hall().cfg, storage, at("09:00"))
    core.window_open(at("09:00"), 1)
    core.login(at("09:00"), 1, "S1")
    core.issue(at("09:01"), "A")
    storage.close()
    size = storage.size()
    with open(path, "ab") as f:
        f.write(b"QJ\x00\x40\x00\x00\x00\x03\x01partial")   # a record torn by power loss
    again = RoutingCore.recover(core.cfg, jr.FileStorage(path), at("09:00"))
    assert again.fingerprint() == core.fingerprint()
    assert again.damage()["torn"] == 16 and again.damage()["lost"] == 0
    assert (tmp_path / "journal.bin").stat().st_size == size + 16 < 200 + 16


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=20) |
    st.binary(max_size=20) | st.builds(lambda v: array("H", v), st.lists(st.integers(0, 0xFFFF))) |
    st.builds(lambda v: array("I", v), st.lists(st.integers(0, 0xFFFFFFFF))),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple) |
    st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


@settings(derandomize=True, max_examples=200)
@given(VALUES)
def test_pack_round_trips(value):
    packed = jr.pack(value)
    got, end = jr.unpack(packed)
    assert end == len(packed)
    assert got == value and type(got) is type(value)


@settings(derandomize=True, max_examples=300)
@given(st.binary(max_size=400))
def test_garbage_journal_never_crashes_recovery(data):
    core = open_hall()
    again = RoutingCore.recover(core.cfg, jr.MemoryStorage(data), at("09:00"))
    assert again.journal_records >= 0


@settings(derandomize=True, max_examples=300)
@given(st.lists(st.tuples(st.sampled_from((jr.KIND_OP, jr.KIND_SNAPSHOT, 9)), st.binary(max_size=60)),
                max_size=6))
def test_intact_records_with_garbage_bodies_are_skipped_and_counted(records):
    core = open_hall()
    data = b"".join(bytes(jr.record(kind, body)) for kind, body in records)
    again = RoutingCore.recover(core.cfg, jr.MemoryStorage(data), at("09:00"))
    assert again.replay_skipped <= len(records)
