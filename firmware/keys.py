# Key scanning logic, sans-IO: fed the raw state of all keys (a bitmask) with the time, it
# debounces each key and reports presses, long presses and releases. The hardware layer reads
# the pins or the matrix; this decides what a press is.
from protocol.ticks import ticks_diff

PRESS = 1
LONG = 2
RELEASE = 3


class KeyScanner:
    DEBOUNCE_MS = 30      # a change must hold this long to count (contacts bounce ~5-20 ms)
    LONG_MS = 800         # held this long: one LONG event, once per press

    def __init__(self, count):
        self.count = count
        self.stable = 0           # debounced state, bit per key
        self.seen = 0             # last raw state
        self.changed_at = [0] * count
        self.pressed_at = [0] * count
        self.long_sent = 0
        self.events = []          # (event, key)

    def scan(self, raw, now):
        # raw: bit k set while key k is down. Appends to self.events; returns it.
        for k in range(self.count):
            bit = 1 << k
            if (raw ^ self.seen) & bit:
                self.changed_at[k] = now          # bouncing or a new state: restart the clock
            elif (raw ^ self.stable) & bit and ticks_diff(now, self.changed_at[k]) >= self.DEBOUNCE_MS:
                self.stable ^= bit
                if raw & bit:
                    self.pressed_at[k] = now
                    self.long_sent &= ~bit
                    self.events.append((PRESS, k))
                else:
                    self.events.append((RELEASE, k))
            if self.stable & bit and not self.long_sent & bit and \
                    ticks_diff(now, self.pressed_at[k]) >= self.LONG_MS:
                self.long_sent |= bit
                self.events.append((LONG, k))
        self.seen = raw
        return self.events

    def take(self):
        events = self.events
        self.events = []
        return events


def scan_matrix(rows, cols):
    # Raw bitmask of a key matrix: drive one row low at a time and read the columns (pulled
    # up, so a pressed key reads 0). rows/cols are pins with value(); key = row * ncols + col.
    mask = 0
    for r in range(len(rows)):
        rows[r].value(0)
        for c in range(len(cols)):
            if not cols[c].value():
                mask |= 1 << (r * len(cols) + c)
        rows[r].value(1)
    return mask
