# A small MQTT 3.1.1 client for devices, sans-IO: the shell opens the socket when
# want_connect() says so, calls connecting(), feeds what it reads, writes what take() gives, and
# calls lost() when the connection breaks (and closes the socket whenever the state is DOWN).
# The client keeps the session alive (pings, also with keepalive 0), holds QoS 1 publishes
# until acknowledged and sends them again after a reconnect, announces the device with a
# retained birth message and leaves a last will, re-subscribes, and reconnects with
# exponential backoff and jitter so that a hall of devices does not all reconnect in the same
# instant after an access point reboots.
#
# The session is persistent (CleanSession 0, the device id as client id): what the hub sends
# a device while it is away waits at the broker and arrives as soon as it is back
# (protocol/SPEC.md 3.5). What the broker sends is checked as 3.1.1 asks: a malformed or
# forbidden packet closes the connection (counted in `malformed`); never an exception.
from protocol import mqttwire as w
from protocol.ticks import ticks_add, ticks_diff

DOWN = 0
CONNECTING = 1
UP = 2

_SUBACK_OK = (0, 1, 0x80)     # what a SUBACK may grant for a QoS 1 subscription


class MqttClient:
    BACKOFF_MIN_MS = 1000
    BACKOFF_MAX_MS = 30000
    CONNACK_MS = 10000        # no CONNACK this long after CONNECT: try again later
    PROBE_MS = 60000          # with keepalive 0, the link is still checked this often
    INFLIGHT_MAX = 16         # QoS 1 publishes held, while offline too; the oldest goes first

    def __init__(self, client_id, subscriptions, keepalive_s=30, user=None, password=None,
                 will=None, birth=None, seed=1, store=None):
        # will, birth: (topic, payload) published retained at QoS 1 (birth on each connect).
        # store: a path on flash where QoS 1 publishes made while offline are kept, so they
        # survive a reboot before the broker is back (written only while offline).
        w.check_keepalive(keepalive_s)          # (the device config refuses it first)
        self.client_id = client_id
        self.subscriptions = subscriptions
        self.keepalive_s = keepalive_s
        self.alive_ms = keepalive_s * 1000 if keepalive_s else self.PROBE_MS
        self.user = user
        self._password = password         # never shown in status or logs
        self.will = will
        self.birth = birth
        self.state = DOWN
        self.next_attempt = 0
        self.first = True
        self.backoff = self.BACKOFF_MIN_MS
        self.rand = (seed * 2654435761 + 1) & 0x7FFFFFFF
        self.decoder = w.Decoder()
        self.out = bytearray()
        self.inflight = []                # [pid, topic, payload, retain, sent before]
        self.received = []                # (topic, payload bytes)
        self.pid = 0
        self.sub_pid = 0                  # the SUBSCRIBE awaiting its SUBACK (0: none)
        self.last_tx = 0
        self.last_rx = 0
        self.ping_sent = None
        self.connect_at = 0
        self.stats = {"connects": 0, "drops": 0, "refused": 0, "dropped_qos0": 0,
                      "dropped_inflight": 0, "malformed": 0, "oversized": 0, "resent": 0,
                      "retained": 0, "sub_refused": 0, "session_lost": 0}
        self.store = store
        if store is not None:
            self._load()

    def _load(self):
        import json
        try:
            with open(self.store) as f:
                for kept in json.load(f):     # [topic, payload, retain, sent before]
                    self.inflight.append([self._next_pid(), kept[0], kept[1], kept[2],
                                          len(kept) > 3 and kept[3] is True])
        except (OSError, ValueError, TypeError):
            pass                              # nothing kept (or a torn file): start empty

    def _save(self):
        # Only while offline; once the broker has them, the file is emptied.
        import json
        try:
            with open(self.store, "w") as f:
                json.dump([[i[1], i[2] if isinstance(i[2], str) else i[2].decode(), i[3], i[4]]
                           for i in self.inflight], f)
        except OSError:
            pass

    def _next_pid(self):
        self.pid = self.pid % 0xFFFF + 1
        return self.pid

    # ---- connection ---------------------------------------------------------------------

    def want_connect(self, now):
        return self.state == DOWN and (self.first or ticks_diff(now, self.next_attempt) >= 0)

    def connecting(self, now):
        # The socket is open: say who we are.
        self.first = False
        self.state = CONNECTING
        self.connect_at = now
        self.last_rx = now
        self.decoder = w.Decoder()
        self.out = bytearray(w.connect(self.client_id, self.keepalive_s, self.user,
                                       self._password,
                                       None if self.will is None else
                                       (self.will[0], self.will[1], 1, True), clean=False))

    def lost(self, now):
        # The connection broke (or never came up): wait, with jitter, then try again.
        if self.state != DOWN:
            self.stats["drops"] += 1
        self.state = DOWN
        self.ping_sent = None
        self.sub_pid = 0
        self.out = bytearray()
        self.rand = (self.rand * 1103515245 + 12345) & 0x7FFFFFFF
        wait = self.backoff // 2 + self.rand % (self.backoff + 1)     # 0.5x .. 1.5x
        self.next_attempt = ticks_add(now, wait)
        self.backoff = min(self.backoff * 2, self.BACKOFF_MAX_MS)

    def _violation(self, now):
        # The broker broke the protocol (MQTT-4.8.0-1): close the connection and reconnect.
        self.stats["malformed"] += 1
        self.lost(now)

    # ---- traffic ------------------------------------------------------------------------

    def publish(self, topic, payload, qos=0, retain=False, now=0):
        if qos == 0:
            if self.state == UP:
                self.out.extend(w.publish(topic, payload, 0, retain))
            else:
                self.stats["dropped_qos0"] += 1
            return
        if len(self.inflight) >= self.INFLIGHT_MAX:
            self.inflight.pop(0)
            self.stats["dropped_inflight"] += 1
        item = [self._next_pid(), topic, payload, retain, False]
        self.inflight.append(item)
        if self.state == UP:
            self.out.extend(w.publish(topic, payload, 1, retain, item[0]))
            item[4] = True
        elif self.store is not None:
            self._save()

    def feed(self, data, now):
        decoder = self.decoder
        before = decoder.oversized
        decoder.feed(data)
        self.stats["oversized"] += decoder.oversized - before
        for kind, flags, body in decoder.packets():
            self.last_rx = now
            if not self._packet(kind, flags, body, now):
                self._violation(now)
                return
        if decoder.broken:
            self._violation(now)

    def _packet(self, kind, flags, body, now):
        # Handle one packet from the broker; False if 3.1.1 forbids it here.
        if self.state == CONNECTING:
            return kind == w.CONNACK and self._connack(body, now)     # (MQTT-3.2.0-1)
        if self.state != UP:
            return True                       # (the rest of a stream we gave up on)
        if kind == w.PUBLISH:
            got = w.parse_publish(flags, body)
            if got is None or got[2] == 2:    # (QoS 2: more than we subscribed for)
                return False
            if got[2] == 1:
                self.out.extend(w.puback(got[3]))
            if got[4]:                        # retained: old news replayed at subscribe
                self.stats["retained"] += 1
            else:
                self.received.append((got[0], got[1]))
        elif kind == w.TOO_BIG:               # acknowledged, then dropped (MQTT-4.3.2-2)
            if (flags >> 1) & 3 == 2:
                return False
            self.out.extend(w.puback((body[0] << 8) | body[1]))
        elif kind == w.PUBACK:
            pid = (body[0] << 8) | body[1]
            for k in range(len(self.inflight)):
                if self.inflight[k][0] == pid:
                    self.inflight.pop(k)
                    if self.store is not None and not self.inflight:
                        self._save()          # all delivered: nothing left to keep
                    break
        elif kind == w.SUBACK:
            if len(body) != 2 + len(self.subscriptions) or \
                    (body[0] << 8) | body[1] != self.sub_pid:
                return False
            for code in body[2:]:
                if code not in _SUBACK_OK:
                    return False
                if code == 0x80:
                    self.stats["sub_refused"] += 1
            self.sub_pid = 0
        elif kind == w.PINGRESP:
            self.ping_sent = None
        else:
            return False    # CONNACK again, QoS 2 flow, UNSUBACK unasked, client-only types
        return True

    def _connack(self, body, now):
        present, code = body[0], body[1]
        if present & 0xFE or code > 5 or (code and present):
            return False                      # (MQTT-3.2.2-4, reserved bits, codes)
        if code:
            self.stats["refused"] += 1
            self.backoff = self.BACKOFF_MAX_MS     # bad credentials: do not hammer
            self.lost(now)
            return True
        if not present and self.stats["connects"]:
            self.stats["session_lost"] += 1       # the broker forgot us: resubscribed below
        self._up(now)
        return True

    def _up(self, now):
        self.state = UP
        self.stats["connects"] += 1
        self.backoff = self.BACKOFF_MIN_MS
        if self.subscriptions:
            self.sub_pid = self._next_pid()
            self.out.extend(w.subscribe(self.sub_pid, [(t, 1) for t in self.subscriptions]))
        if self.birth is not None:
            self.out.extend(w.publish(self.birth[0], self.birth[1], 1, True, self._next_pid()))
        for item in self.inflight:                   # what waited while we were away
            self.out.extend(w.publish(item[1], item[2], 1, item[3], item[0], item[4]))
            if item[4]:
                self.stats["resent"] += 1
            item[4] = True

    def tick(self, now):
        if self.state == CONNECTING and ticks_diff(now, self.connect_at) >= self.CONNACK_MS:
            self.lost(now)
            return
        if self.state != UP:
            return
        if self.ping_sent is not None:
            if ticks_diff(now, self.ping_sent) >= self.alive_ms:
                self.lost(now)                       # the broker stopped answering
        elif ticks_diff(now, self.last_tx) >= self.alive_ms // 2 or \
                ticks_diff(now, self.last_rx) >= self.alive_ms // 2:
            # quiet either way: ask (a link that went silent while we kept sending is found too)
            self.out.extend(w.PING)
            self.ping_sent = now

    def take(self, now):
        # Bytes to write now.
        if not self.out:
            return b""
        data = bytes(self.out)
        self.out = bytearray()
        self.last_tx = now
        return data

    def take_received(self):
        got = self.received
        self.received = []
        return got
