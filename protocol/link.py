# Link reliability, sans-IO and carrier-agnostic: must-deliver messages are acked, retransmitted
# with exponential backoff up to a give-up limit, and de-duplicated at the receiver.
# The owner feeds received headers in, polls for packets to transmit, and drains events.
from protocol.codes import FLAG_ACK_REQ  # noqa: F401  (the owner's flags)
from protocol.errors import QueueFull
from protocol.schema import BROADCAST
from protocol.ticks import ticks_add, ticks_diff

from protocol.compat import const

ACK = const(0x01)
NAK = const(0x02)
_SMALL_MAX = const(8)     # acks and naks queued for one destination between polls (a flood's cap)

# Events returned by take_events(): (kind, dst, seq, type_id, payload, detail)
DELIVERED = "delivered"
GAVE_UP = "gave_up"


class Packet:
    # One message on its way out: the carrier turns it into a frame or an MQTT publish.
    def __init__(self, dst, seq, flags, type_id, payload):
        self.dst = dst
        self.seq = seq
        self.flags = flags
        self.type_id = type_id
        self.payload = payload
        self.tries = 0
        self.due = 0
        self.launch = 0       # per-destination launch number (sliding window position)


class Link:
    WINDOW = 4            # a packet launches only within WINDOW launches of the oldest unacked one
    QUEUE_MAX = 32        # must-deliver packets held in all (in flight + waiting)
    RING = 8              # remembered (seq, digest) per source; must be >= WINDOW
    RTO_MS = 200          # first retransmission timeout
    RTO_MAX_MS = 3200
    MAX_TRIES = 6         # transmissions before giving up

    def __init__(self, address, first_seq=0, rto_ms=None, max_tries=None, queue_max=None,
                 per_dst_max=None):
        # per_dst_max: must-deliver packets held for one destination (a hub sets it, so that
        # one silent device cannot use up the room of the rest).
        self.address = address
        if queue_max is not None:
            self.QUEUE_MAX = queue_max
        self.PER_DST_MAX = per_dst_max if per_dst_max is not None else self.QUEUE_MAX
        self._seq = first_seq & 0xFF
        if rto_ms is not None:
            self.RTO_MS = rto_ms
            self.RTO_MAX_MS = rto_ms * 16
        if max_tries is not None:
            self.MAX_TRIES = max_tries
        self._flight = {}     # dst -> list of Packet in flight (oldest first)
        self._waiting = {}    # dst -> list of Packet not yet sent (window full)
        self._launches = {}   # dst -> launches so far
        self._held = 0
        self._held_by = {}    # dst -> must-deliver packets held for it
        self._out = []        # packets to transmit at the next poll
        self._small_by = {}   # dst -> acks and naks among them (at most _SMALL_MAX)
        self._seen = {}       # src -> [next ring slot, key, key, ...]
        self._events = []
        self._earliest = None # no in-flight packet falls due before this (None: none in flight)
        self.stats = {"sent": 0, "retries": 0, "give_ups": 0, "delivered": 0,
                      "duplicates": 0, "received": 0, "naks": 0, "dropped": 0}

    def _next_seq(self):
        seq = self._seq
        self._seq = (seq + 1) & 0xFF
        return seq

    def send(self, dst, type_id, payload, must, now):
        # Queue a message; returns its sequence number. Must-deliver needs a single destination.
        if not must or dst == BROADCAST:
            packet = Packet(dst, self._next_seq(), 0, type_id, payload)
            self._out.append(packet)
            return packet.seq
        held = self._held_by.get(dst, 0)
        if held >= self.PER_DST_MAX or self._held >= self.QUEUE_MAX:
            raise QueueFull("%d queued for %d" % (held, dst))
        packet = Packet(dst, self._next_seq(), FLAG_ACK_REQ, type_id, payload)
        self._held += 1
        self._held_by[dst] = held + 1
        self._waiting.setdefault(dst, []).append(packet)
        self._refill(dst, now)
        return packet.seq

    def _refill(self, dst, now):
        # Launch waiting packets while the window allows. The window slides over launch numbers,
        # not over the count in flight, so a receiver that remembers the last RING >= WINDOW
        # (seq, digest) keys still knows every packet that may be retransmitted to it.
        waiting = self._waiting.get(dst)
        flight = self._flight.setdefault(dst, [])
        launches = self._launches.get(dst, 0)
        while waiting and (not flight or launches - flight[0].launch < self.WINDOW):
            packet = waiting.pop(0)
            packet.launch = launches
            launches += 1
            packet.tries = 1
            packet.due = ticks_add(now, self.RTO_MS)
            if self._earliest is None or ticks_diff(packet.due, self._earliest) < 0:
                self._earliest = packet.due
            flight.append(packet)
            self._out.append(packet)
        self._launches[dst] = launches

    def _settle(self, src, seq, kind, detail, now):
        flight = self._flight.get(src)
        if not flight:
            return
        for k in range(len(flight)):
            packet = flight[k]
            if packet.seq == seq:
                flight.pop(k)
                self._held -= 1
                self._held_by[src] -= 1
                self._event(kind, packet, detail)
                self._refill(src, now)
                return

    def _small(self, packet):
        n = self._small_by.get(packet.dst, 0)
        if n < _SMALL_MAX:
            self._small_by[packet.dst] = n + 1
            self._out.append(packet)
        else:
            self.stats["dropped"] += 1

    def _event(self, kind, packet, detail):
        self.stats["delivered" if kind == DELIVERED else "give_ups"] += 1
        self._events.append((kind, packet.dst, packet.seq, packet.type_id, packet.payload, detail))

    def receive(self, src, dst, seq, flags, type_id, payload, digest, now):
        # Account for one received, intact message. Returns True when the owner should handle
        # it, False for link traffic (ack, nak), duplicates and messages for other addresses.
        if dst != self.address and dst != BROADCAST:
            return False
        self.stats["received"] += 1
        if type_id == ACK:
            if payload:
                self._settle(src, payload[0], DELIVERED, 0, now)
            return False
        if type_id == NAK:
            if len(payload) >= 2:
                self.stats["naks"] += 1
                self._settle(src, payload[0], GAVE_UP, payload[1], now)
            return False
        if not flags & FLAG_ACK_REQ or dst == BROADCAST:
            return True                 # (a broadcast is never acknowledged: SPEC.md 2.1)
        self._small(Packet(src, self._next_seq(), 0, ACK, bytes((seq,))))
        key = (seq << 16) | (digest & 0xFFFF)
        ring = self._seen.get(src)
        if ring is None:
            ring = [1] + [-1] * self.RING
            self._seen[src] = ring
        elif key in ring[1:]:
            self.stats["duplicates"] += 1
            return False
        slot = ring[0]
        ring[slot] = key
        ring[0] = slot + 1 if slot < self.RING else 1
        return True

    def reject(self, src, seq, code):
        # Refuse a must-deliver message the owner cannot take (unknown type, newer version...).
        self._small(Packet(src, self._next_seq(), 0, NAK, bytes((seq, code))))

    def forget(self, src):
        # The peer rebooted (its status says so): drop what we remember of its sequence numbers.
        self._seen.pop(src, None)

    def poll(self, now):
        # Packets to transmit now: new ones, acks, and retransmissions that fell due.
        if self._earliest is not None and ticks_diff(now, self._earliest) >= 0:
            self._retransmit(now)
        out = self._out
        self._out = []
        self._small_by = {}
        self.stats["sent"] += len(out)
        return out

    def _retransmit(self, now):
        earliest = None
        for dst in self._flight:
            flight = self._flight[dst]
            k = 0
            while k < len(flight):
                packet = flight[k]
                if ticks_diff(now, packet.due) >= 0:
                    if packet.tries >= self.MAX_TRIES:
                        flight.pop(k)
                        self._held -= 1
                        self._held_by[dst] -= 1
                        self._event(GAVE_UP, packet, 0)
                        self._refill(dst, now)
                        continue
                    rto = self.RTO_MS << packet.tries
                    packet.tries += 1
                    packet.due = ticks_add(now, rto if rto < self.RTO_MAX_MS else self.RTO_MAX_MS)
                    self.stats["retries"] += 1
                    self._out.append(packet)
                if earliest is None or ticks_diff(packet.due, earliest) < 0:
                    earliest = packet.due
                k += 1
        self._earliest = earliest

    def hold(self, now):
        # The carrier is away (an MQTT client offline, which keeps what it was given): what
        # is in flight waits, spending no try, and is retried an RTO after it is back.
        due = ticks_add(now, self.RTO_MS)
        for dst in self._flight:
            for packet in self._flight[dst]:
                packet.due = due
                self._earliest = due

    def resend_unacked(self):
        # The peer asks for everything it has not acknowledged (a hub re-polling after a
        # garbled turn): queue it again without spending a try or moving its timer.
        for dst in self._flight:
            for packet in self._flight[dst]:
                if packet not in self._out:
                    self._out.append(packet)

    def next_due(self, now):
        # Milliseconds until poll() has something to do, or None when nothing is in flight.
        if self._out:
            return 0
        if self._held == 0:
            self._earliest = None
        if self._earliest is None:
            return None
        wait = ticks_diff(self._earliest, now)
        if wait <= 0:                        # (settled packets may have left it early: look)
            earliest = None
            for dst in self._flight:
                for packet in self._flight[dst]:
                    if earliest is None or ticks_diff(packet.due, earliest) < 0:
                        earliest = packet.due
            self._earliest = earliest
            if earliest is None:
                return None
            wait = ticks_diff(earliest, now)
        return wait if wait > 0 else 0

    def take_events(self):
        events = self._events
        self._events = []
        return events

    def in_flight(self):
        return self._held
