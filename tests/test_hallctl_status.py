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
