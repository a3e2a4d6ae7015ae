"""The hub's fault suite: a damaged journal, a full disk, hostile messages on both carriers, one
device that never acks or that talks out of turn on the bus. Each check is against the truth
(what was acknowledged), never against the hub's own account of it. tools/bench.py faults runs
the same suite larger and prints its figures."""
import errno
import os
import subprocess

import pytest

from faults import Checker, FullDisk, damages, disk_full_day, layout, morning, _ReadOnly
from firmware.hubrun import HubNode
from firmware.roles.hub import HubRole
from firmware.routing import journal as jr
from firmware.routing.core import RoutingCore
from protocol.codes import JOURNAL_DAMAGED, NOT_JOURNALLED, OK, REFUSED
from hall import at, config
import hostile


def test_every_byte_of_a_mornings_journal_damaged_loses_nothing_intact():
    # Every byte flipped in turn (the bit cycling), each record's length, CRC and magic hit,
    # records zeroed, garbage inserted and appended: every recovery keeps every intact record,
    # reuses no number a citizen holds, reports the damage, and leaves the file as it was.
    truth = Checker(tickets=24)
    assert len(truth.still_waiting) >= 8
    for damaged, ruined, what in damages(truth.data, truth.spans, bits=(0, 3, 5, 7)):
        truth.check(damaged, ruined, what)
    assert truth.tried > len(truth.data)
    assert truth.problems == []
    assert (truth.acked_lost, truth.reused, truth.unreported) == (0, 0, 0)


def test_a_damaged_snapshot_never_empties_the_day():
    # A compacted journal (a snapshot, then the morning's tail): damage anywhere in the snapshot
    # falls back on the previous generation, so the day comes back whole.
    truth = Checker(tickets=24, compact_at=14)
    snapshot = truth.spans[0]
    assert truth.data[snapshot[0] + 8] == jr.KIND_SNAPSHOT and truth.prev is not None
    for i in range(snapshot[0], snapshot[1], 3):
        damaged = bytearray(truth.data)
        damaged[i] ^= 0x10
        core = truth.check(bytes(damaged), (i, i + 1), "snapshot byte %d" % i)
        assert core.damage()["from_previous"], i
        assert core.fingerprint() == truth.core.fingerprint(), i
    assert truth.problems == []


def test_a_torn_tail_is_not_damage_and_a_cut_anywhere_in_it_loses_nothing_acked():
    truth = Checker(tickets=6)
    last = truth.spans[-1]
    for cut in range(last[0], last[1]):
        core = RoutingCore.recover(truth.core.cfg, jr.MemoryStorage(truth.data[:cut]), at("12:00"))
        assert core.damage()["lost"] == 0 and core.damage()["torn"] == cut - last[0], cut


