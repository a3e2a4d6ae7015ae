"""The simulator's one event scheduler: a heap ordered by time, then priority, then insertion,
so that a seeded day replays identically. The ticket-level hall, the frame-level hall and the
real-time hall all take their events from one; the real-time hall's variant keeps pace with the
wall clock by overriding the one step that waits (as SimPy's RealtimeEnvironment does)."""
import heapq
import time


class Scheduler:
    def __init__(self, now=0):
        self.now = now
        self._heap = []
        self._inserted = 0

    def push(self, at, kind, arg=None, priority=0):
        # Events at the same time go by priority (lower first), then in the order pushed.
        self._inserted += 1
        heapq.heappush(self._heap, (at, priority, self._inserted, kind, arg))

    def due(self, until):
        # True while an event is due at or before `until`.
        return bool(self._heap) and self._heap[0][0] <= until

    def pop(self):
        # (at, kind, arg) of the next event, with `now` moved to it.
        at, _, _, kind, arg = heapq.heappop(self._heap)
        self._wait(at)
        self.now = at
        return at, kind, arg

    def __len__(self):
        return len(self._heap)

    def _wait(self, at):
        pass                               # virtual time: no waiting


class WallClock(Scheduler):
    """Virtual seconds that pass at `speed` times the wall clock: pop() sleeps until the next
    event's moment comes (late events run at once, and the lag is kept in `behind_s`)."""

    def __init__(self, now=0, speed=1.0, clock=time.monotonic, sleep=time.sleep):
        Scheduler.__init__(self, now)
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self.origin = (now, clock())
        self.behind_s = 0.0

    def wall(self, at):
        # The wall-clock moment virtual time `at` falls on.
        return self.origin[1] + (at - self.origin[0]) / self.speed

    def _wait(self, at):
        delay = self.wall(at) - self.clock()
        if delay > 0:
            self.sleep(delay)
        else:
            self.behind_s = max(self.behind_s, -delay)
