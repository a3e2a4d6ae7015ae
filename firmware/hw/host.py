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


class StdioPanel:
    # Keys from stdin ("key N" presses and releases key N; "quit" stops), outputs to stdout.
    def __init__(self):
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.presses = []
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
            elif words and words[0] == "quit":
                self.quit = True

    def show(self, action):
        print(json.dumps(["hw"] + list(action)))

    def event(self, *items):
        print(json.dumps(list(items)))


class HostWatchdog:
    def feed(self):
        pass


def info():
    import gc
    gc.collect()
    return {"fw": "host", "free_heap": gc.mem_free(), "reset_cause": 1}
