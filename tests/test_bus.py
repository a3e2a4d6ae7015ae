"""The polled RS485 bus (SPEC.md 2.5): the hub's BusMaster and the devices' Node discipline on
a line model with real timing and real collisions, stepped every 50 µs."""
from firmware.node import DeviceNode
from firmware.hubrun import HubNode
from firmware.roles.caller import CallerRole
from firmware.roles.hub import HubRole
from firmware.routing.core import RoutingCore
from protocol.bus import BusMaster, poll_frame

from hall import at, config

STEP = 50
BYTE_US = 87


class Line:
    def __init__(self, windows=(1, 2, 3)):
        self.core = RoutingCore(config(), now=at("09:00"))
        self.devices = [{"id": "caller-%d" % w, "role": "caller", "bus_address": 32 + w,
                         "window": w} for w in windows]
        self.hub = HubNode(HubRole(self.core, self.devices), 0)
        self.master = BusMaster(self.hub, [d["bus_address"] for d in self.devices])
        self.nodes = [DeviceNode(d["bus_address"], CallerRole(d, 0), "caller", 0, first_seq=7 * k)
                      for k, d in enumerate(self.devices)]
        self.us = 0
        self.air = []            # [start, end, sender, data, garbled]
        self.answer_at = {}      # node -> when it answers the poll it just heard
        self.sent = {n.address: 0 for n in self.nodes}
        for w in windows:
            self.core.window_open(at("09:00"), w)
            self.core.login(at("09:00"), w, "S%d" % w)

    def send(self, sender, data):
        start = self.us
        entry = [start, start + len(data) * BYTE_US, sender, data, False]
        for other in self.air:
            if other[1] > start:
                other[4] = entry[4] = True
        self.air.append(entry)

    def run(self, ms, until=None):
        end = self.us + ms * 1000
        while self.us < end:
            ms_now = self.us // 1000
            utc = at("09:00") + self.us // 1000000
            for entry in [e for e in self.air if e[1] <= self.us]:
                self.air.remove(entry)
                data = bytes(b ^ 0x5A for b in entry[3]) if entry[4] else entry[3]
                if entry[2] is None:
                    for node in self.nodes:
                        node.feed(data, ms_now, utc)
                        if node.granted:
                            self.answer_at[node] = self.us + 1000
                else:
                    self.master.received(data, self.us, ms_now, utc)
            if self.us % 1000 == 0:               # each device's loop runs its timers
                for node in self.nodes:
                    if node not in self.answer_at:
                        assert node.transmit(ms_now, utc) == b"", "spoke unpolled"
            for node, when in list(self.answer_at.items()):
                if when <= self.us:
                    del self.answer_at[node]
                    out = node.transmit(ms_now, utc)
                    if out:
                        self.sent[node.address] += 1
                        self.send(node, out)
            if not any(e[2] is None for e in self.air):
                out = self.master.step(self.us, ms_now, utc)
                if out:
                    self.send(None, out)
            if until is not None and until():
                return self.us
            self.us += STEP
        return None

    def settle(self):
        # Every caller has reported and has its window's state.
        self.run(3000)
        for node in self.nodes:
            node.hardware = []
            node.role.out = []


def test_devices_speak_only_when_polled():
    line = Line()
    line.settle()
    caller = line.nodes[0]
    caller.role.key(0, line.us // 1000)          # next: a frame waits in the caller
    assert caller.transmit(line.us // 1000) == b""       # no poll, no word
    assert caller.wants_turn(line.us // 1000)


def test_a_poll_for_one_device_is_answered_even_with_nothing_to_say():
    line = Line()
    line.settle()
    caller = line.nodes[0]
    caller.feed(poll_frame(caller.address, caller.address, True), line.us // 1000)
    out = caller.transmit(line.us // 1000)
    assert b"\x03" in out and len(out) > 10        # a heartbeat (type 0x03)


def test_a_range_poll_changes_nothing_in_a_device_with_nothing_to_say():
    # What lets the simulator hand polls only to devices with something to say.
    line = Line()
    line.settle()
    caller = line.nodes[1]
    before = (caller.granted, caller.link.stats.copy(), caller.heard_hub, caller.hub_online)
    caller.feed(poll_frame(1, 200, False), line.us // 1000)
    caller.feed(poll_frame(1, 200, True), line.us // 1000)
    assert caller.transmit(line.us // 1000) == b""
    assert (caller.granted, caller.link.stats) == before[:2]


def test_two_devices_answering_one_poll_are_both_heard_without_a_timeout():
    line = Line()
    line.settle()
    garbled = line.master.stats["garbled"]
    now = line.us // 1000
    for node in line.nodes[:2]:
        node.role.key(0, now)                     # two windows press next at the same moment
        node.transmit(now)                        # (queued: each waits for a poll)
    start = line.us

    def both_called():
        return all(("board", "请A00%d号到%d号窗口" % (1, 1), 5) in n.hardware or
                   any(a[0] == "board" and a[1].startswith("请") for a in n.hardware)
                   for n in line.nodes[:2])
    for k in range(2):
        line.core.issue(at("09:00"), "A")
    done = line.run(500, until=both_called)
    assert done is not None, line.master.stats
    assert line.master.stats["garbled"] > garbled            # they did collide
    assert done - start < 60000                              # and were sorted out in < 60 ms
    assert all(n.link.stats["retries"] == 0 for n in line.nodes)   # without a timeout


def test_downlink_traffic_does_not_starve_the_event_poll():
    line = Line()
    line.settle()
    hub = line.hub
    quiet = line.nodes[2]
    for k in range(300):                          # a long burst of frames for another device
        hub.send(line.nodes[0].address, {"type": "queue_status", "service": "A", "waiting": k,
                                         "open": 1}, line.us // 1000)
    quiet.role.key(0, line.us // 1000)           # meanwhile, another window presses next
    start = line.us
    done = line.run(500, until=lambda: any(a[0] == "board" for a in quiet.hardware))
    assert done is not None and done - start < 60000, line.master.stats
    assert len(line.master.queue) > 100           # answered while the burst still went on
