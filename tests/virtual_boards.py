"""Virtual boards: device firmware running in the MicroPython unix port, each process's UARTs
on pseudo-terminals, and the hub on the host speaking pyserial. Real processes, real serial
ports, real frames: hardware in the loop without the hardware. Only the printer's paper
sensor is faked (FakePrinter), behind the same UART a real printer sits on.
"""
import json
import os
import pty
import select
import subprocess
import threading
import time
import tty

import serial

from hallctl import mpybuild


def _pty():
    master, slave = pty.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    return master, slave, os.ttyname(slave)


class VirtualCable:
    """Two pseudo-terminals joined by a relay thread: a serial cable with a device path at
    each end (the device opens one, the hub's pyserial the other), as `socat pty pty` does."""

    def __init__(self):
        self.a_master, self.a_slave, self.a_path = _pty()
        self.b_master, self.b_slave, self.b_path = _pty()
        self.running = True
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def _relay(self):
        pairs = {self.a_master: self.b_master, self.b_master: self.a_master}
        while self.running:
            ready, _, _ = select.select(list(pairs), [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                if data:
                    os.write(pairs[fd], data)

    def close(self):
        self.running = False
        self.thread.join(1)
        for fd in (self.a_master, self.a_slave, self.b_master, self.b_slave):
            try:
                os.close(fd)
            except OSError:
                pass


class FakePrinter:
    """The printer end of a dispenser's printer UART: collects what is printed and answers
    DLE EOT status queries like an ESC/POS printer (paper state set by the test)."""

    def __init__(self):
        self.master, self.slave, self.path = _pty()
        self.printed = bytearray()
        self.paper = 0x12          # DLE EOT 4 reply: paper present
        self.offline = 0x12        # DLE EOT 2 reply: online
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        pending = bytearray()
        while self.running:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                pending.extend(os.read(self.master, 4096))
            except OSError:
                return
            while True:
                at = pending.find(b"\x10\x04")
                if at < 0 or at + 2 >= len(pending):
                    break
                self.printed.extend(pending[:at])
                n = pending[at + 2]
                del pending[:at + 3]
                os.write(self.master, bytes((self.paper if n == 4 else self.offline,)))

    def close(self):
        self.running = False
        self.thread.join(1)
        os.close(self.master)
        os.close(self.slave)


class VirtualBoard:
    """One device: a MicroPython process running firmware.main on its config."""

    def __init__(self, build, tmp_path, config, heapsize="128K", printer=None):
        self.config = config
        self.cable = VirtualCable()
        path = tmp_path / ("%s.json" % config["id"])
        path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        args = ["bus=" + self.cable.a_path]
        if printer is not None:
            args.append("printer=" + printer.path)
        env = dict(os.environ, MICROPYPATH=str(build) + os.pathsep + ".frozen")
        self.proc = subprocess.Popen(
            [mpybuild.micropython(), "-X", "heapsize=" + heapsize, "-m", "firmware.main", str(path)]
            + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, bufsize=0)
        self.lines = []
        self._buffer = b""
        self.port = serial.Serial(self.cable.b_path, 115200, timeout=0)
        self.wait_for(lambda item: item[0] == "ready", 20)

    def press(self, key):
        self.proc.stdin.write(b"key %d\n" % key)

    def read(self, timeout=0.0):
        """New JSON lines from the device's stdout (what its board shows)."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if ready:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError("%s exited: %s" % (self.config["id"], self._buffer.decode()))
            self._buffer += chunk
            *whole, self._buffer = self._buffer.split(b"\n")
            for k, line in enumerate(whole):
                try:
                    self.lines.append(json.loads(line))
                except ValueError:
                    raise AssertionError("%s printed (MicroPython's own output):\n%s" % (
                        self.config["id"], self._rest(whole[k:]))) from None

    def _rest(self, lines):
        # Everything the process prints until it exits (a traceback), for the failure message.
        try:
            tail = self.proc.communicate(timeout=3)[0] or b""
        except (subprocess.TimeoutExpired, ValueError):
            tail = b""
        return b"\n".join(lines + [self._buffer, tail]).decode(errors="replace")

    def wait_for(self, match, timeout=10, pump=None):
        """Wait until a line matches, calling pump() (the hub) meanwhile."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            if pump is not None:
                pump()
            self.read(0.01)
            for item in self.lines[seen:]:
                if match(item):
                    return item
            seen = len(self.lines)
        raise AssertionError("%s: no matching output in %ss; last: %s"
                             % (self.config["id"], timeout, self.lines[-5:]))

    def close(self):
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.port.close()
        self.cable.close()


class HostHub:
    """The hub on the host: routing core, hub role and node, one pyserial port per device
    (every port hears every transmission, as on a multi-drop bus), in real time."""

    def __init__(self, core, devices, boards):
        from firmware.node import Node
        from firmware.roles.hub import HubRole
        self.core = core
        self.role = HubRole(core, devices)
        self.node = Node(0, self.role, "hub", 0)
        self.boards = boards
        from protocol.frame import StreamDecoder
        self.decoders = [StreamDecoder() for _ in boards]     # one per serial line
        self.t0 = time.monotonic()
        self.utc0 = core.day_base + 3600 * 2
        self.last_tick = -1

    def now(self):
        ms = int((time.monotonic() - self.t0) * 1000)
        return ms & ((1 << 30) - 1), self.utc0 + ms // 1000

    def pump(self):
        ms, utc = self.now()
        for board, decoder in zip(self.boards, self.decoders):
            data = board.port.read(4096)
            if data:
                self.node.feed(data, ms, utc, decoder)
        if utc != self.last_tick:
            self.last_tick = utc
            self.role.tick(utc)
        out = self.node.transmit(ms, utc)
        if out:
            for board in self.boards:
                board.port.write(out)
