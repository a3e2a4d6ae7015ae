# Hostile frames against the hub on both runtimes (the full storm, with both carriers and an
# honest service beside it, is tests/test_faults.py): frames that check but carry anything at
# all, from devices of the hall and from strangers, never stop the hub, raise in it, or change
# what an honest dispenser is given.
from firmware.hubrun import HubRuntime
from firmware.routing.core import RoutingCore
from protocol.frame import encode_frame
from hall import at, config
from t_device_life import LoopUART

HEAPSIZE = "512K"     # the routing core and the hub, compiled from source by this port
DEVICES = [{"id": "disp-1", "role": "dispenser", "bus_address": 17},
           {"id": "caller-2", "role": "caller", "bus_address": 34, "window": 2},
           {"id": "eval-2", "role": "evaluator", "bus_address": 50, "window": 2}]


class Line(LoopUART):
    # The hub's end of the bus; what it writes goes nowhere (no device answers here).
    def write(self, data):
        return len(data)


def frames(count, seed):
    # Deterministic junk that frames and checks: every type id, payloads of random bytes
    # (strings cut short, bytes that are not UTF-8, lengths past the end), any source.
    x = seed
    for k in range(count):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        n = x % 40
        payload = bytearray()
        for j in range(n):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            payload.append((x >> 8) & 0xFF)
        src = (34, 50, 34, 50, 34, 50, 99, 0, 255, 18)[k % 10]
        yield b"\x00" + bytes(encode_frame(0, src, k & 0xFF, k & 1, (x >> 16) & 0xFF, payload))


def test_hostile_frames_never_stop_the_hub_nor_change_an_honest_ticket():
    core = RoutingCore(config(), now=at("09:00"))
    line = Line()
    hub = HubRuntime(core, DEVICES, line, 0)
    ms = 0
    for frame in frames(3000, 7):
        line.inbox.extend(frame)
        ms += 1
        hub.step(ms * 1000, ms, at("09:00") + ms // 1000)       # raises nothing, ever
        # faster than the line can carry the answers: what waits for it stays bounded
        assert len(hub.master.queue) <= hub.master.QUEUE_MAX + hub.node.link.QUEUE_MAX
    assert sum(hub.role.faults.values()) == 0, hub.role.faults
    assert hub.node.strangers > 0                               # not answered at all
    before = core.next_number[0]
    request = bytes(encode_frame(0, 17, 1, 1, 0x10, b"\x00\x07\x01A\x00\x00"))
    line.inbox.extend(b"\x00" + request)
    hub.step(ms * 1000 + 5000, ms + 5, at("09:00") + ms // 1000)
    assert core.next_number[0] == before + 1 and core.queues.live[0] == before + 1


def test_a_forged_bus_quiet_cannot_silence_a_device_for_long():
    # bus_quiet is obeyed only from the hub's address, and for 10 minutes at the most.
    from firmware.node import DeviceNode
    from firmware.roles.caller import CallerRole
    from protocol.codec import encode_payload
    caller = {"id": "caller-2", "role": "caller", "bus_address": 34, "window": 2}
    node = DeviceNode(34, CallerRole(caller, 0), "caller", 0)
    tid, payload = encode_payload({"type": "bus_quiet", "ms": 0xFFFFFFFF})
    node.feed(b"\x00" + bytes(encode_frame(0xFF, 50, 1, 0, tid, payload)), 0)   # not the hub
    assert node.quiet_until is None
    node.feed(b"\x00" + bytes(encode_frame(0xFF, 0, 1, 0, tid, payload)), 0)
    assert node.quiet_until == 600000                           # capped
    node.feed(b"\x00" + bytes(encode_frame(0xFF, 0, 2, 0, tid, b"\x00\x01")), 1)   # short
    assert node.quiet_until == 600000
