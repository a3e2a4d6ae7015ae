# Link endpoints, sans-IO. Endpoint is blind to the role behind it: the link (sequence
# numbers, acks, retransmission), a stream decoder for a serial line, and the role's "send"
# actions turned into link packets. It is the interface the carriers take:
# protocol.bus.BusMaster (the hub on a serial line) and protocol.mqttcarrier.MqttCarrier (any
# node on the broker) use only
#
#   address, is_hub, role, link, decoder, hardware, frame_hook
#   feed(data, now, utc=0, decoder=None)    bytes from a serial line
#   receive(src, dst, seq, flags, type_id, payload, digest, now, utc=0)   one intact message
#   send(dst, msg, now)                     a message for the link (dropped and counted when full)
#   packets(now, utc=0)                     the link packets due now
#   transmit(now, utc=0)                    the same, framed, for a serial line
#
# The role gets message(msg, now, src) for every message the link delivers, and leaves its
# actions in role.out: ("send", ...) goes to the link, anything else to `hardware` for the
# shell (print, board, voice, screen...).
#
# DeviceNode is a device's side. On a mastered bus (RS485, SPEC.md 2.5) it speaks only when a
# poll from the hub covers its address; status goes out every STATUS_MS; a device that has
# something to say and hears nothing from the hub for HUB_SILENT_MS tells its role (hub_lost),
# keeps what it must deliver, and recovers by itself when the hub is heard again. The hub's
# side, firmware.hubrun.HubNode (room for every device, the hall's clock), is never loaded on a
# device.
from protocol.codec import decode_payload, encode_payload
from protocol.frame import FRAME, REJECTED, StreamDecoder, encode_frame
from protocol.errors import QueueFull
from protocol.link import Link, GAVE_UP
from protocol.codes import NAK_UNKNOWN_TYPE, NAK_BAD_PAYLOAD, NAK_NEWER_VERSION, FLAG_ACK_REQ, \
    POLL, STATUS_REQUEST, BUS_QUIET, ROLE_HUB, ROLE_DISPENSER, ROLE_CALLER, ROLE_EVALUATOR, \
    ROLE_DISPLAY
from protocol.schema import HUB, BROADCAST, must_deliver
from protocol.ticks import ticks_add, ticks_diff

_NAKS = {"unknown_type": NAK_UNKNOWN_TYPE, "bad_payload": NAK_BAD_PAYLOAD,
         "newer_version": NAK_NEWER_VERSION}


