# A whole service through every role, over real frames on a shared virtual bus: the dispenser
# issues and prints a ticket, the caller calls it, the window board and the hall display show
# it, the evaluator takes a rating, and the hub's journal records all of it.
from firmware.node import DeviceNode
from firmware.hubrun import HubNode
from protocol.bus import BusMaster
from firmware.roles.hub import HubRole
from firmware.roles.dispenser import DispenserRole
from firmware.roles.caller import CallerRole
from firmware.roles.evaluator import EvaluatorRole
from firmware.roles.display import DisplayRole
from firmware.routing.core import RoutingCore
from firmware.drivers import escpos
from firmware.texts import printer_texts
from hall import at, config
from host_sim.printer import VirtualPrinter
from t_dispenser import TEXTS

HEAPSIZE = "512K"   # the hub's routing code, every role and the protocol in one process

DEVICES = [
    {"id": "disp-1", "role": "dispenser", "bus_address": 17, "printer": {"confirm": "gs_h"},
     "service_keys": [{"service": "A"}], "hall": "district-1"},
    {"id": "caller-1", "role": "caller", "bus_address": 33, "window": 1},
    {"id": "eval-1", "role": "evaluator", "bus_address": 49, "window": 1},
    {"id": "display-1", "role": "display", "bus_address": 65},
]


class Bus:
    # Every node hears every transmission (RS485 multi-drop), the hub masters it; 1 ms steps.
    def __init__(self, start_utc):
        self.utc0 = start_utc
        self.core = RoutingCore(config(), now=start_utc)
        self.hub = HubNode(HubRole(self.core, DEVICES), 0)
        self.dispenser = DeviceNode(17, DispenserRole(DEVICES[0], printer_texts(TEXTS), 0), "dispenser", 0)
        self.caller = DeviceNode(33, CallerRole(DEVICES[1], 0), "caller", 0)
        self.evaluator = DeviceNode(49, EvaluatorRole(DEVICES[2], 0), "evaluator", 0)
        self.display = DeviceNode(65, DisplayRole(DEVICES[3], 0), "display", 0)
        self.master = BusMaster(self.hub, [d["bus_address"] for d in DEVICES])
        self.devices = [self.dispenser, self.caller, self.evaluator, self.display]
        self.hub_on = True
        self.ms = 0
        self.printer = VirtualPrinter()

    def run(self, ms, step=1):
        end = self.ms + ms
        while self.ms < end:
            utc = self.utc0 + self.ms // 1000
            if self.hub_on:
                if self.ms % 1000 == 0:
                    self.hub.role.tick(utc)
                wire = self.master.step(self.ms * 1000, self.ms, utc)
                if wire:
                    for node in self.devices:
                        node.feed(wire, self.ms, utc)
            for node in self.devices:
                wire = node.transmit(self.ms, utc)
                if wire and self.hub_on:
                    self.master.received(wire, self.ms * 1000, self.ms, utc)
            self.printer_answers()
            self.ms += step

    def printer_answers(self):
        # The dispenser's printer: prints, answers status at once and confirms once printed.
        hw = self.dispenser.hardware
        for action in hw:
            if action[0] in ("print", "query"):
                self.printer.write(action[1], self.ms)
        self.printed = getattr(self, "printed", []) + [a[1] for a in hw if a[0] == "print"]
        self.dispenser.hardware = [a for a in hw if a[0] not in ("print", "query")]
        data = self.printer.read(self.ms)
        if data:
            self.dispenser.role.printer_bytes(data, self.ms)

    def hw(self, node, kind):
        items = [a for a in node.hardware if a[0] == kind]
        node.hardware = [a for a in node.hardware if a[0] != kind]
        return items


def test_a_whole_service_through_every_role():
    bus = Bus(at("09:00"))
    core = bus.core
    core.window_open(at("09:00"), 1)
    core.login(at("09:00"), 1, "S1")
    core.out = []
    bus.run(1000)
    bus.dispenser.role.key(0, bus.ms)                        # a citizen takes a ticket
    bus.run(1000)
    assert len(bus.printed) == 1 and bus.printed[0].find(b"A001") >= 0
    assert bus.dispenser.role.printed == 1
    bus.caller.role.key(0, bus.ms)                           # staff: next
    bus.run(1000)
    boards = bus.hw(bus.caller, "board")
    assert ("board", "请A001号到1号窗口", 5) in boards
    screens = bus.hw(bus.display, "screen")
    assert any(s[1] and s[1][0] == "请A001号到1号窗口" for s in screens)
    assert bus.hw(bus.display, "voice") and bus.hw(bus.caller, "voice")
    bus.caller.role.key(2, bus.ms)                           # start
    bus.run(500)
    bus.caller.role.key(3, bus.ms)                           # finish
    bus.run(1000)
    assert bus.evaluator.role.asking is not None
    assert ("lights", 0b11111) in bus.evaluator.hardware
    bus.evaluator.role.key(0, bus.ms)                        # 非常满意
    bus.run(1000)
    assert core.stats.staff_ratings["S1"][1] == 1
    again = RoutingCore.recover(core.cfg, core.storage, at("09:00"))
    assert again.fingerprint() == core.fingerprint()         # the journal has all of it
    assert again.stats.window_served[0] == 1
    assert bus.hub.role.status_table()[0]["online"]


def test_a_device_that_loses_the_hub_says_so_and_recovers():
    bus = Bus(at("09:00"))
    core = bus.core
    core.window_open(at("09:00"), 1)
    core.login(at("09:00"), 1, "S1")
    bus.run(2500)                                            # every device has reported
    bus.hub_on = False                                       # the hub loses power
    bus.dispenser.role.key(0, bus.ms)                        # someone wants a ticket
    bus.run(DeviceNode.HUB_SILENT_MS + 1000, step=50)              # noticed within 5 s of wanting
    assert not bus.dispenser.hub_online
    bus.run(DeviceNode.STATUS_MS, step=50)                          # idle devices: at their status
    assert not bus.caller.hub_online
    assert ("board", "连接中断", 0) in bus.hw(bus.caller, "board")
    assert ("show", "offline", 0) in bus.hw(bus.dispenser, "show")
    assert any(s[1][-1] == "系统连接中断" for s in bus.hw(bus.evaluator, "screen"))
    assert any(s[1][0] == "系统连接中断" for s in bus.hw(bus.display, "screen"))
    bus.hub_on = True                                        # and comes back
    bus.run(DeviceNode.HUB_SILENT_MS, step=50)
    assert bus.caller.hub_online and bus.dispenser.hub_online
    assert ("board", "1号窗口 等候0人", 0) in bus.hw(bus.caller, "board")   # the hub refreshed it
    assert ("show", "ready", 0) in bus.hw(bus.dispenser, "show")
