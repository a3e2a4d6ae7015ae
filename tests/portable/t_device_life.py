# The device's life outside the roles: safe mode after repeated early crashes, key matrix
# scanning (with stand-in pins: a GPIO cannot exist here), and the hub's own loop.
HEAPSIZE = "512K"    # the hub test holds the routing core and a dispenser in one process
import os

from firmware.main import boot_decision, healthy, SAFE_AFTER
from firmware.keys import scan_matrix

_DIR = os.getenv("QMS_TMP") or "/tmp"


def test_repeated_early_crashes_end_in_safe_mode_and_health_clears_the_count():
    path = _DIR + "/qms-crashes-test"
    healthy(path)
    for _ in range(SAFE_AFTER):
        assert boot_decision(path) == "run"          # each boot dies before it is healthy
    assert boot_decision(path) == "safe"
    assert boot_decision(path) == "safe"             # and stays there until fixed
    healthy(path)
    assert boot_decision(path) == "run"
    os.remove(path)


class Pin:
    # Stand-in for machine.Pin: a row pin remembers its level; a column reads the matrix.
    def __init__(self, matrix=None, col=None, rows=None):
        self.level = 1
        self.matrix, self.col, self.rows = matrix, col, rows

    def value(self, v=None):
        if v is not None:
            self.level = v
            return None
        for r in range(len(self.rows)):
            if self.rows[r].level == 0 and (r, self.col) in self.matrix:
                return 0
        return 1


def test_key_matrix_reads_each_pressed_key_once():
    pressed = {(0, 1), (2, 3)}
    rows = [Pin() for _ in range(4)]
    cols = [Pin(pressed, c, rows) for c in range(4)]
    assert scan_matrix(rows, cols) == (1 << 1) | (1 << 11)
    assert all(p.level == 1 for p in rows)           # rows released after the scan


class LoopUART:
    # One end of an in-memory serial cable, with machine.UART's any / readinto / write.
    def __init__(self):
        self.inbox = bytearray()
        self.peer = None

    def any(self):
        return len(self.inbox)

    def readinto(self, buf):
        n = min(len(buf), len(self.inbox))
        buf[:n] = self.inbox[:n]
        self.inbox = self.inbox[n:]
        return n

    def write(self, data):
        self.peer.inbox.extend(data)
        return len(data)


def test_hub_runtime_issues_a_ticket_to_a_dispenser():
    from firmware.hubrun import HubRuntime
    from firmware.node import DeviceNode
    from firmware.roles.dispenser import DispenserRole
    from firmware.routing.core import RoutingCore
    from firmware.texts import printer_texts
    from hall import at, config
    from t_dispenser import TEXTS
    from host_sim.printer import VirtualPrinter
    printer = VirtualPrinter()
    hub_end, device_end = LoopUART(), LoopUART()
    hub_end.peer, device_end.peer = device_end, hub_end
    device = {"id": "disp-1", "role": "dispenser", "hall": "h", "bus_address": 17,
              "service_keys": [{"service": "A"}]}
    core = RoutingCore(config(), now=at("09:00"))
    hub = HubRuntime(core, [device], hub_end, 0)
    role = DispenserRole(device, printer_texts(TEXTS), 0)
    node = DeviceNode(17, role, "dispenser", 0)
    role.key(0, 0)
    printed = []
    for ms in range(0, 2000, 1):
        hub.step(ms * 1000, ms, at("09:00") + ms // 1000)
        if device_end.any():
            data = bytearray(device_end.any())
            device_end.readinto(data)
            node.feed(data, ms)
        out = node.transmit(ms)
        if out:
            device_end.write(out)
        for action in node.hardware:
            if action[0] == "print":
                printed.append(action[1])
            if action[0] in ("print", "query"):
                printer.write(action[1], ms)
        node.hardware = []
        data = printer.read(ms)
        if data:
            role.printer_bytes(data, ms)
    assert len(printed) == 1 and printed[0].find(b"A001") >= 0
    assert core.stats.issued[0] == 1
