"""MQTT against a real Mosquitto on a free loopback port: devices are the firmware in
MicroPython unix-port processes, the hub is the CPython MQTT hub (paho), and a stranger
publishes garbage."""
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from conftest import build_mpy
from firmware.routing.core import RoutingCore
from firmware.routing.journal import FileStorage
from hall import config
from hallpc.localbroker import LocalBroker
from hallpc.mqtthub import MqttHub
from host_sim.netcut import CutProxy
from host_sim.realtime import FakePrinter, VirtualBoard
from test_virtual_boards import CALLER, DISPENSER, DISPLAY, EVALUATOR

HALL = "district-1"


@pytest.fixture
def broker(tmp_path):
    try:
        b = LocalBroker(tmp_path)
    except FileNotFoundError as exc:
        pytest.fail("%s (.ci/run and make install it)" % exc)
    yield b
    b.stop()


def on_mqtt(cfg, ca=None, keepalive=None):
    mqtt = {"host": "127.0.0.1"}
    if ca is not None:
        mqtt["ca"] = str(ca)
    if keepalive is not None:
        mqtt["keepalive_s"] = keepalive
    return dict(cfg, transport="mqtt", mqtt=mqtt)


class Hall:
    def __init__(self, tmp_path, broker, via=None, ca=None, keepalive=None):
        # via: device id -> the port it connects to instead of the broker's (a CutProxy);
        # ca: (DER for the devices, PEM for the hub) of the CA that signed a TLS broker
        build = build_mpy()
        self.printer = FakePrinter()
        self.devices = [on_mqtt(c, ca and ca[0], keepalive)
                        for c in (DISPENSER, CALLER, EVALUATOR, DISPLAY)]
        self.boards = {}
        for cfg in self.devices:
            port = (via or {}).get(cfg["id"], broker.port)
            self.boards[cfg["id"]] = VirtualBoard(
                build, tmp_path, cfg, mqtt=("127.0.0.1", port),
                printer=self.printer if cfg["role"] == "dispenser" else None)
        self.journal = FileStorage(str(tmp_path / "journal.bin"))
        from hall import at
        self.core = RoutingCore(config(), self.journal, at("09:00"))
        self.hub = MqttHub(self.core, self.devices, HALL, "127.0.0.1",
                           (via or {}).get("hub", broker.port),
                           utc0=at("09:00"), tls=ca and {"ca_certs": str(ca[1])})
        self.core.window_open(at("09:00"), 1)
        self.core.login(at("09:00"), 1, "S1")
        self.hub.start(wait_s=10)
        time.sleep(0.2)                                  # (its subscriptions are in place)

    def board(self, name):
        return self.boards[name]

    def wait(self, name, match, timeout=15):
        return self.boards[name].wait_for(match, timeout, self.pump)

    def press(self, name, key):
        # Only what the board shows from now on counts.
        board = self.boards[name]
        board.read(0)
        board.lines.clear()
        board.press(key)

    def pump(self):
        self.hub.pump(0.002)
        for b in self.boards.values():
            b.read(0)

    def service(self):
        # One citizen from the dispenser key to the rating.
        ev = self.board("eval-1")
        printed = self.printer.printed.count(b"QMS1|")
        self.press("disp-1", 0)
        self.wait("disp-1", lambda i: i[:3] == ["hw", "show", "ready"])
        assert self.printer.printed.count(b"QMS1|") == printed + 1
        self.press("caller-1", 0)
        call = self.wait("caller-1", lambda i: i[:2] == ["hw", "board"] and i[2].startswith("请"))
        self.press("caller-1", 2)
        self.wait("caller-1", lambda i: i[:2] == ["hw", "board"] and i[2].endswith("正在办理"))
        ev.read(0)
        ev.lines.clear()
        self.press("caller-1", 3)
        self.wait("eval-1", lambda i: i == ["hw", "lights", 31])
        self.press("eval-1", 0)
        self.wait("eval-1", lambda i: i[:2] == ["hw", "screen"] and i[2][-1] == "谢谢您的评价")
        return call[2]

    def close(self):
        self.hub.stop()
        for b in self.boards.values():
            b.close()
        self.printer.close()