def test_damage_is_told_to_the_hall_and_the_damaged_file_set_aside(tmp_path):
    path = str(tmp_path / "journal.bin")
    core, acked = morning(jr.FileStorage(path), tickets=12)
    core.storage.close()
    data = bytearray(open(path, "rb").read())
    middle = layout(bytes(data))[len(layout(bytes(data))) // 2]
    data[middle[0] + 12] ^= 0x04
    with open(path, "wb") as f:
        f.write(data)
    again = RoutingCore.recover(core.cfg, jr.FileStorage(path), at("12:00"))
    assert again.damage()["lost"] == 1
    assert again.out == [("alert", JOURNAL_DAMAGED, 0xFF, 0xFF, 0, 1)]
    role = HubRole(again, [{"id": "display-1", "role": "display", "bus_address": 9}])
    assert role.out[0][2]["type"] == "alert" and role.out[0][2]["kind"] == JOURNAL_DAMAGED
    assert role.hall_status(at("12:00"))["journal"]["lost"] == 1
    assert again.day_summary()["journal_lost"] == 1
    with open(path + ".damaged-1", "rb") as f:
        assert f.read() == bytes(data)                  # the original, kept as it was
    later = RoutingCore.recover(core.cfg, jr.FileStorage(path), at("12:00"))
    assert later.damage()["lost"] == 0                  # a fresh, verified snapshot
    assert later.fingerprint() == again.fingerprint()
    assert sorted(os.listdir(tmp_path)) == ["journal.bin", "journal.bin.damaged-1"]


def test_a_compaction_keeps_the_previous_generation_until_the_new_one_is_verified(tmp_path):
    path = str(tmp_path / "journal.bin")
    core, acked = morning(jr.FileStorage(path), tickets=8)
    before = open(path, "rb").read()
    core.compact()
    assert open(path + ".prev", "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["journal.bin", "journal.bin.prev"]   # nothing else
    # power lost between the compaction's two renames: the new file is found and finished
    os.rename(path, path + ".new")
    again = RoutingCore.recover(core.cfg, jr.FileStorage(path), at("12:00"))
    assert again.fingerprint() == core.fingerprint() and os.path.exists(path)


@pytest.mark.parametrize("partial", [0, 9, 30])
def test_a_disk_that_fills_at_every_write_point_loses_nothing_acknowledged(partial):
    # After every operation around the failure a power cut must bring back exactly what the
    # hub has, which is all it acknowledged; the disk stays full, or has room again later.
    problems, refused, writes = disk_full_day(10 ** 9, 0)
    assert problems == [] and refused == 0 and writes > 70
    for at_write in range(0, writes, 1 if partial == 9 else 5):
        for heal in (None, 3):
            problems, refused, _ = disk_full_day(at_write, partial, heal)
            assert problems == [], problems


def test_a_write_that_fails_applies_nothing_and_is_refused_with_a_reason():
    disk = FullDisk(6, 4)
    core = RoutingCore(config(), disk, at("08:30"))
    core.window_open(at("08:30"), 1)
    core.login(at("08:30"), 1, "S1")
    for k in range(4):
        core.issue(at("09:00") + k, "A", device="disp-1", req=k)
    core.out = []
    assert core.issue(at("09:05"), "A", device="disp-1", req=9) == REFUSED
    assert ("refused", "A", 9) in core.out                       # hub_storage
    assert ("alert", 9, 0xFF, 0xFF, 0, 1) in core.out             # journal_failed, once
    core.out = []
    assert core.call_next(at("09:06"), 1) == NOT_JOURNALLED
    assert core.waiting(0) == 4 and not core.out
    assert core.damage()["storage_failed"]
    again = RoutingCore.recover(config(), _ReadOnly(disk.inner), at("09:10"))   # no room: still fine
    assert again.fingerprint() == core.fingerprint()


def test_a_real_small_filesystem_that_fills_up(tmp_path):
    # A 64 KiB tmpfs: the journal grows until the disk is full; every ticket the hub gave out
    # comes back after a power cut, and the hub refused (never acknowledged) the rest.
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with open(mnt / "ballast", "wb") as f:        # leave about 6 KiB for the journal
            f.write(b"\0" * (60 * 1024))
        storage = jr.FileStorage(str(mnt / "journal.bin"))
        core = RoutingCore(config(), storage, at("08:30"))
        core.compact_every = 10 ** 9
        issued = []
        refusals = 0
        for k in range(280):
            core.out = []
            if core.issue(at("09:00") + k, "A", device="disp-1", req=k) == OK:
                issued += [o[2] for o in core.out if o[0] == "issued"]
            else:
                refusals += 1
        assert refusals > 0 and len(issued) > 20
        storage.close()
        again = RoutingCore.recover(core.cfg, jr.FileStorage(str(mnt / "journal.bin")),
                                    at("12:00"))
        assert again.fingerprint() == core.fingerprint()
        assert [n for n, i, e in again.queues.entries(0)] == issued
        with pytest.raises(OSError) as exc:
            with open(mnt / "more", "wb") as f:
                f.write(b"\0" * 8192)
        assert exc.value.errno == errno.ENOSPC
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_counters_saturate_and_refused_ratings_are_not_journalled():
    core, acked = morning(jr.MemoryStorage(), tickets=4)
    size = core.storage.size()
    for k in range(70000):
        core.rate(at("11:00"), 1, "A001", 1, (), "eval-1")        # already rated / expired
    core.out = []
    assert core.storage.size() == size
    assert max(core.day_summary()["rating_rejects"]) == 0xFFFF


def test_one_device_that_never_acks_cannot_starve_another():
    # The hub's must-deliver queue is bounded per device: a caller that never acknowledges
    # fills only its own share, and the dispenser beside it is answered.
    hub = HubNode(HubRole(RoutingCore(config(), now=at("09:00")), []), 0, queue_max=64)
    for k in range(200):
        hub.send(34, {"type": "command_result", "req": k, "window": 2, "result": 8}, 0)
    assert hub.link._held_by[34] == HubNode.PER_DEVICE_MAX and hub.overflow == 200 - 16
    hub.send(17, {"type": "ticket_issued", "req": 1, "ticket": "A001", "service": "A",
                  "kind": 0, "ahead": 0, "wait_min": 0, "wait_max": 60, "issued": 0}, 0)
    assert hub.link._held_by[17] == 1


def test_a_dispenser_voids_only_its_own_tickets_once():
    core = RoutingCore(config(), now=at("09:00"))
    role = HubRole(core, hostile.HONEST + hostile.HOSTILE)
    role.message({"type": "ticket_request", "req": 1, "service": "A", "kind": 0,
                  "booking": ""}, at("09:00"), 17)
    assert core.waiting(0) == 1
    role.message({"type": "print_result", "ticket": "A001", "result": 1}, at("09:01"), 18)
    assert core.waiting(0) == 1                                # disp-2 did not print it
    role.message({"type": "print_result", "ticket": "A001", "result": 1}, at("09:01"), 17)
    assert core.waiting(0) == 0
    size = core.storage.size()
    role.message({"type": "print_result", "ticket": "A001", "result": 1}, at("09:02"), 17)
    assert core.storage.size() == size                             # once: nothing journalled


def test_a_retained_request_is_not_an_event():
    from firmware.hubrun import HubMqtt
    core = RoutingCore(config(), now=at("09:00"))
    hub = HubMqtt(core, hostile.HONEST, hostile.HALL, 0)
    payload = b'{"req": 5, "service": "A", "kind": 0, "booking": "", "_seq": 1, "_ack": true}'
    topic = "qms/%s/disp-1/up/ticket_request" % hostile.HALL
    assert not hub.deliver(topic, payload, 0, at("09:00"), retain=True)
    assert core.waiting(0) == 0 and hub.carrier.retained == 1
    assert hub.deliver(topic, payload, 0, at("09:00"))
    assert core.waiting(0) == 1


@pytest.mark.parametrize("carrier,count", [("mqtt", 6000), ("serial", 2500)])
def test_hostile_messages_leave_an_honest_service_with_exact_books(carrier, count):
    got = hostile.storm(carrier, count, seed=7)
    assert got["hub_crashes"] == 0, got["crash_examples"]
    assert got["honest_tickets_lost"] == 0, (got["books_calm"], got["books_rough"])
    assert got["printed"] == 9 and got["hostile_messages_tried"] == count


def test_a_surrogate_in_a_field_is_refused_not_raised():
    from protocol.codec import encode_payload
    from protocol.errors import PayloadError
    with pytest.raises(PayloadError):
        encode_payload({"type": "print_result", "ticket": "\ud800", "result": 0})


def test_a_device_that_talks_out_of_turn_is_named_and_quieted():
    # eval-2 answers every poll on the RS485 bus. The bus master names it, tells it to keep
    # quiet, and window 1's honest service runs as it would without it.
    calm = hostile.Hall("serial")
    rough = hostile.Hall("serial", babbler=True)
    for k in range(4):
        for hall in (calm, rough):
            hall.honest_service(k)
    assert rough.books() == calm.books() and len(rough.printed) == len(calm.printed) == 7
    dev = rough.role.devices[50]
    assert dev.out_of_turn >= 1 and 50 in rough.master.quieted
    assert rough.devices["eval-2"].quiet_until is not None
    assert rough.master.stats["out_of_turn"] <= 2 * rough.master.OUT_OF_TURN_LIMIT   # it obeyed
    assert [r["out_of_turn"] for r in rough.role.status_table() if r["id"] == "eval-2"] == \
        [dev.out_of_turn]
    assert any(s and s[0] == "系统告警 请联系管理员" for s in rough.screens)   # the hall display
    assert not any(s and s[0] == "系统告警 请联系管理员" for s in calm.screens)


def test_hallctl_status_tells_the_operator_what_to_act_on():
    import io
    from hallctl.status import show_hall
    doc = {"hall": "district-1", "now": 100, "hub": {"id": "hub"}, "waiting": {"A": 2},
           "journal": {"lost": 3, "from_previous": False, "storage_failed": True,
                       "write_failures": 5},
           "devices": [{"id": "caller-2", "address": 34, "role": "caller", "window": 2,
                        "online": True, "last_seen": 90, "refused": 412, "faults": 0,
                        "out_of_turn": 2}]}
    out = io.StringIO()
    show_hall(doc, False, out)
    text = out.getvalue()
    assert "! journal: 3 records could not be read" in text
    assert "cannot write its journal" in text and "5 writes failed" in text
    assert "! caller-2: talked out of turn on the bus 2 times" in text and "412 messages" in text


def test_a_badly_damaged_journal_does_not_stop_the_days_tickets():
    # Numbers skip past every record that might have been lost; the daily quota counts the
    # tickets given, so even a long stretch of garbage leaves the dispensers working.
    truth = Checker(tickets=12)
    end = len(truth.data)
    damaged = truth.data + b"\x55" * 6000               # (how many records it held is unknown)
    core = truth.check(damaged, (end, end + 6000), "6000 bytes of garbage at the end")
    assert truth.problems == [] and core.damage()["lost"] > 300       # more than A's quota
    core.out = []
    assert core.issue(at("12:00"), "A") == OK
    number = [o for o in core.out if o[0] == "issued"][0][2]
    assert number > truth.top[0] + 300


def test_a_message_the_hub_fails_on_is_counted_logged_once_and_the_hub_goes_on():
    # A bug in handling one message (planted: the core's issue raises) costs that message only.
    role = HubRole(RoutingCore(config(), now=at("09:00")), hostile.HONEST)
    logs = []
    role.log = logs.append
    issue = role.core.issue
    role.core.issue = None
    for k in range(3):
        role.message({"type": "ticket_request", "req": k, "service": "A", "kind": 0,
                      "booking": ""}, at("09:00"), 17)
    assert role.faults == {("disp-1", "TypeError"): 3}
    assert logs == ["hub: ticket_request from disp-1 raised TypeError: 'NoneType' object is "
                    "not callable"]
    assert role.devices[17].faults == 3 and role.status_table()[0]["faults"] == 3
    role.core.issue = issue
    role.message({"type": "ticket_request", "req": 9, "service": "A", "kind": 0,
                  "booking": ""}, at("09:00"), 17)
    assert role.core.waiting(0) == 1                        # and it serves on


def test_a_timer_change_that_cannot_be_journalled_leaves_nothing_of_it_behind():
    # Window 10's recall times out while the disk is full: the recall is undone and nothing
    # of it (its call, its window state) goes out; the journal_failed alert does, once.
    doc_windows = [{"number": n, "services": ["A"]} for n in range(1, 11)]
    from firmware.routing.config import HallConfig
    cfg = HallConfig({"hall": "h", "services": [{"prefix": "A", "open": "08:30",
                                                 "close": "17:00"}],
                      "windows": doc_windows, "staff": {"S1": "张三"}}, "hall.json")
    disk = FullDisk(4, 3)
    core = RoutingCore(cfg, disk, at("08:30"))
    core.window_open(at("08:30"), 10)
    core.login(at("08:30"), 10, "S1")
    core.issue(at("09:00"), "A")
    assert core.call_next(at("09:00"), 10) == OK      # write 3; the next one fails
    core.out = []
    core.tick(at("09:00") + 600)                      # the automatic recall
    assert core.out == [("alert", 9, 0xFF, 0xFF, 0, 1)]
    again = RoutingCore.recover(cfg, _ReadOnly(disk.inner), at("09:20"))
    assert again.fingerprint() == core.fingerprint()
    core.out = []
    core.tick(at("09:00") + 615)                      # a second failure says nothing more
    assert core.out == []
