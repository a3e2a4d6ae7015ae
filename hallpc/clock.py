"""The hub's two clocks on a hall PC: link ticks (µs and ms, wrapping as on a device) from the
monotonic clock, and the hall's UTC seconds for the routing core, which a test or a simulated
hall may run `speed` times faster from `utc0`."""
import time

TICKS_MASK = (1 << 30) - 1


class HallClock:
    def __init__(self, utc0=None, speed=1.0):
        self.t0 = time.monotonic()
        self.utc0 = utc0 if utc0 is not None else int(time.time())
        self.speed = speed

    def now(self):
        """(µs ticks, ms ticks, UTC seconds)."""
        elapsed = time.monotonic() - self.t0
        us = int(elapsed * 1000000)
        return us & TICKS_MASK, (us // 1000) & TICKS_MASK, self.utc0 + int(elapsed * self.speed)

    def uptime(self):
        return int(time.monotonic() - self.t0)
