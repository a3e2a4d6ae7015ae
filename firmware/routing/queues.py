# Waiting tickets, compact: one ring per (service, class), 3 halfwords per ticket
# (number, issue time since the day's base, estimate). Tickets enter in issue order, so a ring
# is sorted by number: finding one is a binary search, and removing one leaves a tombstone
# (number | 0x8000) that is dropped when it reaches the head. Peeking the head is O(1).
from array import array

DEAD = 0x8000


class Queues:
    def __init__(self, count):
        self.count = count
        self.rings = [None] * count       # array('H') or None while empty
        self.head = array("H", bytes(2 * count))
        self.size = array("H", bytes(2 * count))   # entries, tombstones included
        self.live = array("H", bytes(2 * count))

    def push(self, q, number, issued, estimate):
        ring = self.rings[q]
        size = self.size[q]
        if ring is None or size * 3 >= len(ring):
            ring = self._grow(q, ring, size)
        at = (self.head[q] + size) * 3 % len(ring)
        ring[at] = number
        ring[at + 1] = issued
        ring[at + 2] = estimate
        self.size[q] = size + 1
        self.live[q] += 1

    def _grow(self, q, ring, size):
        cap = 8 if ring is None else (len(ring) // 3) * 3 // 2     # grow by half
        new = array("H", bytes(6 * cap))
        for k in range(size):
            src = self._at(q, k)
            new[3 * k] = ring[src]
            new[3 * k + 1] = ring[src + 1]
            new[3 * k + 2] = ring[src + 2]
        self.rings[q] = new
        self.head[q] = 0
        return new

    def _at(self, q, k):
        # Halfword offset of the k-th entry from the head.
        ring = self.rings[q]
        return (self.head[q] + k) * 3 % len(ring)

    def first(self, q):
        # Offset of the oldest live entry (dropping tombstones on the way), or -1.
        ring = self.rings[q]
        if ring is None:
            return -1
        while self.size[q]:
            at = self.head[q] * 3
            if not ring[at] & DEAD:
                return at
            self.head[q] = (self.head[q] + 1) % (len(ring) // 3)
            self.size[q] -= 1
        self.rings[q] = None                  # empty: give the memory back
        self.head[q] = 0
        return -1

    def entry(self, q, at):
        ring = self.rings[q]
        return ring[at], ring[at + 1], ring[at + 2]

    def pop(self, q):
        # Remove and return (number, issued, estimate) of the oldest live ticket.
        return self.remove(q, self.first(q))

    def find(self, q, number):
        # Offset of the live entry with this number, or -1.
        ring = self.rings[q]
        if ring is None:
            return -1
        lo, hi = 0, self.size[q]
        while lo < hi:
            mid = (lo + hi) // 2
            if ring[self._at(q, mid)] & 0x7FFF < number:
                lo = mid + 1
            else:
                hi = mid
        if lo < self.size[q]:
            at = self._at(q, lo)
            if ring[at] == number:
                return at
        return -1

    def remove(self, q, at):
        ring = self.rings[q]
        entry = (ring[at], ring[at + 1], ring[at + 2])
        ring[at] |= DEAD
        self.live[q] -= 1
        self.first(q)
        return entry

    def entries(self, q):
        # Live entries oldest first, as (number, issued, estimate).
        ring = self.rings[q]
        for k in range(self.size[q] if ring is not None else 0):
            at = self._at(q, k)
            if not ring[at] & DEAD:
                yield ring[at], ring[at + 1], ring[at + 2]

    def nth_issued(self, q, n):
        # Issue time of the n-th live entry (0 = oldest), or -1: for the aging check.
        ring = self.rings[q]
        seen = 0
        for k in range(self.size[q] if ring is not None else 0):
            at = self._at(q, k)
            if not ring[at] & DEAD:
                if seen == n:
                    return ring[at + 1]
                seen += 1
        return -1

    def clear(self):
        for q in range(self.count):
            self.rings[q] = None
            self.head[q] = self.size[q] = self.live[q] = 0

    def state(self):
        # Live entries per queue, for snapshots and fingerprints (tombstones are not state).
        return [array("H", [v for e in self.entries(q) for v in e]) for q in range(self.count)]

    def restore(self, state):
        self.clear()
        for q in range(self.count):
            flat = state[q]
            for k in range(0, len(flat), 3):
                self.push(q, flat[k], flat[k + 1], flat[k + 2])
