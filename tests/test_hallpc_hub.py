"""hallctl hub, the hall PC's hub, driven as a hall runs it: a process with the example hall's
devices as MicroPython virtual boards on one RS485 bus of pseudo-terminals (or on a real
Mosquitto), through a restart (SIGTERM, start again, the same queues) and a kill -9 (recovered
from its journal, nothing acknowledged lost), its journald lines and hallctl status --data as an
operator reads them, and nothing in its data directory but its own files."""
import json
import signal
import time

import pytest

from hallrig import Hall, HubProcess, HALLCTL, hall_file, hallctl, wait_online
from host_sim.realtime import VirtualBus
from hallpc.localbroker import LocalBroker


def _status(data):
    proc = hallctl("status", "--data", data, "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


@pytest.mark.micropython
@pytest.mark.slow
def test_the_hall_pc_hub_on_the_bus_through_a_restart_and_a_kill(tmp_path):
    hall_path = hall_file(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text("the technician's own file\n")
    bus = VirtualBus()
    adapter = bus.port()                          # the hall PC's USB-RS485 adapter
    hall = Hall(tmp_path, hall_path, bus=bus)
    args = [HALLCTL, "hub", hall_path, "--data", data, "--bus", adapter]
    log = tmp_path / "hub.log"
    hub = HubProcess([str(a) for a in args], log)
    try:
        hub.wait_log("hub: hall district-1, 7 devices, 0 waiting")
        wait_online(data, ("disp-1", "caller-1", "eval-1", "display-1"))
        second = hallctl("hub", hall_path, "--data", data, "--bus", bus.port(), timeout=30)
        assert second.returncode == 2 and second.stderr == (
            "hallctl: %s: another hub is running on this data directory\n" % data)
        hall["caller-1"].proc.stdin.write(b"login S001\n")    # staff sign in at window 1
        hall.shows("caller-1", "1号窗口 等候0人")
        assert hall.ticket() == "A001"
        hall["caller-1"].press(0)                              # next
        hall.shows("caller-1", "请A001号到1号窗口")
        hall["display-1"].wait_for(lambda i: i[:2] == ["hw", "screen"] and i[2] and
                                   i[2][0] == "请A001号到1号窗口", 20)
        assert hall.ticket() == "A002"

        # systemd stops it: exit 0, the journal closed, the status says so
        assert hub.stop(signal.SIGTERM) == 0
        assert "stopped (SIGTERM): journal closed" in hub.text()
        rows, warning = _status(data)
        assert "the hub stopped" in warning
        hub = HubProcess([str(a) for a in args], log)
        hub.wait_log("7 devices, 1 waiting", 30)               # A002 still waits
        hall.serve_and_call_next("A001", "A002")
        assert hall.ticket() == "A003"                         # printed: acknowledged

        # power cut: kill -9, start again; A003 was acknowledged and is still there
        hub.kill()
        hub = HubProcess([str(a) for a in args], log)
        hub.wait_log("7 devices, 1 waiting", 30)
        hall.serve_and_call_next("A002", "A003")
        assert hall.ticket() == "A004"                         # numbers never reused
        by_id = wait_online(data, ("disp-1", "caller-1"))
        assert not by_id["disp-2"]["online"] and by_id["disp-1"]["fw"] == "host"
        assert _status(data)[1] == ""                          # running: no warning
        text = hub.text()
        for line in ("device disp-1 (dispenser) online", "device caller-1 (caller at window 1) "
                     "online"):
            assert line in text, text
        assert "Traceback" not in text and "sekrit" not in text
        assert hub.stop(signal.SIGINT) == 0
    finally:
        if hub.proc.poll() is None:
            hub.kill()
        hall.close()
        bus.close()
    assert (data / "notes.txt").read_text() == "the technician's own file\n"
    names = sorted(p.name for p in data.iterdir())      # (days.bin once a day has closed)
    assert [n for n in names if n != "days.bin"] == ["hub.lock", "journal.bin", "notes.txt",
                                                     "status.json"], names


@pytest.mark.micropython
@pytest.mark.slow
def test_the_hall_pc_hub_on_mqtt_through_a_restart(tmp_path):
    import paho.mqtt.subscribe as subscribe
    broker = LocalBroker(tmp_path)
    hall_path = hall_file(tmp_path, mqtt=True)
    data = tmp_path / "data"
    hall = Hall(tmp_path, hall_path, mqtt=("127.0.0.1", broker.port))
    args = [str(a) for a in (HALLCTL, "hub", hall_path, "--data", data, "--mqtt",
                             "127.0.0.1:%d" % broker.port)]
    hub = HubProcess(args, tmp_path / "hub.log")
    try:
        hub.wait_log("broker 127.0.0.1:%d connected" % broker.port)
        wait_online(data, ("disp-1", "caller-1"))
        hall["caller-1"].proc.stdin.write(b"login S001\n")
        hall.shows("caller-1", "1号窗口 等候0人")
        assert hall.ticket() == "A001"
        assert hall.ticket() == "A002"
        hall["caller-1"].press(0)
        hall.shows("caller-1", "请A001号到1号窗口")
        assert hub.stop(signal.SIGTERM) == 0
        will = subscribe.simple("qms/district-1/hub/status", hostname="127.0.0.1",
                                port=broker.port, retained=True)
        assert json.loads(will.payload)["online"] is False      # an orderly offline status
        hub = HubProcess(args, tmp_path / "hub.log")
        hub.wait_log("7 devices, 1 waiting", 30)
        hall.serve_and_call_next("A001", "A002")
        doc = json.loads(subscribe.simple("qms/district-1/hub/hall", hostname="127.0.0.1",
                                          port=broker.port, retained=True).payload)
        assert doc["hall"] == "district-1" and len(doc["devices"]) == 7
        assert hub.stop(signal.SIGTERM) == 0
    finally:
        if hub.proc.poll() is None:
            hub.kill()
        hall.close()
        broker.stop()