class Endpoint:
    is_hub = False

    def __init__(self, address, role, role_name, now, rto_ms=100, first_seq=0, queue_max=None,
                 per_dst_max=None):
        self.address = address
        self.role = role
        self.role_name = role_name
        self.link = Link(address, first_seq=first_seq, rto_ms=rto_ms, queue_max=queue_max,
                         per_dst_max=per_dst_max)
        self.decoder = StreamDecoder()
        self.hardware = []
        self.overflow = 0           # messages the link had no room for
        self.frame_hook = None      # callable(src, now) for each intact frame (the bus master)
        self.peers = None           # the addresses allowed to talk to us (None: anyone)
        self.strangers = 0          # frames from others, counted and dropped
        self.log = None             # optional callable(text) for a monitor

    # ---- incoming -------------------------------------------------------------------------

    def feed(self, data, now, utc=0, decoder=None):
        # decoder: one per line when a hub listens on several (each needs its own framing).
        dec = decoder or self.decoder
        i = 0
        end = len(data)
        while i < end:
            i = dec.feed(data, i, end)
            if dec.result == FRAME:
                self._frame(dec, now, utc)
            elif dec.result == REJECTED:
                if dec.reason in _NAKS and dec.flags & FLAG_ACK_REQ and dec.dst == self.address:
                    if self.peers is None or dec.src in self.peers:
                        self.link.reject(dec.src, dec.seq, _NAKS[dec.reason])
                    else:
                        self.strangers += 1

    def pump(self, uart, buf, now, utc=0):
        # Feed everything a UART (write / any / readinto) holds now, through buf.
        while uart.any():
            n = uart.readinto(buf)
            if not n:
                break
            self.feed(memoryview(buf)[:n], now, utc)

    def _frame(self, dec, now, utc):
        if self.frame_hook is not None:
            self.frame_hook(dec.src, now)
        if self.peers is not None and dec.src not in self.peers:
            self.strangers += 1
            return
        if dec.dst != self.address and dec.dst != BROADCAST:
            return                                  # someone else's frame on the bus
        self.receive(dec.src, dec.dst, dec.seq, dec.flags, dec.type_id, dec.payload(), dec.crc,
                     now, utc)

    def receive(self, src, dst, seq, flags, type_id, payload, digest, now, utc=0):
        # One intact message from any carrier (a frame, or an MQTT publish); digest tells
        # retransmissions apart from new messages that reuse a sequence number.
        if self._control(src, type_id, payload, now):
            return
        if not self.link.receive(src, dst, seq, flags, type_id, payload, digest, now):
            return
        msg = decode_payload(type_id, payload, 0, len(payload), True)
        if self.log is not None:
            self.log("rx %d->%d %s" % (src, dst, msg))
        self.role.message(msg, utc if self.is_hub else now, src)   # the hub's role: UTC

    # ---- outgoing -------------------------------------------------------------------------

    def send(self, dst, msg, now):
        type_id, payload = encode_payload(msg)
        try:
            self.link.send(dst, type_id, payload, must_deliver(type_id) and dst != BROADCAST,
                           now)
        except QueueFull:
            # The peer has not acknowledged QUEUE_MAX messages: it is gone or far behind.
            self.overflow += 1
            self._overflowed(type_id, payload)

    def packets(self, now, utc=0):
        # The link packets due now (new ones, acks, retransmissions), after the role's
        # actions and the endpoint's own timers have been turned into messages.
        self._collect(now)
        self._timers(now, utc)
        for event in self.link.take_events():
            self._link_event(event, now)
        return self._due(now)

    def transmit(self, now, utc=0):
        # Bytes to write now (a transmission starts with 0x00), or b"".
        packets = self.packets(now, utc)
        if not packets:
            return b""
        out = bytearray(b"\x00")
        for p in packets:
            out.extend(encode_frame(p.dst, self.address, p.seq, p.flags, p.type_id, p.payload))
        return bytes(out)

    def wants_turn(self, now, resend=False):
        # Something to send (a poll covering us would be answered); with resend, also
        # something still waiting for an acknowledgement.
        return self.link.next_due(now) == 0 or (resend and self.link.in_flight() > 0)

    def _collect(self, now):
        for action in self.role.out:
            if action[0] == "send":       # a device's ("send", msg), the hub's ("send", to, msg)
                if len(action) == 2:
                    self.send(HUB, action[1], now)
                else:
                    self.send(action[1], action[2], now)
            else:
                self.hardware.append(action)
        self.role.out = []

    # Each side defines (DeviceNode below, firmware.hubrun.HubNode):
    #   _control(src, type_id, payload, now) -> True for a link-control message taken there
    #   _overflowed(type_id, payload) the link had no room for a message
    #   _timers(now, utc)             the side's own messages (status, the hall's clock)
    #   _link_event(event, now)       what the link reports (a message given up)
    #   _due(now)                     the packets to send now


ROLE_CODES = {"hub": ROLE_HUB, "dispenser": ROLE_DISPENSER, "caller": ROLE_CALLER,
              "evaluator": ROLE_EVALUATOR, "display": ROLE_DISPLAY}


