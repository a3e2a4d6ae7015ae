# Routing-core benchmark body; runs unchanged on MicroPython and CPython (tools/bench.py).
# Prints "key value" lines: call-next cost with N waiting, and heap split into code and state.
import gc
import sys
import time

try:
    ticks, diff = time.ticks_us, time.ticks_diff
    mem = gc.mem_alloc
except AttributeError:
    ticks = lambda: time.perf_counter_ns() // 1000
    diff = lambda a, b: a - b
    mem = None

gc.collect()
base = mem() if mem else 0
from firmware.routing.config import HallConfig   # noqa: E402
from firmware.routing.core import RoutingCore  # noqa: E402
from protocol.codes import OK  # noqa: E402
gc.collect()
code_heap = (mem() - base) if mem else 0

SERVICES, WINDOWS = 32, 64
NOW = 1795392000 - 8 * 3600 + 9 * 3600          # 09:00 local


def prefix(k):
    return chr(65 + k) if k < 26 else "A" + chr(65 + k - 26)


class Discard:
    # The journal's bytes are built (their cost is part of every call) but not kept.
    def __init__(self):
        self.bytes = 0

    def append(self, chunk):
        self.bytes += len(chunk)

    def size(self):
        return self.bytes


def hall(waiting):
    doc = {
        "services": [{"prefix": prefix(k), "open": "07:00", "close": "20:00", "quota": 9999,
                      "max_wait_min": 1440} for k in range(SERVICES)],
        "windows": [{"number": w + 1, "services": [prefix((w + j) % SERVICES) for j in range(4)]}
                    for w in range(WINDOWS)],
        "staff": {"S%d" % w: "staff" for w in range(WINDOWS)},
    }
    core = RoutingCore(HallConfig(doc), Discard(), NOW)
    doc = None
    for w in range(WINDOWS):
        core.window_open(NOW, w + 1)
        core.login(NOW, w + 1, "S%d" % w)
    for k in range(waiting):
        core.issue(NOW + k // 20, prefix(k % SERVICES))
        core.out = []
    return core


def bench(waiting, rounds):
    core = hall(waiting)
    gc.collect()
    heap = (mem() - base) if mem else 0
    samples = []
    now = NOW + 200
    for i in range(rounds):
        service = i % SERVICES
        core.issue(now, prefix(service))               # keeps the line at `waiting` (+1)
        window = service + 1 + (WINDOWS // 2 if i & 1 else 0)   # a window serving it
        core.out = []
        t0 = ticks()
        result = core.call_next(now, window)
        samples.append(diff(ticks(), t0))
        assert result == OK, result
        core.no_show(now, window)
        core.out = []
    samples.sort()
    return samples[len(samples) // 2], heap


for waiting in (20, 2000):
    median, heap = bench(waiting, int(sys.argv[1]) if len(sys.argv) > 1 else 300)
    print("call_next_us_%d %s" % (waiting, median))
    print("heap_%d %d" % (waiting, heap))
    gc.collect()
print("code_heap %d" % code_heap)
