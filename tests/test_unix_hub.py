"""The shipped example hall's hub on the MicroPython unix port, provisioned as a technician
provisions an ESP32 hub (hallctl provision hub-1 --out DIR/config.json: config.json, hall.json,
devices.json), on the bus and on MQTT: a ticket, a call, and the whole hall through hallctl
status from its console and from the broker."""
import json
import os
import time

import pytest

from conftest import build_mpy
from hallpc import mpybuild
from hallpc.localbroker import LocalBroker
from hallrig import PSK, Hall, HubProcess, hall_file, hallctl
from host_sim.realtime import VirtualBus, VirtualCable


def _provisioned_hub(tmp_path, hall):
    out = tmp_path / "hub"
    out.mkdir()
    proc = hallctl("provision", hall, "hub-1", "--out", out / "config.json",
                   env={"QMS_WIFI_PSK": PSK})
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "devices.json", "hall.json"]
    return out / "config.json"


def _start(tmp_path, config, *carrier):
    build = build_mpy()
    env = {"MICROPYPATH": str(build) + os.pathsep + ".frozen"}
    return HubProcess([mpybuild.micropython(), "-X", "heapsize=512K", "-m", "firmware.main",
                       str(config)] + list(carrier), tmp_path / "hub.log", env=env)


def _serve_one(hall):
    hall["caller-1"].proc.stdin.write(b"login S001\n")
    hall.shows("caller-1", "1号窗口 等候0人", 30)
    assert hall.ticket() == "A001"
    hall["caller-1"].press(0)
    hall.shows("caller-1", "请A001号到1号窗口")


@pytest.mark.micropython
@pytest.mark.slow
def test_the_example_halls_hub_on_the_unix_port_on_the_bus(tmp_path):
    hall_path = hall_file(tmp_path)
    config = _provisioned_hub(tmp_path, hall_path)
    bus = VirtualBus()
    console = VirtualCable()
    hall = Hall(tmp_path, hall_path, bus=bus)
    hub = _start(tmp_path, config, "bus=" + bus.port(), "console=" + console.a_path)
    try:
        hub.wait_log('["ready", "hub-1"]')
        _serve_one(hall)
        proc = hallctl("status", "--port", console.b_path, "--json", "--timeout", "10")
        assert proc.returncode == 0, proc.stderr
        rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
        assert rows["disp-1"]["online"] and rows["caller-1"]["online"]
        assert "Traceback" not in hub.text()
    finally:
        hub.kill()
        hall.close()
        bus.close()
        console.close()


@pytest.mark.micropython
@pytest.mark.slow
def test_the_example_halls_hub_on_the_unix_port_on_mqtt(tmp_path):
    broker = LocalBroker(tmp_path)
    hall_path = hall_file(tmp_path, mqtt=True)
    config = _provisioned_hub(tmp_path, hall_path)
    assert json.loads(config.read_text())["mqtt"]["user"] == "hub"   # broker-config's account
    hall = Hall(tmp_path, hall_path, mqtt=("127.0.0.1", broker.port))
    hub = _start(tmp_path, config, "mqtt=127.0.0.1:%d" % broker.port)
    try:
        hub.wait_log('["ready", "hub-1"]')
        _serve_one(hall)
        deadline = time.monotonic() + 30
        while True:
            proc = hallctl("status", "--mqtt", "127.0.0.1:%d" % broker.port, "--json")
            rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())} \
                if proc.returncode == 0 else {}
            if rows.get("caller-1", {}).get("online"):
                break
            assert time.monotonic() < deadline, (proc.stderr, rows)
            time.sleep(1)
        assert "Traceback" not in hub.text()
    finally:
        hub.kill()
        hall.close()
        broker.stop()