@pytest.mark.micropython
def test_a_service_through_mosquitto_with_micropython_devices(tmp_path, broker):
    seen = []
    spy = paho.Client(paho.CallbackAPIVersion.VERSION2)
    spy.on_message = lambda c, u, m: seen.append((m.topic, m.payload, m.retain))
    spy.connect("127.0.0.1", broker.port)
    spy.subscribe("qms/#")
    spy.loop_start()
    hall = Hall(tmp_path, broker)
    try:
        for k in range(2):
            call = hall.service()
            assert call == "请A00%d号到1号窗口" % (k + 1)
        deadline = time.monotonic() + 5
        while hall.core.day_summary()["staff_ratings"].get("S1", [0, 0])[1] < 2 and time.monotonic() < deadline:
            hall.pump()
        assert hall.core.day_summary()["staff_ratings"]["S1"][1] == 2
        assert hall.core.day_summary()["window_served"][0] == 2
        # An operator reads the whole hall from the status the hub keeps retained.
        hall.hub.publish_status(hall.hub.now()[1])
        hallctl = str(Path(sys.executable).parent / "hallctl")
        target = "127.0.0.1:%d" % broker.port
        proc = subprocess.run([hallctl, "status", "--mqtt", target, "--json"],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
        assert set(rows) == {"hub", "disp-1", "caller-1", "eval-1", "display-1"}
        assert all(r["online"] for r in rows.values()) and rows["caller-1"]["window"] == 1
        assert rows["disp-1"]["printer"] == "ok" and rows["disp-1"]["fw"] == "host"
        shown = subprocess.run([hallctl, "status", "--mqtt", target], capture_output=True,
                               text=True, timeout=30)
        assert shown.stdout.startswith("hall district-1: 4 devices, 0 offline; waiting A 0")
        other = subprocess.run([hallctl, "status", "--mqtt", target, "--hall", "elsewhere",
                                "--timeout", "1"], capture_output=True, text=True, timeout=30)
        assert other.returncode == 2 and other.stderr == (
            "hallctl: %s: no hub has published a hall status for hall elsewhere in 1 s\n" % target)
    finally:
        hall.close()
        spy.loop_stop()
    topics = {t for t, _, _ in seen}
    assert "qms/district-1/disp-1/up/ticket_request" in topics
    assert "qms/district-1/disp-1/down/ticket_issued" in topics
    assert "qms/district-1/caller-1/down/window_state" in topics
    births = [json.loads(p) for t, p, r in seen if t == "qms/district-1/caller-1/status"]
    assert births and births[0]["online"] is True          # the retained birth message
    issued = [json.loads(p) for t, p, _ in seen if t.endswith("/down/ticket_issued")]
    assert issued[0]["ticket"] == "A001" and issued[0]["_ack"] is True


@pytest.mark.micropython
def test_a_broker_restart_loses_nothing(tmp_path, broker):
    hall = Hall(tmp_path, broker)
    try:
        hall.service()
        broker.stop()                                   # the hall PC's broker restarts
        hall.press("disp-1", 0)                         # a citizen presses meanwhile
        end = time.monotonic() + 2
        while time.monotonic() < end:
            hall.pump()
        broker.start()
        back = time.monotonic()
        hall.wait("disp-1", lambda i: i[:3] == ["hw", "show", "ready"], timeout=90)
        # the device and the hub each reconnect within a backoff (the broker was down 2 s:
        # a few seconds), and the hub's clock broadcast on connecting brings out at once what
        # the dispenser had given up on: seconds, not the minute of the next broadcast
        assert time.monotonic() - back < 15
        assert hall.core.day_summary()["issued"][0] == 2           # issued once, after the restart
        assert hall.printer.printed.count(b"QMS1|") == 2
        hall.service()                                  # and the hall runs on
        assert hall.core.day_summary()["window_served"][0] == 2
    finally:
        hall.close()


@pytest.mark.micropython
def test_garbage_from_a_stranger_is_counted_and_dropped(tmp_path, broker):
    hall = Hall(tmp_path, broker)
    try:
        mallory = paho.Client(paho.CallbackAPIVersion.VERSION2)
        mallory.connect("127.0.0.1", broker.port)
        mallory.loop_start()
        bad = [("qms/district-1/disp-1/up/ticket_request", b"{not json"),
               ("qms/district-1/disp-1/up/ticket_request", b'{"req": "x", "_seq": 1}'),
               ("qms/district-1/disp-1/up/no_such_message", b"{}"),
               ("qms/district-1/disp-1/up/status", b"x" * 5000),
               ("qms/district-1/mallory/up/ticket_request",
                b'{"req": 9, "service": "A", "kind": 0, "booking": "", "_seq": 3, "_ack": true}'),
               ("qms/district-1/caller-1/down/window_state", b"\xff\xfe"),
               ("qms/district-1/all/down/time_sync", b'{"utc": "soon"}')]
        for topic, payload in bad:
            mallory.publish(topic, payload, qos=1).wait_for_publish(5)
        end = time.monotonic() + 2
        while time.monotonic() < end:
            hall.pump()
        stats = hall.hub.stats()
        assert stats["dropped"] + sum(stats["rejected"].values()) == 5   # the uplink ones
        assert hall.core.day_summary()["issued"][0] == 0            # nothing was issued to a stranger
        hall.service()                                   # everyone still works
        mallory.loop_stop()
    finally:
        hall.close()


def test_each_device_publishes_only_as_itself(tmp_path):
    # hallctl broker-config's password file and ACL on a real Mosquitto: a device cannot
    # publish as another device or as the hub, nor read another device's commands.
    hall_file = tmp_path / "hall.json"
    hall_file.write_text(json.dumps({"hall": HALL, "devices": [DISPENSER, CALLER, EVALUATOR]}))
    out = tmp_path / "broker"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run([str(Path(sys.executable).parent / "hallctl"), "broker-config",
                           str(hall_file), "--out", str(out), "--listen", "127.0.0.1:%d" % port],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    creds = json.loads((out / "credentials.json").read_text())
    assert not any(p in proc.stdout for p in creds.values())       # never shown
    assert oct((out / "passwd").stat().st_mode)[-3:] == "600"
    b = LocalBroker(tmp_path, extra=(out / "mosquitto.conf").read_text(), port=port)
    try:
        heard = {}

        def client(user, subscribe=()):
            c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=user)
            c.username_pw_set(user, creds.get(user, "wrong"))
            got = heard.setdefault(user, [])
            c.on_message = lambda cl, u, m: got.append(m.topic)
            rc = []
            c.on_connect = lambda cl, u, f, reason, p=None: rc.append(reason.is_failure)
            c.connect("127.0.0.1", b.port)
            for name in subscribe:
                c.subscribe(name, qos=1)
            c.loop_start()
            deadline = time.monotonic() + 5
            while not rc and time.monotonic() < deadline:
                time.sleep(0.01)
            return c, rc
        hub, _ = client("hub", ["qms/%s/+/up/#" % HALL])
        caller, _ = client("caller-1", ["qms/%s/+/down/#" % HALL])
        disp, _ = client("disp-1")
        time.sleep(0.3)
        disp.publish("qms/%s/disp-1/up/status" % HALL, b"{}", qos=1).wait_for_publish(5)
        disp.publish("qms/%s/caller-1/up/call_next" % HALL, b"{}", qos=1).wait_for_publish(5)
        disp.publish("qms/%s/caller-1/down/window_state" % HALL, b"{}", qos=1).wait_for_publish(5)
        hub.publish("qms/%s/disp-1/down/time_sync" % HALL, b"{}", qos=1).wait_for_publish(5)
        time.sleep(0.5)
        assert heard["hub"] == ["qms/%s/disp-1/up/status" % HALL]       # not the forged one
        assert heard["caller-1"] == []          # neither the forged command nor disp-1's own
        _, refused = client("mallory")
        assert refused == [True]                # no account, no connection
        for c in (hub, caller, disp):
            c.loop_stop()
    finally:
        b.stop()


def test_broker_config_refuses_a_bad_hall_file(tmp_path):
    bad = tmp_path / "hall.json"
    bad.write_text(json.dumps({"hall": HALL, "devices": [DISPENSER, dict(CALLER, id="hub")]}))
    proc = subprocess.run([str(Path(sys.executable).parent / "hallctl"), "broker-config",
                           str(bad), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("hallctl: %s: devices[1].id: 'hub' is reserved for the hub's "
                                   "topics" % bad)


@pytest.mark.micropython
def test_a_hub_back_after_its_devices_costs_seconds_not_a_minute(tmp_path, broker):
    # The broker restarts and the hub's own link comes back 10 s after it: the dispenser's
    # request reaches a broker with no hub, and its link gives up. The hub, once connected,
    # broadcasts the clock at once, and the dispenser sends what it kept then, not at the
    # next minute's broadcast.
    tap = CutProxy(broker.port)
    hall = Hall(tmp_path, broker, via={"hub": tap.port})
    try:
        hall.service()
        broker.stop()
        tap.cut(10)
        hall.press("disp-1", 0)
        end = time.monotonic() + 1
        while time.monotonic() < end:
            hall.pump()
        broker.start()
        hall.wait("disp-1", lambda i: i[:3] == ["hw", "show", "ready"], timeout=120)
        assert time.monotonic() - tap.restored_at() < 30 + 5     # paho's backoff, then at once
        assert hall.core.day_summary()["issued"][0] == 2
    finally:
        hall.close()
        tap.close()


@pytest.mark.micropython
def test_a_device_cut_off_for_a_minute_loses_nothing_and_repeats_nothing(tmp_path, broker):
    proxy = CutProxy(broker.port)
    hall = Hall(tmp_path, broker, via={"caller-1": proxy.port})
    try:
        hall.service()
        hall.press("disp-1", 0)                         # A002 waits
        hall.wait("disp-1", lambda i: i[:3] == ["hw", "show", "ready"])
        proxy.cut(60)                                   # the caller's access point goes down
        hall.press("caller-1", 0)                       # staff press next meanwhile
        end = time.monotonic() + 5
        while time.monotonic() < end:
            hall.pump()
        assert hall.core.day_summary()["window_served"][0] == 1 and hall.core.is_idle(0)   # not yet
        call = hall.wait("caller-1", lambda i: i[:2] == ["hw", "board"] and i[2].startswith("请"),
                         timeout=150)       # back within a backoff (at most 45 s)
        assert call[2] == "请A002号到1号窗口"              # the press arrived, once
        hall.press("caller-1", 2)
        hall.wait("caller-1", lambda i: i[:2] == ["hw", "board"] and i[2].endswith("正在办理"))
        hall.press("caller-1", 3)
        hall.wait("eval-1", lambda i: i == ["hw", "lights", 31])
        end = time.monotonic() + 2
        while time.monotonic() < end:
            hall.pump()
        assert hall.core.day_summary()["window_served"][0] == 2
        assert hall.core.day_summary()["issued"][0] == 2 and hall.core.waiting(0) == 0   # none called twice
    finally:
        hall.close()
        proxy.close()


@pytest.mark.micropython
def test_a_device_whose_link_goes_silent_comes_back(tmp_path, broker):
    # An access point reboots: the caller's TCP connection is left open with nothing on it.
    # Its keepalive finds that out; it must close that socket and connect again once the
    # network is back, and the key pressed meanwhile must arrive, once.
    proxy = CutProxy(broker.port)
    hall = Hall(tmp_path, broker, via={"caller-1": proxy.port}, keepalive=4)
    try:
        hall.service()
        hall.press("disp-1", 0)                         # A002 waits
        hall.wait("disp-1", lambda i: i[:3] == ["hw", "show", "ready"])
        proxy.silence(12)
        hall.press("caller-1", 0)                       # staff press next meanwhile
        hall.wait("caller-1", lambda i: i == ["mqtt", False], timeout=30)   # it noticed
        back = max(time.monotonic(), proxy.restored_at())
        call = hall.wait("caller-1", lambda i: i[:2] == ["hw", "board"] and i[2].startswith("请"),
                         timeout=60)
        assert call[2] == "请A002号到1号窗口"
        assert time.monotonic() - back < 30 + 10        # within the backoff cap and a CONNACK
        end = time.monotonic() + 2
        while time.monotonic() < end:
            hall.pump()
        assert hall.core.day_summary()["issued"][0] == 2 and hall.core.waiting(0) == 0   # called once
    finally:
        hall.close()
        proxy.close()


@pytest.mark.micropython
def test_the_hub_restarting_from_its_journal_loses_nothing(tmp_path, broker):
    hall = Hall(tmp_path, broker)
    try:
        hall.service()
        hall.hub.client.loop_stop()                     # power lost: no goodbye, no will sent
        hall.hub.client.socket().close()
        hall.press("disp-1", 0)                         # a citizen presses while it is down
        end = time.monotonic() + 3
        while time.monotonic() < end:
            for b in hall.boards.values():
                b.read(0)
        hall.journal.close()
        from hall import at
        hall.journal = FileStorage(str(tmp_path / "journal.bin"))
        hall.core = RoutingCore.recover(config(), hall.journal, at("09:00"))
        assert hall.core.day_summary()["window_served"][0] == 1    # the journal kept the day so far
        hall.hub = MqttHub(hall.core, hall.devices, HALL, "127.0.0.1", broker.port,
                           utc0=at("09:00"))
        hall.hub.start()
        hall.wait("disp-1", lambda i: i[:3] == ["hw", "show", "ready"], timeout=60)
        assert hall.core.day_summary()["issued"][0] == 2 and hall.printer.printed.count(b"QMS1|") == 2
        hall.service()
        assert hall.core.day_summary()["window_served"][0] == 2
    finally:
        hall.close()


def test_a_hall_bridged_to_the_centre_is_collected_and_catches_up(tmp_path):
    # A hall's Mosquitto bridges qms/HALL/# to a central one (hallctl broker-config --central);
    # hallctl collect stores what arrives in SQLite. The centre goes down for a while: the hall
    # keeps working, and afterwards the centre has every event, once.
    from hallctl.collect import Collector, bridge_config
    (tmp_path / "c").mkdir()
    (tmp_path / "h").mkdir()
    central = LocalBroker(tmp_path / "c", persist=True)
    hall_broker = LocalBroker(tmp_path / "h", extra="allow_anonymous true\n" +
                              bridge_config(HALL, "127.0.0.1:%d" % central.port))
    db = tmp_path / "city.db"
    collector = Collector("127.0.0.1", central.port, "sqlite:///%s" % db)
    collector.start()
    device = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="disp-1")
    device.connect("127.0.0.1", hall_broker.port)
    device.loop_start()

    def events(first, n):
        for k in range(first, first + n):
            body = json.dumps({"req": k, "service": "A", "kind": 0, "booking": "", "_seq": k % 256,
                               "_ack": True})
            info = device.publish("qms/%s/disp-1/up/ticket_request" % HALL, body, qos=1)
            info.wait_for_publish(5)                   # the hall's broker took it

    def collected(n, timeout):
        deadline = time.monotonic() + timeout
        while collector.store.count() < n and time.monotonic() < deadline:
            collector.pump()
        return collector.store.count()
    try:
        time.sleep(1)                                  # the bridge and the collector connect
        events(0, 10)
        assert collected(10, 15) == 10
        central.stop()                                 # the link to the centre is down
        events(10, 10)                                 # the hall goes on meanwhile
        central.start()
        assert collected(20, 60) == 20                 # caught up
        events(10, 5)                                  # a device repeating itself
        collected(25, 3)
        assert collector.store.count() == 20 and collector.skipped >= 5
        # The hub closes its day: the summary reaches the centre, and the month report reads it.
        from firmware.routing.journal import MemoryStorage
        from hall import at
        core = RoutingCore(config(), MemoryStorage(), at("09:00"))
        hub = MqttHub(core, [], HALL, "127.0.0.1", hall_broker.port, utc0=at("09:00"))
        hub.start(wait_s=10)
        core.window_open(at("09:00"), 1)
        core.login(at("09:00"), 1, "S1")
        core.issue(at("09:00"), "A")
        core.call_next(at("09:06"), 1)
        core.start(at("09:07"), 1)
        core.finish(at("09:17"), 1)
        core.close_day(at("18:00"))
        deadline = time.monotonic() + 15
        day = []
        while not day and time.monotonic() < deadline:
            collector.pump()
            day = collector.store.db.execute("SELECT body FROM events WHERE type = 'day'").fetchall()
        hub.stop()
        assert len(day) == 1
        proc = subprocess.run([str(Path(sys.executable).parent / "hallctl"), "report",
                               "sqlite:///%s" % db, "--month", "2026-11", "--json"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        overall = json.loads(proc.stdout)["overall"]
        assert (overall["served"], overall["mean_wait_min"]) == (1, 6.0)
    finally:
        device.loop_stop()
        collector.stop()
        hall_broker.stop()
        central.stop()
    rows = __import__("sqlite3").connect(str(db)).execute(
        "SELECT hall, device, direction, type FROM events GROUP BY 1, 2, 3, 4").fetchall()
    assert set(rows) == {(HALL, "disp-1", "up", "ticket_request"), (HALL, "hub", "day", "day"),
                         (HALL, "hub", "status", "status")}


@pytest.mark.parametrize("args,message", [
    (["--mqtt", "h:x"], "--mqtt h:x: expected HOST[:PORT]"),
    (["--mqtt", "h", "--db", "mysql://x"], "--db mysql://x: expected sqlite:///PATH or postgresql://"),
    (["--mqtt", "h", "--password-file", "/no/such"], "/no/such: cannot read"),
])
def test_collect_errors_are_one_line(args, message):
    proc = subprocess.run([str(Path(sys.executable).parent / "hallctl"), "collect"] + args,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert message in proc.stderr


@pytest.mark.micropython
def test_a_rating_for_another_window_is_rejected(tmp_path, broker):
    # eval-1 belongs to window 1: a rating it sends for window 2's ticket is not recorded.
    hall = Hall(tmp_path, broker)
    try:
        hall.service()
        end = time.monotonic() + 5
        while not hall.core.day_summary()["staff_ratings"].get("S1") and time.monotonic() < end:
            hall.pump()                                 # the honest rating lands first
        rejects = sum(hall.core.day_summary()["rating_rejects"])
        recorded = sum(sum(v) for v in hall.core.day_summary()["staff_ratings"].values())
        forger = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="eval-1-forger")
        forger.connect("127.0.0.1", broker.port)
        forger.loop_start()
        body = json.dumps({"window": 2, "ticket": "A001", "level": 5, "reasons": [1],
                           "_seq": 200, "_ack": True})
        forger.publish("qms/%s/eval-1/up/rating" % HALL, body, qos=1).wait_for_publish(5)
        end = time.monotonic() + 2
        while time.monotonic() < end:
            hall.pump()
        forger.loop_stop()
        assert sum(hall.core.day_summary()["rating_rejects"]) == rejects + 1
        assert sum(sum(v) for v in hall.core.day_summary()["staff_ratings"].values()) == recorded
    finally:
        hall.close()


@pytest.mark.micropython
def test_tls_where_the_broker_offers_it(tmp_path):
    # A broker with a TLS listener and the hall's own CA: the MicroPython devices check its
    # certificate (mbedTLS), the hub too (paho), and a service runs through it.
    def ssl_cmd(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=tmp_path)
    ssl_cmd("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "30", "-subj", "/CN=qms-hall-ca")
    ssl_cmd("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1")
    (tmp_path / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    ssl_cmd("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "30", "-extfile", "ext.cnf")
    ssl_cmd("x509", "-in", "ca.crt", "-outform", "der", "-out", "ca.der")
    broker = LocalBroker(tmp_path, extra="cafile %s\ncertfile %s\nkeyfile %s\n"
                         "allow_anonymous true" % (tmp_path / "ca.crt", tmp_path / "server.crt",
                                                   tmp_path / "server.key"))
    hall = Hall(tmp_path, broker, ca=(tmp_path / "ca.der", tmp_path / "ca.crt"))
    try:
        assert hall.service() == "请A001号到1号窗口"
    finally:
        hall.close()
        broker.stop()


@pytest.mark.micropython
def test_a_slice_of_a_day_through_the_broker_loses_nothing():
    # hallsim's real-time hall on MQTT: 14 MicroPython devices and the hub through a Mosquitto
    # started for the run, 30 hall minutes at 60x.
    proc = subprocess.run([str(Path(sys.executable).parent / "hallsim"), "run", "--realtime",
                           "--devices", "micropython", "--minutes", "30", "--mqtt", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    books = json.loads(proc.stdout)
    assert books["issued"] >= 5 and books["finished"] >= 3 and books["ratings"] >= 1
    assert books["lost"] == 0 and books["duplicated_calls"] == 0
    assert books["printed"] == books["issued"]
    assert books["devices_online"] == books["devices"] == 14
    assert books["link_rejects"] == 0
    # every device was heard on the scenario's hall's topics (qms/district-1/...), as the hub
    # and the status it serves name it
    assert books["hall"] == "district-1"


@pytest.fixture
def postgres(tmp_path):
    # A throwaway PostgreSQL cluster on a free port (as root, run as the postgres user).
    import glob
    import os
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed (.ci/run installs it)")
    import tempfile
    bin_dir = Path(found[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="qms-pg-"))       # (pytest's tmp is private to root)
    prefix = []
    if os.geteuid() == 0:
        os.chmod(data, 0o755)
        shutil.chown(data, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(prefix + [str(bin_dir / "initdb"), "-D", str(data / "db"), "-A", "trust",
                             "-U", "qms"], check=True, capture_output=True)
    subprocess.run(prefix + [str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l",
                             str(data / "log"), "-o", "-p %d -k %s -c listen_addresses=127.0.0.1"
                             % (port, data), "start"], check=True, capture_output=True)
    yield "postgresql://qms@127.0.0.1:%d/postgres" % port
    subprocess.run(prefix + [str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast",
                             "stop"], capture_output=True)
    shutil.rmtree(data, ignore_errors=True)


def test_collect_into_postgresql(tmp_path, broker, postgres):
    import psycopg
    out = tmp_path / "collect.txt"
    collector = subprocess.Popen([str(Path(sys.executable).parent / "hallctl"), "collect",
                                  "--mqtt", "127.0.0.1:%d" % broker.port, "--db", postgres,
                                  "--seconds", "4"], stdout=open(out, "w"), text=True)
    time.sleep(1.5)
    device = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="eval-1")
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    for k in (1, 2, 3, 3):                             # the last one a repeat
        device.publish("qms/%s/eval-1/up/rating" % HALL,
                       json.dumps({"window": 1, "ticket": "A00%d" % k, "level": 1, "reasons": [],
                                   "_seq": k, "_ack": True}), qos=1).wait_for_publish(5)
    device.loop_stop()
    assert collector.wait(30) == 0
    with psycopg.connect(postgres) as db:
        rows = db.execute("SELECT hall, device, type, body FROM events ORDER BY body").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(HALL, "eval-1", "rating")] * 3
    assert json.loads(rows[0][3])["ticket"] == "A001"
    assert "stored 3 events (1 repeats skipped)" in out.read_text()


def test_collect_from_a_broker_it_cannot_reach_fails_and_makes_nothing(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                      # nobody listens there
    for where, reason in (("127.0.0.1:%d" % port, "cannot connect: Connection refused"),
                          ("qms-no-such-host.invalid", "cannot connect: ")):
        proc = subprocess.run([str(Path(sys.executable).parent / "hallctl"), "collect",
                               "--mqtt", where, "--db", "sqlite:///%s" % (tmp_path / "x.db"),
                               "--seconds", "2"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and proc.stdout == "", proc.stdout
        assert proc.stderr.startswith("hallctl: --mqtt %s" % where) and reason in proc.stderr
        assert proc.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []              # no database made


def test_collect_refused_by_the_broker_says_so(tmp_path):
    (tmp_path / "nobody").write_text("")
    broker = LocalBroker(tmp_path, extra="allow_anonymous false\npassword_file %s\n"
                         % (tmp_path / "nobody"))
    try:
        proc = subprocess.run([str(Path(sys.executable).parent / "hallctl"), "collect",
                               "--mqtt", "127.0.0.1:%d" % broker.port, "--db",
                               "sqlite:///%s" % (tmp_path / "x.db"), "--seconds", "2"],
                              capture_output=True, text=True, timeout=60)
    finally:
        broker.stop()
    assert proc.returncode == 2 and "the broker refused: " in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "x.db").exists()


def test_collect_tells_a_retransmission_from_the_same_text_on_another_day(tmp_path):
    # What identifies an event is its source and its sequence number: the same bytes again
    # within the source's last 255 messages are a retransmission (skipped, also after the
    # collector restarts); the same text once the 8-bit sequence has come round is a new event.
    from hallctl.collect import Store
    url = "sqlite:///%s" % (tmp_path / "city.db")
    topic = "qms/%s/eval-1/up/rating" % HALL

    def rating(seq, ticket="A001"):
        return json.dumps({"window": 1, "ticket": ticket, "level": 1, "reasons": [],
                           "_seq": seq % 256, "_ack": True}).encode()
    store = Store(url)
    assert store.add(topic, rating(7), 0.0)
    assert not store.add(topic, rating(7), 0.1)                 # retransmitted
    for k in range(8, 8 + 255):                                 # the next day's ratings...
        assert store.add(topic, rating(k, "B%03d" % (k % 1000)), 1.0)
    store.commit()
    store = Store(url)                                          # (a restarted collector)
    assert not store.add(topic, rating(8 + 254, "B%03d" % 262), 2.0)   # a late repeat
    assert store.add(topic, rating(7), 86400.0)                 # ...and the same text again
    assert store.add("qms/%s/eval-2/up/rating" % HALL, rating(7), 86400.0)  # another source
    store.commit()
    assert store.count() == 1 + 255 + 2


def test_collect_stores_nothing_of_hostile_topics_and_payloads(tmp_path):
    # Whatever a broker hands the collector (any topic, any bytes), Store.add never raises,
    # stores only JSON of the hall's topic shapes, and a stored event's body is its payload.
    from hypothesis import given, settings, strategies as st
    from hallctl.collect import Store
    store = Store("sqlite:///%s" % (tmp_path / "x.db"))
    parts = st.sampled_from(["qms", HALL, "disp-1", "hub", "up", "down", "status", "day", "",
                             "+", "#", "a/b", "\x00", "票"])
    topics = st.lists(parts, min_size=1, max_size=6).map("/".join)
    payloads = st.one_of(st.binary(max_size=64), st.just(b'{"_seq": 1}'), st.just(b"{}"),
                         st.just(b'\xff{"a": 1}'), st.just(b"[1, 2]"), st.just(b"null"))

    @settings(max_examples=400, deadline=None, database=None)
    @given(topics, payloads)
    def check(topic, payload):
        before = store.count()
        stored = store.add(topic, payload, 0.0)
        assert store.count() == before + (1 if stored else 0)
        if stored:
            body = store.db.execute("SELECT body FROM events ORDER BY id DESC LIMIT 1").fetchone()[0]
            assert body.encode("utf-8") == payload
            json.loads(body)
            assert len(topic.split("/")) in (4, 5)
    check()
