# The hub's side of a half-duplex multi-drop bus (RS485), sans-IO: it decides who may talk.
# Devices speak only when a poll covers their address (SPEC.md section 2.5), so two never
# talk at once except when several answer one range poll; that garbles the reply, and the
# hub then polls the two halves of the range (then their halves...) with `resend` set, so
# each device repeats what the garbled turn lost, within a few polls instead of a timeout.
#
# step(us, ms, utc) returns the bytes to write now (or b""); received(data, us, ms, utc)
# takes the bytes heard. `us` is a microsecond tick (time.ticks_us), `ms` the millisecond tick
# for the link, `utc` the hub's wall clock in seconds. next_us(us) says when step() next has
# something to do, so a loop (or a simulator) need not spin.
from protocol.frame import encode_frame
from protocol.codes import FLAG_ACK_REQ, POLL
from protocol.link import ACK, NAK
from protocol.schema import BROADCAST, HUB
from protocol.ticks import ticks_add, ticks_diff

from protocol.compat import const

FREE = const(0)      # the hub may transmit
TALK = const(1)      # the hub's own transmission is on the wire until `until`
LISTEN = const(2)    # a turn is granted; it ends at `until` or after a gap once bytes came
BATCH_MAX = 8        # frames per transmission to one device
POLL_BYTES = const(12)   # a poll frame on the wire: 5 header, 3 payload, 2 CRC, code, delimiter


def poll_frame(first, last, resend):
    return encode_frame(BROADCAST, HUB, 0, 0, POLL, bytes((first, last, 1 if resend else 0)))


