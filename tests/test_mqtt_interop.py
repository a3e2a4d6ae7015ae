"""The device MQTT client (firmware/mqttclient.py, firmware/mqttrun.py) against two independent
brokers: Mosquitto, and amqtt (PyPI, asyncio). On each, a caller and a hall display are the
real device runtime on their own sockets. A tap (host_sim/netcut.py) cuts or silences their
network, and the hall PC's hub (paho) routes the calls. Each broker serves a call; a display
whose link goes silent, half-open, comes back within the backoff; and every call made while
the display was away reaches it soon after it is back (persistent sessions, SPEC.md 3.5).

The shell against a scripted broker on a real socket, in virtual time, is here too: every
way a connection ends closes the socket and a new one follows."""
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from firmware.mqttrun import MqttShell
from firmware.routing.core import RoutingCore
from firmware.routing.journal import MemoryStorage
from firmware.runtime import DeviceRuntime
from hall import at, config
from hallpc.localbroker import LocalBroker, listening
from hallpc.mqtthub import MqttHub
from host_sim.netcut import CutProxy
from protocol import mqttwire as w

HALL = "district-1"
CALLER = {"id": "caller-1", "role": "caller", "hall": HALL, "bus_address": 33, "window": 1}
DISPLAY = {"id": "display-1", "role": "display", "hall": HALL, "bus_address": 65}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Amqtt:
    """amqtt's broker in its own process, on a free loopback port. It keeps no session for an
    anonymous client, so clients give a user name (its plugin checks no password), as every
    client of a real hall does."""

    def __init__(self, workdir):
        exe = shutil.which("amqtt", path=str(Path(sys.executable).parent))
        if exe is None:
            pytest.fail("amqtt is not installed (pip install '.[test]')")
        self.port = _free_port()
        conf = Path(workdir) / "amqtt.yaml"
        conf.write_text("listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:%d\n"
                        "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
                        "    allow_anonymous: false\n" % self.port)
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not listening(self.port, 20):
            self.stop()
            raise RuntimeError("amqtt did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(params=["mosquitto", "amqtt"])
def broker(request, tmp_path):
    b = LocalBroker(tmp_path) if request.param == "mosquitto" else Amqtt(tmp_path)
    yield b
    b.stop()


class Panel:
    def __init__(self):
        self.presses = []
        self.logins = []
        self.shown = []

    def show(self, action):
        self.shown.append(action)


class Device:
    # The real device runtime and MQTT shell, in this process, through a tap.
    def __init__(self, cfg, port, keepalive):
        self.cfg = dict(cfg, transport="mqtt", mqtt={"host": "127.0.0.1", "user": cfg["id"],
                                                     "password": "pw-" + cfg["id"],
                                                     "keepalive_s": keepalive})
        self.panel = Panel()
        self.shell = MqttShell(self.cfg, "127.0.0.1", port, seed=cfg["bus_address"])
        self.runtime = DeviceRuntime(self.cfg, {}, self.panel, ms(), mqtt=self.shell)
        self.got = []                  # (when, topic, payload) of what the broker brought
        deliver = self.runtime.deliver

        def record(topic, payload, now):
            self.got.append((time.monotonic(), topic, bytes(payload)))
            return deliver(topic, payload, now)
        self.runtime.deliver = record
        self.online_since = None

    def pump(self):
        self.shell.pump(self.runtime, ms())
        if self.shell.online():
            if self.online_since is None:
                self.online_since = time.monotonic()
        else:
            self.online_since = None


def ms():
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


class Hall:
    def __init__(self, broker, keepalive=2):
        self.core = RoutingCore(config(), MemoryStorage(), at("09:00"))
        self.core.window_open(at("09:00"), 1)
        self.core.login(at("09:00"), 1, "S1")
        for _ in range(6):
            self.core.issue(at("09:00"), "A")
        self.core.out = []
        self.hub = MqttHub(self.core, [CALLER, DISPLAY], HALL, "127.0.0.1", broker.port,
                           user="hub", password="pw-hub", utc0=at("09:00"))
        self.hub.start(wait_s=10)
        assert self.hub.connected
        self.taps = {c["id"]: CutProxy(broker.port) for c in (CALLER, DISPLAY)}
        self.devices = {c["id"]: Device(c, self.taps[c["id"]].port, keepalive)
                        for c in (CALLER, DISPLAY)}
        self.births = []                        # (when, device) of each birth message seen
        self.watch = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="watch")
        self.watch.on_message = self._birth
        self.watch.username_pw_set("watch", "pw-watch")
        self.watch.connect("127.0.0.1", broker.port)
        self.watch.subscribe("qms/%s/+/status" % HALL, qos=1)
        self.watch.loop_start()
        self.until(lambda: all(d.shell.online() for d in self.devices.values()), 20)

    def _birth(self, client, userdata, message):
        try:
            online = json.loads(message.payload).get("online")
        except ValueError:
            return
        if online is True and not message.retain:
            self.births.append((time.monotonic(), message.topic.split("/")[2]))

    def pump(self):
        self.hub.pump(0.001)
        for d in self.devices.values():
            d.pump()

    def until(self, done, timeout, what="it"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump()
            if done():
                return
        raise AssertionError("%s did not happen within %s s" % (what, timeout))

    def call(self):
        # Staff press next: the caller's board shows the call; returns the ticket's name.
        caller = self.devices["caller-1"]
        caller.panel.shown.clear()
        caller.panel.presses.append(0)
        self.until(lambda: any(a[0] == "board" and a[1].startswith("请")
                               for a in caller.panel.shown), 10, "the call")
        text = [a[1] for a in caller.panel.shown if a[0] == "board" and a[1].startswith("请")][0]
        caller.panel.presses.extend((2, 3))      # start, finish
        self.until(lambda: self.core.is_idle(0), 10, "the service's end")
        return text[1:5]

    def displayed(self, ticket):
        return [t for t, topic, payload in self.devices["display-1"].got
                if topic.endswith("/display_update") and ticket.encode() in payload]

    def close(self):
        self.watch.loop_stop()
        self.watch.disconnect()
        self.hub.stop()
        for d in self.devices.values():
            d.shell._close()
        for tap in self.taps.values():
            tap.close()


@pytest.mark.slow
def test_a_hall_on_each_broker_serves_recovers_and_delivers_what_was_missed(broker):
    hall = Hall(broker)
    try:
        ticket = hall.call()
        hall.until(lambda: hall.displayed(ticket), 5, "the display showing " + ticket)

        # The display's access point reboots: its connection is left half-open for good.
        display = hall.devices["display-1"]
        tap = hall.taps["display-1"]
        tap.silence(5)
        hall.until(lambda: not display.shell.online(), 10, "noticing the silence")
        hall.until(lambda: display.shell.online() and time.monotonic() > tap.restored_at(),
                   MqttShell.CONNECT_S + 60, "the display's return")
        back = display.online_since - max(tap.restored_at(), 0)
        assert back < 30 * 1.5 + 10 + 1                 # the backoff cap, a CONNACK timeout
        hall.until(lambda: any(who == "display-1" and t >= tap.restored_at()
                               for t, who in hall.births), 5, "its birth message")

        # Away again: every call made meanwhile reaches it once it is back.
        refused = display.shell.client.stats["retained"]
        tap.cut(4)
        hall.until(lambda: not display.shell.online(), 5, "noticing the cut")
        missed = [hall.call() for _ in range(3)]
        assert not any(hall.displayed(t) for t in missed)
        hall.until(lambda: display.shell.online() and time.monotonic() > tap.restored_at(),
                   60, "the display's return")
        returned = display.online_since
        if isinstance(broker, Amqtt):
            # amqtt sends what it kept for a session with RETAIN set (3.1.1 says 0 for an
            # established subscription, MQTT-3.3.1-10); a device takes no retained command
            # (old news a stranger may have left), so here they arrive and are refused.
            hall.until(lambda: display.shell.client.stats["retained"] >= refused + 3, 5,
                       "the kept calls")
            assert not any(hall.displayed(t) for t in missed)
        else:
            hall.until(lambda: all(hall.displayed(t) for t in missed), 5, "the missed calls")
            for t in missed:
                assert hall.displayed(t)[0] - returned < 5, t
        assert display.shell.client.stats["malformed"] == 0
    finally:
        hall.close()


# ---- the shell against a scripted broker, in virtual time ---------------------------------

class Scripted:
    """A broker that accepts connections and, for the k-th, sends script[k] once it has the
    CONNECT (None: nothing, ever; a tuple: that, then it closes the connection). After that it
    answers SUBSCRIBE, QoS 1 PUBLISH and (if pong) PINGREQ as a broker does. Counts
    connections and sees each one closed."""

    def __init__(self, script, pong=True):
        self.script = script
        self.pong = pong
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.closed = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            k = self.accepted
            self.accepted += 1
            threading.Thread(target=self._one, args=(conn, k), daemon=True).start()

    def _one(self, conn, k):
        reply = self.script[min(k, len(self.script) - 1)]
        decoder = w.Decoder(1 << 16)
        try:
            decoder.feed(conn.recv(1024))            # the CONNECT
            decoder.packets()
            if isinstance(reply, tuple):
                conn.sendall(reply[0])
                raise OSError("closes")
            if reply is None:
                while conn.recv(1024):
                    pass
                raise OSError("closed")
            conn.sendall(reply)
            while True:
                data = conn.recv(1024)
                if not data:
                    break
                decoder.feed(data)
                for kind, flags, body in decoder.packets():
                    if kind == w.SUBSCRIBE:
                        conn.sendall(b"\x90\x04" + body[:2] + b"\x01\x01")
                    elif kind == w.PUBLISH and flags & 0x06:
                        got = w.parse_publish(flags, body)
                        conn.sendall(w.puback(got[3]))
                    elif kind == w.PINGREQ and self.pong:
                        conn.sendall(b"\xd0\x00")
        except OSError:
            pass
        self.closed += 1
        conn.close()

    def stop(self):
        self.server.close()


OK = b"\x20\x02\x00\x00"


@pytest.mark.parametrize("name,first,keepalive,within", [
    ("no CONNACK", None, 30, 10000 + 1500),
    ("a refused CONNACK", b"\x20\x02\x00\x05", 30, 1500),
    ("a malformed packet", OK + b"\x30\xff\xff\xff\xff\x01", 30, 1500),
    ("a PUBLISH with a wildcard", OK + b"\x30\x07\x00\x05qms/+", 30, 1500),
    ("no PINGRESP", OK, 4, 4000 + 2000 + 1500),
    ("no PINGRESP, keepalive 0", OK, 0, 60000 + 30000 + 1500),
    ("the broker closing", (OK,), 30, 1500),
])
def test_every_way_a_connection_ends_closes_it_and_connects_again(name, first, keepalive, within):
    broker = Scripted([first, OK], pong="PINGRESP" not in name)
    cfg = dict(CALLER, transport="mqtt", mqtt={"host": "127.0.0.1", "keepalive_s": keepalive})
    shell = MqttShell(cfg, "127.0.0.1", broker.port)
    runtime = DeviceRuntime(cfg, {}, Panel(), 0, mqtt=shell)
    try:
        now = 0
        shell.pump(runtime, now)
        while shell.sock is not None and now < within + 200000:
            now += 50
            _settle(shell, runtime, now, lambda: False, 0.001)
        assert shell.sock is None, "the connection was never closed"
        t_closed = now
        deadline = time.monotonic() + 5
        while broker.closed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert broker.closed >= 1, "the broker never saw the close"
        while broker.accepted < 2 and now - t_closed < 200000:
            now += 50
            _settle(shell, runtime, now, lambda: False, 0.001)
        assert broker.accepted == 2, "no new connection"
        assert now <= within + 60000 + 45000, now
        _settle(shell, runtime, now, lambda: shell.online())
        assert shell.online()
    finally:
        shell._close()
        broker.stop()


def _settle(shell, runtime, now, done, seconds=2.0):
    # Pump at one virtual instant while the real loopback delivers.
    end = time.monotonic() + seconds
    while True:
        shell.pump(runtime, now)
        if done() or time.monotonic() >= end:
            return
        time.sleep(0.002)
