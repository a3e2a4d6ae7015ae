"""hallctl flash as a technician uses it: MicroPython's REPL on a pseudo-terminal stands in for
a board fresh from its image (mpremote speaks to it as to an ESP32 on USB), and a mock ESP32
ROM bootloader from PyPI answers esptool."""
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from t_dispenser import TEXTS
import serial

from host_sim.realtime import ReplBoard, VirtualBoard, _pty

HALLCTL = str(Path(sys.executable).parent / "hallctl")
CONFIG = {"id": "disp-1", "role": "dispenser", "hall": "district-1", "board": "host",
          "bus_address": 17, "service_keys": [{"service": "A"}], "texts": TEXTS,
          "wifi": {"ssid": "hall", "psk": "sekrit-psk"}}


def hallctl(*args, timeout=120):
    return subprocess.run([HALLCTL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)


def write_config(tmp_path, config, name="config.json"):
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def blank(tmp_path):
    board = ReplBoard(tmp_path / "device")
    yield board
    board.close()


def on_device(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


@pytest.mark.micropython
def test_flash_copies_the_bundle_verifies_it_and_the_device_then_runs_it(tmp_path, blank):
    config = write_config(tmp_path, CONFIG)
    first = hallctl("flash", "--port", blank.path, "--board", "host", "--config", config)
    assert first.returncode == 0, first.stderr
    manifest = json.loads((blank.root / "manifest.json").read_text())
    files = on_device(blank.root)
    assert {k: v for k, v in files.items() if k != "manifest.json"} == manifest["files"]
    n = len(files)
    assert "%d files written" % n in first.stdout and "all %d verified" % n in first.stdout
    assert "sekrit" not in first.stdout + first.stderr
    assert first.stderr == "" and "b''" not in first.stdout    # nothing but the result
    assert len(first.stdout.splitlines()) == 1, first.stdout

    # Again, after a file went bad and a stale module was left behind: only the difference
    # moves, and the stale .py (which would shadow its .mpy) is gone.
    (blank.root / "firmware" / "node.py").write_text("raise SystemExit('stale')\n")
    (blank.root / "protocol" / "frame.mpy").write_bytes(b"garbage")
    again = hallctl("flash", "--port", blank.path, "--board", "host", "--config", config)
    assert again.returncode == 0, again.stderr
    assert "1 file written" in again.stdout and "1 stale removed" in again.stdout
    assert "%d unchanged" % (n - 1) in again.stdout
    assert on_device(blank.root) == files

    # What was flashed boots: the firmware from the device's own files answers hallctl status.
    blank.close()
    device = VirtualBoard(blank.root, tmp_path, json.loads((blank.root / "config.json").read_text()))
    device.port.close()
    try:
        status = hallctl("status", "--port", device.cable.b_path, "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["role"] == "dispenser"
    finally:
        device.port = serial.Serial(device.cable.b_path, 115200, timeout=0)
        device.close()


@pytest.mark.micropython
def test_flash_refuses_before_touching_the_device(tmp_path, blank):
    bad = write_config(tmp_path, dict(CONFIG, bus_address=0))
    proc = hallctl("flash", "--port", blank.path, "--board", "host", "--config", bad)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("hallctl: %s: bus_address: expected 1..253 (0 is the hub, "
                                   "254-255 are reserved), got 0" % bad)
    unknown = hallctl("flash", "--port", blank.path, "--board", "no-such-board", "--config", bad)
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert "no-such-board" in unknown.stderr
    assert list(blank.root.iterdir()) == []


@pytest.mark.micropython
def test_flash_errors_a_technician_meets_are_one_line(tmp_path, blank):
    config = write_config(tmp_path, CONFIG)
    gone = hallctl("flash", "--port", "/dev/no-such-tty", "--board", "host", "--config", config)
    assert gone.returncode == 2 and gone.stderr == "hallctl: /dev/no-such-tty: no such port\n"

    held = serial.Serial(blank.path, 115200, exclusive=True)
    busy = hallctl("flash", "--port", blank.path, "--board", "host", "--config", config)
    held.close()
    assert busy.returncode == 2 and "busy" in busy.stderr and len(busy.stderr.splitlines()) == 1

    esp = write_config(tmp_path, dict(CONFIG, board="esp32-devkitc-dispenser"), "esp.json")
    wrong = hallctl("flash", "--port", blank.path, "--board", "esp32-devkitc-dispenser",
                    "--config", esp)
    assert wrong.returncode == 2, wrong.stderr
    assert wrong.stderr == ("hallctl: %s: wrong board: the device is host, the board "
                            "esp32-devkitc-dispenser is esp32\n" % blank.path)
    assert list(blank.root.iterdir()) == []

    master, slave, silent = _pty()                 # a port with nothing answering on it
    try:
        mute = hallctl("flash", "--port", silent, "--board", "host", "--config", config)
    finally:
        os.close(master)
        os.close(slave)
    assert mute.returncode == 2 and len(mute.stderr.splitlines()) == 1
    assert "no MicroPython REPL answered" in mute.stderr


@pytest.fixture
def rom():
    """A mock ESP32 ROM bootloader on a pseudo-terminal (esp32-mock-bootloader)."""
    def start(chip):
        proc = subprocess.Popen([str(Path(sys.executable).parent / "esp32-mock-bootloader"),
                                 "run", "--chip", chip, "--pty", "--timeout", "120"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(proc)
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/"), path + proc.stdout.read()
        time.sleep(0.2)
        return path
    started = []
    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_flash_writes_a_micropython_image_with_esptool(tmp_path, rom):
    image = tmp_path / "ESP32_GENERIC-v1.29.bin"
    data = b"\xe9" + bytes(range(256)) * 300
    image.write_bytes(data)
    config = write_config(tmp_path, dict(CONFIG, board="esp32-devkitc-dispenser"))
    port = rom("esp32")
    proc = hallctl("flash", "--port", port, "--board", "esp32-devkitc-dispenser", "--config",
                   config, "--image", image, "--erase", "--only-image")
    assert proc.returncode == 0, proc.stderr
    assert "written at 0x1000 and verified" in proc.stdout
    back = tmp_path / "back.bin"                   # read it back with esptool itself
    read = subprocess.run([sys.executable, "-m", "esptool", "--chip", "esp32", "--port", port,
                           "read-flash", "0x1000", str(len(data)), str(back)],
                          capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stdout + read.stderr
    assert back.read_bytes() == data


def test_esptool_errors_are_one_line(tmp_path, rom):
    config = write_config(tmp_path, dict(CONFIG, board="esp32-devkitc-dispenser"))
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    port = rom("esp32c3")
    proc = hallctl("flash", "--port", port, "--board", "esp32-devkitc-dispenser", "--config",
                   config, "--image", not_image)
    assert proc.returncode == 2
    assert proc.stderr == "hallctl: %s: not an ESP32 firmware image (no 0xE9 magic byte)\n" % not_image
    image = tmp_path / "fw.bin"
    image.write_bytes(b"\xe9" + bytes(4096))
    wrong = hallctl("flash", "--port", port, "--board", "esp32-devkitc-dispenser", "--config",
                    config, "--image", image, "--only-image")
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1] == ("hallctl: %s: wrong board: This chip is ESP32-C3, "
                                             "not ESP32. Wrong chip argument?" % port)
