"""hallctl status against a virtual board: the firmware in the MicroPython unix port behind a
pseudo-terminal, as a technician's laptop sees a device on USB."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from conftest import build_mpy
from host_sim.realtime import FakePrinter, VirtualBoard
from test_virtual_boards import DISPENSER

HALLCTL = str(Path(sys.executable).parent / "hallctl")


def hallctl(*args):
    return subprocess.run([HALLCTL] + list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture
def board(tmp_path):
    printer = FakePrinter()
    b = VirtualBoard(build_mpy(), tmp_path, dict(DISPENSER, wifi={"ssid": "hall", "psk": "sekrit"}),
                     printer=printer)
    b.port.close()                     # hallctl opens the line itself, like a USB port
    yield b
    b.port = serial.Serial(b.cable.b_path, 115200, timeout=0)
    b.close()
    printer.close()


@pytest.mark.micropython
def test_status_of_a_device_on_a_serial_port(board):
    proc = hallctl("status", "--port", board.cable.b_path, "--json")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["address"] == DISPENSER["bus_address"] and row["role"] == "dispenser"
    assert row["fw"] and row["reset_cause"] and row["free_heap"] > 0
    assert row["printer"] == "ok"
    table = hallctl("status", "--port", board.cable.b_path)
    lines = table.stdout.splitlines()
    assert table.returncode == 0 and lines[0].split()[:3] == ["address", "role", "fw"]
    assert "dispenser" in lines[1] and "sekrit" not in table.stdout + proc.stdout


def test_the_errors_a_technician_meets_are_one_line(tmp_path):
    gone = hallctl("status", "--port", "/dev/no-such-tty")
    assert gone.returncode == 2 and gone.stderr.strip() == "hallctl: /dev/no-such-tty: no such port"
    import os
    import pty
    import tty
    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    held = serial.Serial(path, 115200, exclusive=True)
    try:
        busy = hallctl("status", "--port", path, "--timeout", "1")
        assert busy.returncode == 2 and "busy" in busy.stderr and len(busy.stderr.splitlines()) == 1
    finally:
        held.close()
    silent = hallctl("status", "--port", path, "--timeout", "1")    # nobody on the line
    assert silent.returncode == 2 and "no device answered in 1 s" in silent.stderr
    os.close(master)
    os.close(slave)


@pytest.mark.micropython
def test_monitor_shows_what_a_device_says_and_counts_noise(board):
    import threading
    import time as t

    def press_and_noise():
        t.sleep(1.0)
        board.press(0)                                   # a citizen asks for a ticket
        t.sleep(0.5)
        import os
        os.write(board.cable.a_slave, b"\x00\x13\x37noise on the line\x00")
    threading.Thread(target=press_and_noise, daemon=True).start()
    proc = hallctl("monitor", "--port", board.cable.b_path, "--poll", "--seconds", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    kinds = [x.get("type") for x in lines]
    assert "status" in kinds and "ticket_request" in kinds
    request = lines[kinds.index("ticket_request")]
    assert request["_src"] == DISPENSER["bus_address"] and request["_ack"] is True
    assert any("rejected" in x for x in lines)              # the noise, shown and counted
    text = hallctl("monitor", "--port", board.cable.b_path, "--poll", "--seconds", "1")
    assert text.returncode == 0 and text.stdout.strip().endswith("rejected")


@pytest.mark.micropython
def test_status_of_the_whole_hall_from_the_hubs_console(tmp_path):
    # The hub (MicroPython, its routing core and journal) masters a line with one dispenser on
    # it; a caller it expects is missing. hallctl on the hub's console sees the whole hall.
    from host_sim.realtime import VirtualCable
    from hallpc import mpybuild
    from test_virtual_boards import CALLER
    build = build_mpy()
    printer = FakePrinter()
    disp = VirtualBoard(build, tmp_path, DISPENSER, printer=printer)
    disp.port.close()
    hub_dir = tmp_path / "hub"
    hub_dir.mkdir()
    example = json.loads((Path(__file__).resolve().parents[1] / "tools" / "hallctl" /
                          "hall.example.json").read_text(encoding="utf-8"))
    (hub_dir / "config.json").write_text(json.dumps({"id": "hub-1", "role": "hub",
                                                     "hall": "district-1", "board": "host"}))
    (hub_dir / "hall.json").write_text(json.dumps(example["routing"], ensure_ascii=False))
    (hub_dir / "devices.json").write_text(json.dumps([
        {k: DISPENSER[k] for k in ("id", "role", "bus_address")},
        {k: CALLER[k] for k in ("id", "role", "bus_address", "window")}]))
    console = VirtualCable()
    hub = subprocess.Popen(
        [mpybuild.micropython(), "-X", "heapsize=512K", "-m", "firmware.main",
         str(hub_dir / "config.json"), "bus=" + disp.cable.b_path, "console=" + console.a_path],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=dict(__import__("os").environ, MICROPYPATH=str(build) + ":.frozen"))
    try:
        rows = {}
        deadline = __import__("time").monotonic() + 30
        while __import__("time").monotonic() < deadline:
            proc = hallctl("status", "--port", console.b_path, "--json", "--timeout", "3")
            assert proc.returncode == 0, proc.stderr + (hub.stdout.read1(4096).decode()
                                                        if hub.poll() is not None else "")
            rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
            if rows["disp-1"]["online"] and rows["disp-1"]["fw"]:
                break
        assert rows["hub-1"]["role"] == "hub" and rows["hub-1"]["free_heap"] > 0
        assert rows["disp-1"]["online"] and rows["disp-1"]["fw"] == "host"
        assert rows["disp-1"]["printer"] == "ok" and rows["disp-1"]["last_seen"] <= 5
        assert rows["caller-1"]["online"] is False and rows["caller-1"]["last_seen"] is None
        shown = hallctl("status", "--port", console.b_path)
        lines = shown.stdout.splitlines()
        assert lines[0] == "hall district-1: 2 devices, 1 offline; waiting A 0, B 0"
        assert lines[1].split()[:5] == ["id", "address", "role", "window", "online"]
        caller = [line for line in lines if line.startswith("caller-1")][0]
        assert caller.split()[1:5] == ["33", "caller", "1", "NO"]
    finally:
        hub.kill()
        hub.wait()
        console.close()
        disp.port = serial.Serial(disp.cable.b_path, 115200, timeout=0)
        disp.close()
        printer.close()


def test_what_devices_say_reaches_the_operators_terminal_escaped(tmp_path):
    # A device (or anyone who can publish the hall's status) chooses its firmware version
    # and id text: escape sequences must not clear, retitle or reorder the operator's screen.
    import paho.mqtt.client as paho
    from hallpc.localbroker import LocalBroker
    broker = LocalBroker(tmp_path)
    try:
        evil = "1.0\x1b[2J\x1b]0;pwned\x07\x9b31m\u202egnp.exe\x7f"
        doc = {"hall": "district-1", "now": 0, "waiting": {"A\x1b[5m": 1},
               "hub": {"id": "hub", "fw": evil, "uptime": 1},
               "devices": [{"id": "disp-1", "address": 17, "role": "dispenser", "window": None,
                            "online": True, "last_seen": 0, "fw": evil, "uptime": 1,
                            "reset_cause": 0, "free_heap": 1, "rx_errors": 0, "printer": 0,
                            "rssi": 0, "refused": 0, "faults": 0, "out_of_turn": 0}]}
        pub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="evil")
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        pub.publish("qms/district-1/hub/hall", json.dumps(doc), qos=1,
                    retain=True).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()
        proc = hallctl("status", "--mqtt", "127.0.0.1:%d" % broker.port, "--timeout", "5")
        assert proc.returncode == 0, proc.stderr
        for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\x7f"):
            assert raw not in proc.stdout, repr(raw)
        assert "\\x1b[2J" in proc.stdout and "\\u202e" in proc.stdout
    finally:
        broker.stop()