class BusMaster:
    OUT_OF_TURN_LIMIT = 3        # frames out of turn within OUT_OF_TURN_MS: told to be quiet
    OUT_OF_TURN_MS = 10000
    QUIET_MS = 60000             # ...for this long, polled alone every SOLO_POLL_US meanwhile
    SOLO_POLL_US = 500000
    QUEUE_MAX = 64               # acks and naks waiting for the line, at most about

    def __init__(self, node, addresses, baud=115200, reply_us=3000, gap_us=1000,
                 turnaround_us=100, poll_every_us=20000, police=True):
        # node: the hub's Node; addresses: every device address on this bus. police: find and
        # quiet a device that talks out of turn (off where late answers are normal).
        self.node = node
        self.addresses = sorted(addresses)
        self.byte_us = 10000000 // baud          # start + 8 data + stop bits
        self.reply_us = reply_us                 # a polled device starts answering within this
        self.gap_us = gap_us                     # this much silence ends a device's answer
        self.turnaround_us = turnaround_us       # driver enable before the first byte
        self.poll_every_us = poll_every_us       # an event poll at least this often
        self.queue = []                          # packets waiting for the bus, oldest first
        self.state = FREE
        self.until = 0
        self.turn = None                         # (first index, last index) being heard
        self.heard = False
        self.garbled = False
        self.turn_frames = 0
        self.last_rx = 0
        self.last_poll = 0
        self.since_poll = 0                      # downlink transmissions since the event poll
        self.splits = []                         # ranges still to poll after a garbled turn
        self.retries = 0                         # re-polls of one device after a garbled turn
        self.rr = 0                              # round-robin position over destinations
        self.out_of_turn = {}                    # address -> [frames lately, since (ms), in all]
        self.quieted = {}                        # address -> [quiet until (ms), next solo poll (us)]
        self.on_out_of_turn = None               # callable(address, frames): tell the hall
        if police:
            node.frame_hook = self._heard_frame
        self.stats = {"polls": 0, "event_polls": 0, "turns_heard": 0, "silent": 0,
                      "garbled": 0, "splits": 0, "tx_bytes": 0, "rx_bytes": 0, "out_of_turn": 0,
                      "shed": 0}

    def _idle_poll_us(self):
        return self.turnaround_us + (1 + POLL_BYTES) * self.byte_us + self.reply_us

    # ---- receiving ---------------------------------------------------------------------------

    def received(self, data, us, ms, utc=0, decoder=None):
        # decoder: one per line when the hub hears several point-to-point lines.
        dec = decoder or self.node.decoder
        self.stats["rx_bytes"] += len(data)
        before = dec.rejected()
        frames = dec.frames
        self.node.feed(data, ms, utc, dec)
        if self.turn is not None:             # (early by our clock is still the answer)
            self.heard = True
            self.last_rx = us
            self.last_decoder = dec
            self.turn_frames += dec.frames - frames
            if dec.rejected() != before:
                self.garbled = True

    def _heard_frame(self, src, ms):
        # Every intact frame heard: one from a device the current turn does not cover spoke
        # out of turn (a fault that would garble every other device's answers). It is named,
        # then told to speak only when polled alone.
        if src == HUB:
            return
        turn = self.turn
        if turn is not None and self.addresses[turn[0]] <= src <= self.addresses[turn[1]]:
            return
        self.stats["out_of_turn"] += 1
        seen = self.out_of_turn.get(src)
        if seen is None:
            seen = self.out_of_turn[src] = [0, ms, 0]
        elif ticks_diff(ms, seen[1]) > self.OUT_OF_TURN_MS:
            seen[0] = 0
            seen[1] = ms
        seen[0] += 1
        seen[2] += 1
        if seen[0] >= self.OUT_OF_TURN_LIMIT:
            seen[0] = 0
            seen[1] = ms
            quiet = self.quieted.get(src)
            if quiet is None:
                self.quieted[src] = [ticks_add(ms, self.QUIET_MS), 0]
            else:
                quiet[0] = ticks_add(ms, self.QUIET_MS)
            self.node.send(src, {"type": "bus_quiet", "ms": self.QUIET_MS}, ms)
            if self.on_out_of_turn is not None:
                self.on_out_of_turn(src, seen[2])      # (its own frames, not the whole bus's)

    def _solo_due(self, us, ms):
        # A quieted device still gets its turns, alone, twice a second.
        for address in list(self.quieted):
            quiet = self.quieted[address]
            if ticks_diff(ms, quiet[0]) > 0:
                del self.quieted[address]
            elif address in self.addresses and ticks_diff(us, quiet[1]) >= 0:
                quiet[1] = ticks_add(us, self.SOLO_POLL_US)
                i = self.addresses.index(address)
                return (i, i)
        return None

    # ---- transmitting ------------------------------------------------------------------------

    def next_us(self, us):
        # Microseconds until step() can do something new (0: now).
        if self.state == TALK:
            return max(0, ticks_diff(self.until, us))
        if self.state == LISTEN:
            end = ticks_add(self.last_rx, self.gap_us) if self.heard else self.until
            return max(0, ticks_diff(end, us))
        return 0

    def step(self, us, ms, utc=0):
        if self.state == TALK:
            if ticks_diff(us, self.until) < 0:
                return b""
            if self.turn is None:
                self.state = FREE
            else:
                self.state = LISTEN
                self.until = ticks_add(self.until, self.reply_us)
        if self.state == LISTEN:
            if self.heard:
                if ticks_diff(us, ticks_add(self.last_rx, self.gap_us)) < 0:
                    return b""
            elif ticks_diff(us, self.until) < 0:
                return b""
            self._end_turn()
        for packet in self.node.packets(ms, utc):
            self.queue.append(packet)
        if len(self.queue) > self.QUEUE_MAX:      # a flood the line cannot carry
            self._shed()
        return self._choose(us, ms)

    def _shed(self):
        # Drop the oldest acks and naks (a device repeats what was not acknowledged): a flood
        # of frames from devices cannot make the hub hold more than the line carries.
        k = 0
        while len(self.queue) > self.QUEUE_MAX and k < len(self.queue):
            if self.queue[k].type_id != ACK and self.queue[k].type_id != NAK:
                k += 1
            else:
                self.queue.pop(k)
                self.stats["shed"] += 1

    def _end_turn(self):
        # A turn that left bytes without a frame, or half a frame, was garbled (two devices
        # at once, or noise).
        if self.heard and (self.turn_frames == 0 or self.last_decoder.pending()):
            self.garbled = True
        first, last = self.turn
        self.turn = None
        self.state = FREE
        if not self.heard:
            self.stats["silent"] += 1
        elif not self.garbled:
            self.stats["turns_heard"] += 1
            self.retries = 0
        else:
            self.stats["garbled"] += 1
            if first < last:                      # several may have answered: split the range
                self.stats["splits"] += 1
                mid = (first + last) // 2
                self.splits.append((mid + 1, last))
                self.splits.append((first, mid))
            elif self.retries < 2:                # noise on one device's answer: ask again
                self.retries += 1
                self.splits.append((first, last))
            else:
                self.retries = 0
        self.heard = False
        self.garbled = False
        self.turn_frames = 0

    def _choose(self, us, ms=0):
        queue = self.queue
        out = bytearray(b"\x00")
        grant = None
        solo = self._solo_due(us, ms) if self.quieted else None
        if solo is not None:
            grant = solo
            resend = True
        elif self._has_broadcast():
            self._take(BROADCAST, out)
        elif queue and (self.splits or self.since_poll == 0 or
                        ticks_diff(us, self.last_poll) < self.poll_every_us):
            # Acks and commands first: a device whose answer was acknowledged need not repeat
            # it when the split polls come.
            self.since_poll += 1
            dst = self._next_destination()
            if self._take(dst, out) and dst in self.addresses:    # it owes acks: let it answer at once
                i = self.addresses.index(dst)
                grant = (i, i)
                resend = True
        elif self.splits:
            grant = self.splits.pop()
            resend = True
        elif self.addresses:
            grant = (0, len(self.addresses) - 1)  # the event poll: whoever has something
            resend = False
            self.last_poll = us
            self.since_poll = 0
            self.stats["event_polls"] += 1
        if grant is not None:
            self.turn = grant
            out.extend(poll_frame(self.addresses[grant[0]], self.addresses[grant[1]], resend))
            self.stats["polls"] += 1
        if len(out) == 1:
            return b""
        self.state = TALK
        self.until = ticks_add(us, self.turnaround_us + len(out) * self.byte_us)
        self.stats["tx_bytes"] += len(out)
        return bytes(out)

    def _take(self, dst, out):
        # Frame up to BATCH_MAX queued packets for dst into out; True if one needs an ack.
        queue = self.queue
        must = False
        sent = 0
        k = 0
        while k < len(queue) and sent < BATCH_MAX:
            p = queue[k]
            if p.dst != dst:
                k += 1
                continue
            queue.pop(k)
            out.extend(encode_frame(p.dst, HUB, p.seq, p.flags, p.type_id, p.payload))
            must = must or p.flags & FLAG_ACK_REQ
            sent += 1
        return must

    def _has_broadcast(self):
        for p in self.queue:
            if p.dst == BROADCAST:
                return True
        return False

    def _next_destination(self):
        # Round-robin over the destinations that have packets waiting, by address.
        best = None
        after = None
        for p in self.queue:
            d = p.dst
            if d >= self.rr and (after is None or d < after):
                after = d
            if best is None or d < best:
                best = d
        dst = after if after is not None else best
        self.rr = dst + 1
        return dst

    def idle(self):
        # True when the only thing left to do is the event poll (a simulator may skip those
        # that nobody answers).
        return self.state == FREE and not self.queue and not self.splits

    def cycle_us(self):
        # The length of one unanswered event poll: transmission plus the wait for an answer.
        return self._idle_poll_us()