class DeviceNode(Endpoint):
    STATUS_MS = 30000            # status period (spread by address so devices do not clash)
    PARK_MAX = 16                # undelivered must-deliver messages kept for the hub's return
    HUB_SILENT_MS = 5000         # wanting to talk this long without hearing the hub: lost

    def __init__(self, address, role, role_name, now, info=None, rto_ms=100, first_seq=0,
                 mastered=True):
        # role: message(msg, now, src) and `out`; optionally hub_lost(now), hub_back(now),
        # gave_up(msg, now), next_wake(now) and `printer` (firmware/roles/). mastered: on a
        # polled bus, speak only when polled. info: callable -> dict(fw, uptime, reset_cause,
        # free_heap, rssi).
        Endpoint.__init__(self, address, role, role_name, now, rto_ms, first_seq)
        self.mastered = mastered
        self.info = info
        self.next_status = ticks_add(now, 500 + self._spread())
        self.heard_hub = now
        self.hub_online = True
        self.want_since = None      # since when we have had something to send
        self.parked = []            # (type id, payload) the link gave up on, sent again later
        self.granted = 0            # polled: 1 answer, 2 resend what is unacknowledged, 4 always
        self.polled_alone = False   # the last poll named this device alone
        self.quiet_until = None     # told by the bus master to speak only when polled alone

    def _control(self, src, type_id, payload, now):
        if src != HUB:
            return False
        self.heard_hub = now
        if self.parked:
            for parked_type, parked in self.parked:
                self.link.send(HUB, parked_type, parked, True, now)
            self.parked = []
        if not self.hub_online:
            self.hub_online = True
            # back: report soon, each device at its own moment (all came back together)
            self.next_status = ticks_add(now, self._spread())
            if hasattr(self.role, "hub_back"):
                self.role.hub_back(now)
        if type_id == POLL:
            self.polled_alone = len(payload) == 3 and payload[0] == payload[1] == self.address
            if len(payload) == 3 and payload[0] <= self.address <= payload[1]:
                if payload[0] == payload[1]:
                    self.granted = 7                # for us alone: resend, and always answer
                elif self.wants_turn(now, payload[2]):
                    self.granted = 3 if payload[2] else 1
            return True
        if type_id == STATUS_REQUEST:
            self.next_status = now                  # (hallctl status): report at the next turn
            return True
        if type_id == BUS_QUIET:
            if len(payload) == 4:
                ms = (payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]
                self.quiet_until = ticks_add(now, min(ms, 600000))
            return True
        return False

    def _overflowed(self, type_id, payload):
        # A device keeps what it must deliver for the hub's return.
        if len(self.parked) < self.PARK_MAX:
            self.parked.append((type_id, payload))

    def _timers(self, now, utc):
        if self.link.next_due(now) != 0:
            self.want_since = None
        elif self.want_since is None:
            self.want_since = now
        if self.hub_online and self._silent_for(now) >= self.HUB_SILENT_MS:
            self.hub_online = False
            if hasattr(self.role, "hub_lost"):
                self.role.hub_lost(now)
                self._collect(now)
        if ticks_diff(now, self.next_status) >= 0:
            self.next_status = ticks_add(now, self.STATUS_MS)
            self.send(HUB, self.status(), now)
            if self.want_since is None:
                self.want_since = now

    def _link_event(self, event, now):
        if event[0] == GAVE_UP:
            # Not delivered (the hub is away): keep it for when the hub is back, so a ticket
            # request, print result or rating is late but never lost.
            if len(self.parked) < self.PARK_MAX and event[5] == 0:
                self.parked.append((event[3], event[4]))
            if hasattr(self.role, "gave_up"):
                self.role.gave_up(decode_payload(event[3], event[4], 0, len(event[4])), now)
                self._collect(now)

    def _due(self, now):
        if not self.mastered:
            return self.link.poll(now)
        granted = self.granted
        self.granted = 0
        if not granted:
            return ()
        if self.quiet_until is not None:
            # Told that we spoke out of turn: until the time is up, only a poll that names us
            # alone lets us talk. Checked apart from the grant, so that a fault there cannot
            # take the whole bus.
            if ticks_diff(self.quiet_until, now) <= 0:
                self.quiet_until = None
            elif not self.polled_alone:
                return ()
        if granted & 2:                              # the hub missed our last answer
            self.link.resend_unacked()
        packets = self.link.poll(now)
        if not packets and granted & 4:              # a poll for us alone: answer it
            self.send(HUB, {"type": "heartbeat", "uptime": self._info().get("uptime", 0)}, now)
            packets = self.link.poll(now)
        return packets

    def next_wake(self, now):
        # Milliseconds until the node's own timers (status, retransmission, the role's) need a
        # pass; the shell may sleep that long when nothing arrives.
        wait = ticks_diff(self.next_status, now)
        due = self.link.next_due(now)
        if due is not None and due < wait and (due > 0 or not self.mastered):
            wait = due                  # (on a polled bus, what is due waits for a poll)
        if self.want_since is not None and self.hub_online:
            lost = self.HUB_SILENT_MS - self._silent_for(now)
            if lost < wait:
                wait = lost
        role_wake = getattr(self.role, "next_wake", None)
        if role_wake is not None:
            r = role_wake(now)
            if r is not None and r < wait:
                wait = r
        return wait if wait > 0 else 0

    def _spread(self):
        # A per-address offset within 2 s, so that devices that start (or find the hub again)
        # together do not all answer the same poll every status period.
        return (self.address * 211) % 2000

    def _info(self):
        return self.info() if self.info is not None else {}

    def _silent_for(self, now):
        # How long we have wanted to talk without hearing the hub (0 when we do not want to).
        if self.want_since is None:
            return 0
        heard = ticks_diff(now, self.heard_hub)
        wanted = ticks_diff(now, self.want_since)
        return heard if heard < wanted else wanted

    def status(self):
        info = self._info()
        stats = self.link.stats
        return {"type": "status", "role": ROLE_CODES.get(self.role_name, 0),
                "fw": info.get("fw", "dev"), "uptime": info.get("uptime", 0),
                "reset_cause": info.get("reset_cause", 0), "free_heap": info.get("free_heap", 0),
                "rx_errors": min(self.decoder.rejected(), 0xFFFF),
                "retries": min(stats["retries"], 0xFFFF), "give_ups": min(stats["give_ups"], 0xFFFF),
                "rssi": info.get("rssi", 0), "printer": getattr(self.role, "printer", 0)}
