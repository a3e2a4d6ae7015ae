"""The MQTT benchmark (tools/bench.py mqtt): a real Mosquitto on loopback, the hub on CPython
(hallpc.mqtthub, its own process), and 100 devices (50 callers, 50 evaluators) in this
process, each the real role, node, MQTT carrier and MQTT client on its own socket.

    python tools/bench_mqtt.py hub PORT WINDOWS     (the hub process; the bench starts it)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HALL = "bench-1"
UTC0 = 1795392000            # 2026-11-23 08:00 in UTC+8


def hall_doc(windows):
    return {"hall": HALL,
            "services": [{"prefix": "A", "name": "社保", "open": "00:00", "close": "23:59",
                          "quota": 9999, "service_min": 5}],
            "windows": [{"number": n, "services": ["A"], "evaluator": "eval-%d" % n}
                        for n in range(1, windows + 1)],
            "staff": {"S%d" % n: "员工%d" % n for n in range(1, windows + 1)}}


def devices(windows):
    out = []
    for n in range(1, windows + 1):
        out.append({"id": "caller-%d" % n, "role": "caller", "hall": HALL, "bus_address": n,
                    "window": n})
        out.append({"id": "eval-%d" % n, "role": "evaluator", "hall": HALL,
                    "bus_address": 100 + n, "window": n})
    return out


def hub_main(port, windows):
    from firmware.routing.config import HallConfig
    from firmware.routing.core import RoutingCore
    from firmware.routing.journal import FileStorage
    from hallpc.mqtthub import MqttHub
    work = tempfile.mkdtemp()
    core = RoutingCore(HallConfig(hall_doc(windows), "bench"), FileStorage(work + "/j.bin"),
                       UTC0)
    for n in range(1, windows + 1):
        core.window_open(UTC0, n)
        core.login(UTC0, n, "S%d" % n)
    for _ in range(9000):                            # the day's citizens, already waiting
        core.issue(UTC0, "A")
    core.out = []
    hub = MqttHub(core, devices(windows), HALL, "127.0.0.1", port, utc0=UTC0)
    hub.start()
    print("ready", flush=True)
    done = 0
    while sys.stdin not in _readable(0):
        before = hub.received
        hub.pump(0.001)
        done += hub.received - before
    print(json.dumps({"received": done, "overflow": hub.hub.node.overflow}), flush=True)
    hub.stop()


def _readable(timeout):
    import select
    return select.select([sys.stdin], [], [], timeout)[0]


class Panel:
    def __init__(self):
        self.presses = []
        self.logins = []
        self.boards = []
        self.lights = 0

    def show(self, action):
        if action[0] == "board":
            self.boards.append((time.monotonic(), action[1]))
        elif action[0] == "lights":
            self.lights = action[1]


class Fleet:
    """bench_mqtt's 100 devices, each the real role, runtime, MQTT carrier and client on its
    own socket to the broker at `port`; every evaluator rates what it is asked to."""

    def __init__(self, port, windows, seed=1):
        from firmware.mqttrun import MqttShell
        from firmware.runtime import DeviceRuntime
        self.boards = []
        for k, cfg in enumerate(devices(windows)):
            panel = Panel()
            shell = MqttShell(cfg, "127.0.0.1", port, seed=k + seed)
            runtime = DeviceRuntime(cfg, {}, panel, _ms(), mqtt=shell)
            self.boards.append((cfg, panel, shell, runtime))
        self.callers = [b for b in self.boards if b[0]["role"] == "caller"]
        self.rated = 0

    def pump(self):
        now = _ms()
        for cfg, panel, shell, runtime in self.boards:
            shell.pump(runtime, now)
            if cfg["role"] == "evaluator" and panel.lights == 31:
                panel.lights = 0
                panel.presses.append(0)             # 非常满意
                self.rated += 1

    def online(self, seconds=20):
        deadline = time.monotonic() + seconds
        while not all(b[2].online() for b in self.boards) and time.monotonic() < deadline:
            self.pump()
        settle = time.monotonic() + 1
        while time.monotonic() < settle:
            self.pump()

    def sustained(self, seconds):
        # Every caller runs next / start / finish as fast as its board shows the result of the
        # last key (staff read the board before the next key), and every evaluator rates;
        # count the events, drain, and count what the links never got acknowledged.
        state = {id(b): 0 for b in self.callers}
        for b in self.callers:
            b[1].boards.clear()
        t0 = time.monotonic()
        events = 0
        rated_before = self.rated
        while time.monotonic() - t0 < seconds:
            self.pump()
            for b in self.callers:
                panel = b[1]
                if state[id(b)] and not panel.boards:
                    continue                             # the board has not answered yet
                panel.boards.clear()
                panel.presses.append((0, 2, 3)[state[id(b)] % 3])
                state[id(b)] += 1
                events += 1
        elapsed = time.monotonic() - t0
        events += self.rated - rated_before              # ratings are events too
        drain = time.monotonic() + 5
        while time.monotonic() < drain and any(b[3].node.link.in_flight() for b in self.boards):
            self.pump()
        lost = sum(b[3].node.link.stats["give_ups"] + b[3].node.link.in_flight()
                   for b in self.boards)
        return {"events_per_s": round(events / elapsed), "lost": lost,
                "devices": len(self.boards)}

    def close(self):
        for b in self.boards:
            b[2]._close()


def sustained(port, windows=50, seconds=10):
    """The sustained phase alone, against whichever hub serves the broker at `port`."""
    fleet = Fleet(port, windows)
    fleet.online()
    try:
        return fleet.sustained(seconds)
    finally:
        fleet.close()


def run(windows=50, calls=300, seconds=10):
    sys.path.insert(0, str(ROOT / "tools"))
    from hallpc.localbroker import LocalBroker
    work = tempfile.mkdtemp()
    broker = LocalBroker(work)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tools")]))
    hub = subprocess.Popen([sys.executable, os.environ.get("BENCH_HUB", __file__), "hub", str(broker.port), str(windows)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert hub.stdout.readline().strip() == "ready"
    fleet = Fleet(broker.port, windows)
    fleet.online()
    pump = fleet.pump

    def serve(board, wait=2.0):
        # next, then start and finish once the board shows the call; returns the latency.
        panel = board[1]
        panel.boards.clear()
        t0 = time.monotonic()
        panel.presses.append(0)
        seen = None
        end = t0 + wait
        while time.monotonic() < end and seen is None:
            pump()
            for t, text in panel.boards:
                if text.startswith("请"):
                    seen = t
        panel.presses.append(2)
        panel.presses.append(3)
        return None if seen is None else (seen - t0) * 1000

    latencies = []
    for k in range(calls):
        ms = serve(fleet.callers[k % len(fleet.callers)])
        if ms is not None:
            latencies.append(ms)
    for _ in range(200):
        pump()
    sent_before = sum(b[3].node.link.stats["sent"] for b in fleet.boards)
    figures = fleet.sustained(seconds)
    fleet.close()
    away = away_phase(broker.port, windows)
    hub.stdin.write("stop\n")
    hub.stdin.flush()
    report = json.loads(hub.stdout.readline())
    hub.wait(10)
    broker.stop()
    latencies.sort()
    return {
        "call_to_display_ms_p99_100dev": _p99(latencies, 1),
        "call_to_display_ms_p50_100dev": round(latencies[len(latencies) // 2], 1),
        "calls_measured": len(latencies),
        "events_per_s_sustained": figures["events_per_s"],
        "events_lost": figures["lost"] + report["overflow"],
        "hub_messages_received": report["received"],
        "devices": figures["devices"],
        "device_sent_during_run": sum(b[3].node.link.stats["sent"] for b in fleet.boards)
        - sent_before,
        **away,
    }


def _p99(values, digits=2):
    values = sorted(values)
    return round(values[int(0.99 * (len(values) - 1))], digits) if values else None


def away_phase(port, windows, silent_s=30, cut_s=10):
    """The network fails: the same 100 devices, now behind taps (host_sim/netcut.py).

    - Every link goes silent for silent_s, half-open, as when the access points reboot. The
      time from the restore to each device's birth message, seen by a subscriber, gives
      reconnect_after_silence_s_p99.
    - The evaluators' access point goes down for cut_s. Meanwhile every caller calls,
      starts and finishes, so the hub sends each away evaluator a rating request. The time
      from each evaluator's return to the request on its lights gives
      offline_command_delivery_s_p99.
    """
    import paho.mqtt.client as paho
    from firmware.mqttrun import MqttShell
    from firmware.runtime import DeviceRuntime
    from host_sim.netcut import CutProxy
    taps = {"caller": CutProxy(port), "evaluator": CutProxy(port)}
    boards = []
    for k, cfg in enumerate(devices(windows)):
        panel = Panel()
        shell = MqttShell(cfg, "127.0.0.1", taps[cfg["role"]].port, seed=k + 1000)
        boards.append((cfg, panel, shell, DeviceRuntime(cfg, {}, panel, _ms(), mqtt=shell)))
    births = {}
    watch = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-watch")

    def seen(client, userdata, message):
        if not message.retain and b'"online": true' in message.payload:
            births[message.topic.split("/")[2]] = time.monotonic()
    watch.on_message = seen
    watch.connect("127.0.0.1", port)
    watch.subscribe("qms/%s/+/status" % HALL, qos=1)
    watch.loop_start()
    lit = {}
    returned = {}

    def pump():
        now = _ms()
        for cfg, panel, shell, runtime in boards:
            shell.pump(runtime, now)
            if shell.online() and cfg["id"] not in returned:
                returned[cfg["id"]] = time.monotonic()      # (what came with the CONNACK
            if cfg["role"] == "evaluator" and panel.lights == 31:   # counts from here)
                panel.lights = 0
                lit[cfg["id"]] = time.monotonic()
                panel.presses.append(0)

    def until(done, seconds):
        end = time.monotonic() + seconds
        while not done() and time.monotonic() < end:
            pump()

    until(lambda: all(b[2].online() for b in boards), 30)
    until(lambda: False, 2)
    for tap in taps.values():
        tap.silence(silent_s)
    restored = taps["caller"].restored_at()
    until(lambda: time.monotonic() >= restored, silent_s + 1)
    until(lambda: all(births.get(b[0]["id"], 0) >= restored for b in boards), 120)
    back = [births[b[0]["id"]] - restored for b in boards if births.get(b[0]["id"], 0) >= restored]
    until(lambda: False, 2)

    evaluators = [b for b in boards if b[0]["role"] == "evaluator"]
    taps["evaluator"].cut(cut_s)
    until(lambda: not any(b[2].online() for b in evaluators), 5)
    lit.clear()
    returned.clear()
    for b in boards:
        if b[0]["role"] == "caller":
            b[1].presses.extend((0, 2, 3))          # next, start, finish: a rating is asked
    end = time.monotonic() + cut_s + 120
    while time.monotonic() < end and len(lit) < len(evaluators):
        pump()
    delivery = [lit[i] - returned[i] for i in lit if i in returned]
    watch.loop_stop()
    watch.disconnect()
    for b in boards:
        b[2]._close()
    for tap in taps.values():
        tap.close()
    return {"reconnect_after_silence_s_p99": _p99(back),
            "reconnect_after_silence_s_max": round(max(back), 2) if back else None,
            "reconnected_after_silence": len(back),
            "offline_command_delivery_s_p99": _p99(delivery),
            "offline_commands_delivered": len(delivery),
            "offline_commands_expected": len(evaluators)}


def _ms():
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "hub":
        hub_main(int(sys.argv[2]), int(sys.argv[3]))
    else:
        print(json.dumps(run()))
