"""The hall in real time with real MicroPython: every device is the firmware running in its own
MicroPython unix-port process, its UARTs on pseudo-terminals, and the hub runs on the host
speaking pyserial. Real processes, real serial ports, real frames: hardware in the loop without
the hardware. Only the printer's paper sensor is faked (FakePrinter), behind the same UART a
real printer sits on. `hallsim run --realtime --devices micropython` drives a scenario this way.
"""
import json
import os
import pty
import random
import select
import subprocess
import threading
import time
import tty
from pathlib import Path

import serial

from hallpc import mpybuild
from firmware.routing.config import S_PREFIX
from host_sim import fleet, people
from host_sim.books import Books, DayResult
from host_sim.hallday import service_for
from host_sim.events import WallClock
from host_sim.scenario import draw

ARRIVE, STAFF = 0, 1


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


class VirtualBus:
    """A multi-drop RS485 bus of pseudo-terminals: what any end writes, every other end hears,
    as on the twisted pair. `port()` gives one more end's device path (a board's bus UART, or
    the hall PC's USB-RS485 adapter)."""

    def __init__(self):
        self.ends = []                      # (master fd, slave fd, path)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def port(self):
        end = _pty()
        with self.lock:
            self.ends.append(end)
        return end[2]

    def _relay(self):
        while self.running:
            with self.lock:
                fds = [end[0] for end in self.ends]
            if not fds:
                time.sleep(0.01)
                continue
            ready, _, _ = select.select(fds, [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                for other in fds:
                    if other != fd and data:
                        try:
                            os.write(other, data)
                        except OSError:
                            pass

    def close(self):
        self.running = False
        self.thread.join(1)
        for master, slave, _ in self.ends:
            for fd in (master, slave):
                try:
                    os.close(fd)
                except OSError:
                    pass


class ReplBoard:
    """A board fresh from `esptool write-flash` of MicroPython: the unix port sitting at its
    REPL at one end of a virtual cable, its filesystem the directory `root`. mpremote (and so
    `hallctl flash` and `provision`) speaks to `path` exactly as to an ESP32 on USB."""

    def __init__(self, root, heapsize="256K"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.cable = VirtualCable()
        self.path = self.cable.b_path
        with open(self.cable.a_path, "r+b", buffering=0) as tty_end:
            self.proc = subprocess.Popen(
                [mpybuild.micropython(), "-X", "heapsize=" + heapsize], stdin=tty_end,
                stdout=tty_end, stderr=tty_end, cwd=self.root, env=dict(os.environ, MICROPYPATH=""))

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.cable.close()


class FakePrinter:
    """The printer end of a dispenser's printer UART: the virtual ESC/POS printer
    (host_sim/printer.py) in real time, on a pseudo-terminal: status answered at once, a ticket
    printed at the head's speed and confirmed once printed. Only its paper sensor is a fake."""

    def __init__(self):
        from host_sim.printer import VirtualPrinter
        self.master, self.slave, self.path = _pty()
        self.model = VirtualPrinter()
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def printed(self):
        return self.model.printed

    def _serve(self):
        t0 = time.monotonic()
        while self.running:
            ready, _, _ = select.select([self.master], [], [], 0.01)
            now = int((time.monotonic() - t0) * 1000)
            try:
                if ready:
                    self.model.write(os.read(self.master, 4096), now)
                out = self.model.read(now)
                if out:
                    os.write(self.master, out)
            except OSError:
                return

    def close(self):
        self.running = False
        self.thread.join(1)
        os.close(self.master)
        os.close(self.slave)


class VirtualBoard:
    """One device: a MicroPython process running firmware.main on its config."""

    def __init__(self, build, tmp_path, config, heapsize=None, printer=None, mqtt=None,
                 line=None):
        # mqtt: (host, port) of a broker: the device talks MQTT instead of a serial line.
        # line: a bus's device path (VirtualBus.port()) instead of a cable of its own.
        # 192K: at 128K a caller in the real-time hall now and then raised MemoryError for a
        # 640-byte list while gc.mem_info() showed 54K free and a 3.4K free block (seen once
        # the hub's tick got faster); the role-day memory test bounds the roles themselves.
        heapsize = heapsize or "192K"
        self.config = config
        self.cable = VirtualCable() if mqtt is None and line is None else None
        path = tmp_path / ("%s.json" % config["id"])
        path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        args = ["mqtt=%s:%d" % mqtt] if mqtt is not None else \
            ["bus=" + (line or self.cable.a_path)]
        if printer is not None:
            args.append("printer=" + printer.path)
        env = dict(os.environ, MICROPYPATH=str(build) + os.pathsep + ".frozen")
        self.proc = subprocess.Popen(
            [mpybuild.micropython(), "-X", "heapsize=" + heapsize, "-m", "firmware.main", str(path)]
            + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, bufsize=0)
        self.lines = []
        self._buffer = b""
        self.port = serial.Serial(self.cable.b_path, 115200, timeout=0) \
            if self.cable is not None else None
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
        if self.cable is not None:
            self.port.close()
            self.cable.close()


def HostHub(core, devices, boards, utc0, speed=1):
    """The hub on the host for a hall of virtual boards: the hall PC's serial hub
    (hallpc.serialhub, the same HubRuntime as on an ESP32) with one pyserial port per board,
    each hearing every transmission as on a multi-drop bus. Processes on a busy host answer a
    poll within tens of milliseconds rather than an ESP32's one or two, so the reply window is
    wider and late answers are not policed as talking out of turn."""
    from hallpc.serialhub import SerialHub
    return SerialHub(core, devices, [board.port for board in boards],
                     utc0=utc0, speed=speed,
                     reply_us=40000, gap_us=5000, turnaround_us=0, police=False)


class MqttHostHub:
    """The hub of a real-time hall on MQTT (hallpc.mqtthub.MqttHub), with HostHub's face."""

    def __init__(self, core, devices, broker, utc0, speed):
        from hallpc.mqtthub import MqttHub
        self.mqtt = MqttHub(core, devices, devices[0]["hall"], broker[0], broker[1], utc0=utc0,
                            speed=speed)
        self.role = self.mqtt.hub.role
        self.mqtt.start(wait_s=10)

    def pump(self):
        self.mqtt.pump(0.002)

    def now(self):
        return self.mqtt.clock.now()

    def rejected(self):
        return self.mqtt.hub.rejected()

    def close(self):
        self.mqtt.stop()


class RealtimeHall:
    """A scenario's hall in real time: a dispenser, a caller and an evaluator per window and a
    hall display, each its own MicroPython process, with citizens and staff driven from what
    the boards show. `speed` hall seconds pass each real second (arrivals, service times and
    the routing core's clock); the devices and the link run in real time. Staff are the
    simulator's one staff model (host_sim.people.Staff), on the one scheduler's wall-clock
    variant; every citizen called walks to the window."""

    def __init__(self, scenario, workdir, build, speed=60, log=None, mqtt=None):
        # mqtt: (host, port) of a broker: every device and the hub on MQTT instead of serial.
        from firmware.routing.core import RoutingCore
        from firmware.routing.journal import FileStorage
        sc = self.sc = scenario
        hall = sc.hall
        self.speed = speed
        self.log = log or (lambda text: None)
        self.rng = random.Random(sc.seed)
        self.devices = fleet.devices(hall, board="host")   # a dispenser, a display, the windows
        start = sc.at(sc.start)
        self.journal = str(Path(workdir) / "journal.bin")
        self.core = RoutingCore(hall, FileStorage(self.journal), start)
        self.printer = FakePrinter()
        self.boards = {}
        if mqtt is not None:
            self.devices = [dict(cfg, transport="mqtt", mqtt={"host": mqtt[0]})
                            for cfg in self.devices]
        for cfg in self.devices:
            self.boards[cfg["id"]] = VirtualBoard(build, Path(workdir), cfg, mqtt=mqtt,
                                                  printer=self.printer if cfg["role"] == "dispenser" else None)
        for shift in sc.roster:                         # the day's staff, at their windows
            self.core.window_open(start, shift.window)
            self.core.login(start, shift.window, shift.staff)
        if mqtt is None:
            self.hub = HostHub(self.core, self.devices, list(self.boards.values()), utc0=start,
                               speed=speed)
        else:
            self.hub = MqttHostHub(self.core, self.devices, mqtt, utc0=start, speed=speed)
        self.hub.role.OFFLINE_AFTER_S *= speed          # devices report in real seconds
        self.staff = {}                                 # window -> people.Staff
        self.called = []                                # (ticket, window) for each first call
        self.keys = {cfg["window"]: people.keys(cfg) for cfg in self.devices
                     if cfg["role"] == "caller"}        # each caller's own key map
        self.seen = {board_id: 0 for board_id in self.boards}

    def run(self, minutes, progress=None):
        # Run `minutes` hall minutes, then close the day and check that nothing was lost;
        # progress(share of the run done), where someone watches.
        sc = self.sc
        shown = 0
        events = self.events = WallClock(0, speed=self.speed)   # hall seconds since the start
        t0 = events.wall(0)
        end = events.wall(minutes * 60)
        for k, prefix in enumerate([s[S_PREFIX] for s in sc.hall.services]):
            rate = max(r for _, r in sc.arrivals.get(prefix, [(0, 0)]))
            if rate > 0:
                events.push(self._gap(rate), ARRIVE, (k, rate))
        for shift in sc.roster:                         # on duty from the start
            staff = self.staff[shift.window] = people.Staff(self, shift.window, shift.staff,
                                                            self.rng, sc.react_s)
            staff.on_duty()
        while time.monotonic() < end:
            now = time.monotonic()
            self.hub.pump()
            while events.due((now - t0) * self.speed):
                at, kind, arg = events.pop()
                if kind == ARRIVE:
                    k, rate = arg
                    self.boards["disp-1"].press(k)      # a citizen takes a ticket
                    events.push(at + self._gap(rate), ARRIVE, (k, rate))
                else:
                    arg[0](*arg[1])                     # what staff do next
            self._read()
            if progress is not None and now - shown > 0.5:
                shown = now
                progress((now - t0) / (end - t0))
        return self.finish()

    def _gap(self, per_hour):
        # Hall seconds to the next arrival.
        return self.rng.expovariate(per_hour / 3600.0)

    def _read(self):
        for board_id, board in self.boards.items():
            board.read(0)
            lines = board.lines[self.seen[board_id]:]
            self.seen[board_id] = len(board.lines)
            for line in lines:
                if line[:2] == ["hw", "board"] and board_id.startswith("caller-"):
                    self._board(int(board_id[7:]), line[2])
                elif line == ["hw", "lights", 31] or line == ["hw", "lights", 15]:
                    level, reason = people.rating(self.rng, self.sc.rating_weights,
                                                  self.sc.hall.reason_required_from)
                    board.press(level - 1)
                    if reason is not None:
                        board.press(reason)                     # the reason
        time.sleep(0.002)                                        # a real-time loop: yield the CPU

    def _board(self, window, text):
        staff = self.staff.get(window)
        if staff is not None:
            staff.board(text)

    # ---- the staff's world (people.Staff), in hall seconds -----------------------------------

    def later(self, seconds, fn, *args):
        self.events.push(self.clock() + seconds, STAFF, (fn, args))

    def clock(self):
        return (time.monotonic() - self.events.origin[1]) * self.speed

    def key(self, window, action):
        self.boards["caller-%d" % window].press(self.keys[window][action])

    def coming(self, ticket, arrive):
        self.later(draw(self.rng, self.sc.walk_s), arrive, ticket)   # every citizen called comes

    def service_s(self, ticket):
        return service_for(self.sc, self.rng, ticket.rstrip("0123456789"))

    def asked(self, window):
        pass

    def call_seen(self, window, ticket):
        self.called.append((ticket, window))

    def served(self, window, ticket, started):
        pass

    def left(self, window):
        pass

    def finish(self):
        # Let in-flight messages land, close the day, and check the hall's books.
        settle = time.monotonic() + 2
        while time.monotonic() < settle:
            self.hub.pump()
            self._read()
        _, _, utc = self.hub.now()
        books = Books(DayResult(self.sc.name), self.core).close_day(utc)
        tickets = [ticket for ticket, _ in self.called]
        table = self.hub.role.status_table()
        return {
            "hall": self.sc.hall.hall,         # the id every device and the hub use on the wire
            "issued": books["issued"], "finished": books["finished"],
            "unserved_at_close": books["unserved_at_close"], "ended": books["ended"],
            "lost": books["lost"], "ratings": books["ratings"],
            "rating_rejects": books["rating_rejects"],
            "calls": len(tickets), "duplicated_calls": len(tickets) - len(set(tickets)),
            "printed": self.printer.printed.count(b"QMS1|"),
            "devices": len(table), "devices_online": sum(1 for row in table if row["online"]),
            "link_rejects": self.hub.rejected(),
        }

    def close(self):
        if isinstance(self.hub, MqttHostHub):
            self.hub.close()
        for board in self.boards.values():
            board.close()
        self.printer.close()
