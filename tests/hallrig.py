"""The shipped example hall on virtual boards, for tests that start its hub as a user would (as a
process: hallctl hub on the hall PC, or the firmware's hub under the unix port): the hall file
with every device on the host board, the hall's clock set so that it is mid-morning whatever
the time of day, and its devices as MicroPython processes on one virtual RS485 bus or on MQTT."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import build_mpy
from hallctl.provision import make
from host_sim.realtime import FakePrinter, VirtualBoard, VirtualBus

ROOT = Path(__file__).resolve().parents[1]
HALL = ROOT / "tools" / "hallctl" / "hall.example.json"
HALLCTL = str(Path(sys.executable).parent / "hallctl")
ON_BOARDS = ("disp-1", "caller-1", "eval-1", "display-1")     # the rest stay unplugged
PSK = "wifi-test-psk"


def hall_file(tmp_path, mqtt=False):
    """The example hall on host boards (on MQTT: every device, without bus addresses), its
    rules.tz_offset_min chosen so that the hall's local time is now about 10:00."""
    doc = json.loads(HALL.read_text(encoding="utf-8"))
    utc_min = (int(time.time()) // 60) % 1440
    doc["routing"]["rules"]["tz_offset_min"] = (600 - utc_min + 720) % 1440 - 720
    for dev in doc["devices"]:
        dev["board"] = "host"
        if mqtt:
            dev["transport"] = "mqtt"
            dev.pop("bus_address", None)
    path = tmp_path / "hall.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def configs(hall_path):
    os.environ.setdefault("QMS_WIFI_PSK", PSK)
    return {ident: make(hall_path, ident)[0] for ident in ON_BOARDS}


class Hall:
    """The four devices the tests use, on a bus (bus=VirtualBus) or a broker (mqtt=(host,
    port)), and the printer behind the dispenser."""

    def __init__(self, tmp_path, hall_path, bus=None, mqtt=None):
        build = build_mpy()
        self.printer = FakePrinter()
        self.boards = {}
        work = tmp_path / "boards"
        work.mkdir(exist_ok=True)
        try:
            for ident, config in configs(hall_path).items():
                self.boards[ident] = VirtualBoard(
                    build, work, config, mqtt=mqtt, line=bus.port() if bus else None,
                    printer=self.printer if config["role"] == "dispenser" else None)
        except BaseException:
            self.close()
            raise

    def __getitem__(self, ident):
        return self.boards[ident]

    def ticket(self):
        """A citizen presses the first service key: the number on the ticket printed."""
        disp = self.boards["disp-1"]
        start = len(self.printer.printed)
        seen = len(disp.lines)
        disp.press(0)
        deadline = time.monotonic() + 20
        while True:                        # "ready" again once the printer confirmed it
            disp.read(0.05)
            if any(i[:3] == ["hw", "show", "ready"] for i in disp.lines[seen:]):
                break
            if time.monotonic() > deadline:
                raise AssertionError("no ticket printed; dispenser: %s" % disp.lines[-5:])
        found = set(re.findall(rb"QMS1\|[^|]+\|[^|]+\|([A-Z]{1,2}\d+)",
                               self.printer.printed[start:]))
        assert len(found) == 1, found
        return found.pop().decode()

    def shows(self, ident, text, timeout=20):
        """Until the board's LED text is `text` (its newest text, not one it showed before)."""
        board = self.boards[ident]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = [i[2] for i in board.lines if i[:2] == ["hw", "board"]]
            if shown and shown[-1] == text:
                return
            board.read(0.05)
        raise AssertionError("%s: not showing %r in %ss; last: %s" % (ident, text, timeout,
                                                                      board.lines[-5:]))

    def serve_and_call_next(self, serving, following):
        """At window 1: start the called ticket, finish it, call the next one."""
        caller = self.boards["caller-1"]
        caller.press(2)
        self.shows("caller-1", "%s 正在办理" % serving)
        caller.press(3)
        caller.press(0)
        self.shows("caller-1", "请%s号到1号窗口" % following)

    def close(self):
        for board in self.boards.values():
            board.close()
        self.printer.close()


class HubProcess:
    """A hub started as a user starts it, its stderr kept in a file (journald's lines)."""

    def __init__(self, args, log_path, env=None, cwd=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, cwd=cwd,
                                     env=dict(os.environ, **(env or {})))

    def text(self):
        return Path(self.log_path).read_text(encoding="utf-8", errors="replace")

    def wait_log(self, needle, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("hub: no %r in its log (exit %s):\n%s"
                             % (needle, self.proc.poll(), self.text()[-3000:]))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)
        self.log.close()


def hallctl(*args, timeout=60, env=None):
    return subprocess.run([HALLCTL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, **(env or {})))


def wait_online(data, idents, timeout=60):
    """Until hallctl status --data shows these devices online (the table as operators read it)."""
    deadline = time.monotonic() + timeout
    rows = {}
    while time.monotonic() < deadline:
        proc = hallctl("status", "--data", data, "--json")
        if proc.returncode == 0:
            rows = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
            if all(rows.get(i, {}).get("online") for i in idents):
                return rows
        time.sleep(0.5)
    raise AssertionError("not online in %ss: %s" % (timeout, {i: rows.get(i) for i in idents}))
