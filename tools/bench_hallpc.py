"""The hall PC's hub (hallctl hub, its own process) as a hall runs it (tools/bench.py hallpc).

- On the bus: one virtual RS485 bus of pseudo-terminals (host_sim.realtime.VirtualBus) with 64
  devices on it (31 callers, 31 evaluators, a dispenser and a hall display: the real roles and
  device runtimes, in this process, each on its own end of the bus) and `hallctl hub --bus` on
  another end, as on a USB-RS485 adapter in low-latency mode (--latency-ms 2): the time from a
  caller's "next" key to its board showing the call, over many calls, while the evaluators
  rate every finished service.
- On MQTT: `hallctl hub --mqtt` on a real Mosquitto with bench_mqtt's 100 devices, every caller
  keying as fast as its board answers: events per second the hub takes, and any lost.

The hub's journal is seeded with the morning's citizens already waiting, its windows open and
staffed, and the hall's clock set to mid-morning whatever the time of day.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HALL = "bench-1"
HALLCTL = str(Path(sys.executable).parent / "hallctl")


def _tz_for_mid_morning():
    utc_min = (int(time.time()) // 60) % 1440
    return (600 - utc_min + 720) % 1440 - 720


def routing(windows):
    # bench_mqtt's hall, its clock at mid-morning (the hall PC's hub runs on the real time)
    sys.path.insert(0, str(ROOT / "tools"))
    import bench_mqtt
    return dict(bench_mqtt.hall_doc(windows), rules={"tz_offset_min": _tz_for_mid_morning()})


def bus_devices(windows):
    # The simulator's fleet for this hall (one address plan), on host boards.
    from firmware.routing.config import HallConfig
    from host_sim import fleet
    return fleet.devices(HallConfig(routing(windows)), board="host")


def seed(work, windows, devices, waiting=9000):
    """A hall file and a data directory whose journal has the windows open and staffed and
    `waiting` citizens waiting, as hallctl hub finds them at start."""
    from firmware.routing.config import HallConfig
    from firmware.routing.core import RoutingCore
    from firmware.routing.journal import FileStorage
    doc = {"hall": HALL, "routing": routing(windows), "devices": devices}
    hall = Path(work) / "hall.json"
    hall.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    data = Path(work) / "data"
    data.mkdir()
    now = int(time.time())
    core = RoutingCore(HallConfig(doc["routing"]), FileStorage(str(data / "journal.bin")), now)
    for n in range(1, windows + 1):
        core.window_open(now, n)
        core.login(now, n, "S%d" % n)
    for _ in range(waiting):
        core.issue(now, "A")
    core.compact()
    core.storage.close()
    return hall, data


class Panel:
    def __init__(self):
        self.presses = []
        self.logins = []
        self.quit = False
        self.boards = []
        self.lights = 0

    def poll(self):
        pass

    def event(self, *items):
        pass

    def show(self, action):
        if action[0] == "board":
            self.boards.append((time.monotonic(), action[1]))
        elif action[0] == "lights":
            self.lights = action[1]


def _ms():
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


def _p(values, q, digits=1):
    values = sorted(values)
    return round(values[int(q * (len(values) - 1))], digits) if values else None


class HallPcHub:
    """hallctl hub started as systemd starts it; stop() sends SIGTERM."""

    def __init__(self, hall, data, *carrier):
        self.log = open(Path(data).parent / "hub.log", "wb")
        self.proc = subprocess.Popen([HALLCTL, "hub", str(hall), "--data", str(data)] +
                                     list(carrier), stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        self.path = Path(data).parent / "hub.log"

    def wait_log(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in self.path.read_text(errors="replace"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("hallctl hub: no %r:\n%s" % (needle, self.path.read_text()))
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(20)
        self.log.close()
        if code != 0:
            raise RuntimeError("hallctl hub exited %s:\n%s" % (code, self.path.read_text()))


def run_bus(windows=31, calls=150, latency_ms=2):
    import serial
    from firmware.runtime import DeviceRuntime
    from hallpc.serialhub import SerialLine
    from host_sim.realtime import VirtualBus
    work = tempfile.mkdtemp()
    devices = bus_devices(windows)
    hall, data = seed(work, windows, devices)
    bus = VirtualBus()
    hub = HallPcHub(hall, data, "--bus", bus.port(), "--latency-ms", str(latency_ms))
    boards = []
    for cfg in devices:
        port = serial.Serial(bus.port(), 115200, timeout=0)
        panel = Panel()
        boards.append((cfg, panel, port, DeviceRuntime(cfg, {"bus": SerialLine(port)}, panel,
                                                        _ms(), first_seq=cfg["bus_address"])))
    callers = [b for b in boards if b[0]["role"] == "caller"]

    def pump():
        now = _ms()
        for cfg, panel, _, runtime in boards:
            runtime.step(now)
            if cfg["role"] == "evaluator" and panel.lights == 31:
                panel.lights = 0
                panel.presses.append(0)             # 非常满意

    def until(done, seconds):
        end = time.monotonic() + seconds
        while not done() and time.monotonic() < end:
            pump()
        return done()

    try:
        hub.wait_log("hub: hall %s" % HALL)
        # every caller hears its window's state (it shows "N号窗口 等候..."): all are reached
        until(lambda: all(b[1].boards for b in callers), 60)
        latencies = []
        for k in range(calls):
            panel = callers[k % len(callers)][1]
            panel.boards.clear()
            t0 = time.monotonic()
            panel.presses.append(0)                 # next
            if until(lambda: any(text.startswith("请") for _, text in panel.boards), 5):
                seen = min(t for t, text in panel.boards if text.startswith("请"))
                latencies.append((seen - t0) * 1000)
            panel.presses.extend((2, 3))            # start, finish
        until(lambda: False, 1)
    finally:
        hub.stop()
        for _, _, port, _ in boards:
            port.close()
        bus.close()
    return {"hallpc_hub_call_to_board_ms_p99": _p(latencies, 0.99),
            "hallpc_hub_call_to_board_ms_p50": _p(latencies, 0.5),
            "hallpc_hub_calls_measured": len(latencies),
            "hallpc_hub_bus_devices": len(boards)}


def run_mqtt(windows=50, seconds=10):
    sys.path.insert(0, str(ROOT / "tools"))
    import bench_mqtt
    from hallpc.localbroker import LocalBroker
    work = tempfile.mkdtemp()
    devices = [dict(d, board="host", transport="mqtt") for d in bench_mqtt.devices(windows)]
    hall, data = seed(work, windows, devices)
    broker = LocalBroker(work)
    hub = HallPcHub(hall, data, "--mqtt", "127.0.0.1:%d" % broker.port)
    try:
        hub.wait_log("connected")
        figures = bench_mqtt.sustained(broker.port, windows, seconds)
    finally:
        hub.stop()
        broker.stop()
    return {"hallpc_hub_events_per_s": figures["events_per_s"],
            "hallpc_hub_events_lost": figures["lost"],
            "hallpc_hub_mqtt_devices": figures["devices"]}


def run():
    return dict(run_bus(), **run_mqtt())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
