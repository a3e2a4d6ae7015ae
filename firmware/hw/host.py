# Host hardware for a virtual board under the MicroPython unix port: UARTs are pseudo-
# terminals, keys are pressed by writing "key N" lines to stdin, and everything the board
# would show (LED board, screen, printer state, lights, voice) is printed as JSON lines.
import json
import select
import sys


class PtyUART:
    # The machine.UART subset the runtime uses, over a pseudo-terminal (raw mode).
    def __init__(self, path):
        self.file = open(path, "r+b")
        self.poller = select.poll()
        self.poller.register(self.file, select.POLLIN)

    def any(self):
        return 1 if self.poller.poll(0) else 0

    def readinto(self, buf):
        # What is there now, up to len(buf); a byte at a time, since a blocking read of more
        # than is available would wait.
        n = 0
        while n < len(buf) and self.poller.poll(0):
            byte = self.file.read(1)
            if not byte:
                break
            buf[n] = byte[0]
            n += 1
        return n or None

    def write(self, data):
        # MicroPython's file on a tty is unbuffered (and flush() there fails with EINVAL).
        return self.file.write(data)


class Panel:
    # The board's face: keys from stdin ("key N" presses key N, "login ID" is a staff card at
    # the reader, "quit" stops), everything shown printed as JSON lines on stdout. The same
    # names as firmware.hw.esp32.Panel: presses, logins, quit, poll(), show(), event().
    def __init__(self, board=None, config=None):
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.presses = []
        self.logins = []
        self.quit = False

    def poll(self):
        while self.poller.poll(0):
            line = sys.stdin.readline()
            if not line:
                self.quit = True
                return
            words = line.split()
            if len(words) == 2 and words[0] == "key":
                self.presses.append(int(words[1]))
            elif len(words) == 2 and words[0] == "login":
                self.logins.append(words[1])
            elif words and words[0] == "quit":
                self.quit = True

    def show(self, action):
        print(json.dumps(["hw"] + list(action)))

    def event(self, *items):
        print(json.dumps(list(items)))


def console(path=None):
    # The hub's service console: a pseudo-terminal named on the command line, or none.
    return PtyUART(path) if path else None


class _Watchdog:
    def feed(self):
        pass


def uart(spec):
    # spec: {"path": a pseudo-terminal} (on an ESP32: the board's id, pins and baud).
    return PtyUART(spec["path"])


def keys(spec):
    return None                 # (a virtual board's keys arrive through the panel)


def watchdog(timeout_ms=8000):
    return _Watchdog()


def wifi(cfg, timeout_ms=20000):
    return None                 # (the host is on the network already)


def reset_cause():
    return 1                    # power on: every start of a virtual board is a fresh one


def info(start_ms, cause):
    import gc
    import time
    gc.collect()
    return {"fw": "host", "uptime": time.ticks_diff(time.ticks_ms(), start_ms) // 1000,
            "free_heap": gc.mem_free(), "reset_cause": cause}
