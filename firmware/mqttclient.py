# A small MQTT 3.1.1 client for devices, sans-IO: the shell opens the socket when
# want_connect() says so, calls connecting(), feeds what it reads, writes what take() gives, and
# calls lost() when the connection breaks. The client keeps the session alive (pings), resends
# unacknowledged QoS 1 publishes after a reconnect, announces the device with a retained birth
# message and leaves a last will, re-subscribes, and reconnects with exponential backoff and
# jitter so that a hall of devices does not all reconnect in the same instant after an access
# point reboots. Bad input from the broker is counted, never raised.
from protocol import mqttwire as w
from protocol.ticks import ticks_add, ticks_diff

DOWN = 0
CONNECTING = 1
UP = 2


class MqttClient:
    BACKOFF_MIN_MS = 1000
    BACKOFF_MAX_MS = 30000
    CONNACK_MS = 10000        # no CONNACK this long after CONNECT: try again later
    RETRY_MS = 5000           # a QoS 1 publish without PUBACK this long is sent again (DUP)
    INFLIGHT_MAX = 16         # QoS 1 publishes held, while offline too; the oldest goes first

    def __init__(self, client_id, subscriptions, keepalive_s=30, user=None, password=None,
                 will=None, birth=None, seed=1, store=None):
        # will, birth: (topic, payload) published retained at QoS 1 (birth on each connect).
        # store: a path on flash where QoS 1 publishes made while offline are kept, so they
        # survive a reboot before the broker is back (written only while offline).
        self.client_id = client_id
        self.subscriptions = subscriptions
        self.keepalive_s = keepalive_s
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
        self.inflight = []                # [pid, topic, payload, retain, sent at]
        self.received = []                # (topic, payload bytes)
        self.pid = 0
        self.last_tx = 0
        self.ping_sent = None
        self.connect_at = 0
        self.stats = {"connects": 0, "drops": 0, "refused": 0, "dropped_qos0": 0,
                      "dropped_inflight": 0, "malformed": 0, "oversized": 0, "resent": 0}
        self.store = store
        if store is not None:
            self._load()

    def _load(self):
        import json
        try:
            with open(self.store) as f:
                for topic, payload, retain in json.load(f):
                    self.pid = self.pid % 0xFFFF + 1
                    self.inflight.append([self.pid, topic, payload, retain, 0])
        except (OSError, ValueError, TypeError):
            pass                              # nothing kept (or a torn file): start empty

    def _save(self):
        # Only while offline; once the broker has them, the file is emptied.
        import json
        try:
            with open(self.store, "w") as f:
                json.dump([[i[1], i[2] if isinstance(i[2], str) else i[2].decode(), i[3]]
                           for i in self.inflight], f)
        except OSError:
            pass

    # ---- connection ---------------------------------------------------------------------

    def want_connect(self, now):
        return self.state == DOWN and (self.first or ticks_diff(now, self.next_attempt) >= 0)

    def connecting(self, now):
        # The socket is open: say who we are.
        self.first = False
        self.state = CONNECTING
        self.connect_at = now
        self.decoder = w.Decoder()
        self.out = bytearray(w.connect(self.client_id, self.keepalive_s, self.user,
                                       self._password,
                                       None if self.will is None else
                                       (self.will[0], self.will[1], 1, True)))

    def lost(self, now):
        # The connection broke (or never came up): wait, with jitter, then try again.
        if self.state != DOWN:
            self.stats["drops"] += 1
        self.state = DOWN
        self.ping_sent = None
        self.out = bytearray()
        self.rand = (self.rand * 1103515245 + 12345) & 0x7FFFFFFF
        wait = self.backoff // 2 + self.rand % (self.backoff + 1)     # 0.5x .. 1.5x
        self.next_attempt = ticks_add(now, wait)
        self.backoff = min(self.backoff * 2, self.BACKOFF_MAX_MS)

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
        self.pid = self.pid % 0xFFFF + 1
        self.inflight.append([self.pid, topic, payload, retain, now])
        if self.state == UP:
            self.out.extend(w.publish(topic, payload, 1, retain, self.pid))
        elif self.store is not None:
            self._save()

    def feed(self, data, now):
        self.decoder.feed(data)
        self.stats["oversized"] = self.decoder.oversized
        for kind, flags, body in self.decoder.packets():
            if kind == w.PUBLISH:
                got = w.parse_publish(flags, body)
                if got is None:
                    self.stats["malformed"] += 1
                    continue
                if got[2] == 1:
                    self.out.extend(w.puback(got[3]))
                if got[4]:                    # retained: old news replayed at subscribe
                    self.stats["retained"] = self.stats.get("retained", 0) + 1
                    continue
                self.received.append((got[0], got[1]))
            elif kind == w.PUBACK and len(body) >= 2:
                pid = (body[0] << 8) | body[1]
                for k in range(len(self.inflight)):
                    if self.inflight[k][0] == pid:
                        self.inflight.pop(k)
                        if self.store is not None and not self.inflight:
                            self._save()      # all delivered: nothing left to keep
                        break
            elif kind == w.PINGRESP:
                self.ping_sent = None
            elif kind == w.CONNACK and self.state == CONNECTING:
                if len(body) >= 2 and body[1] == 0:
                    self._up(now)
                else:
                    self.stats["refused"] += 1
                    self.backoff = self.BACKOFF_MAX_MS     # bad credentials: do not hammer
                    self.lost(now)

    def _up(self, now):
        self.state = UP
        self.stats["connects"] += 1
        self.backoff = self.BACKOFF_MIN_MS
        self.pid = self.pid % 0xFFFF + 1
        if self.subscriptions:
            self.out.extend(w.subscribe(self.pid, [(t, 1) for t in self.subscriptions]))
        if self.birth is not None:
            self.out.extend(w.publish(self.birth[0], self.birth[1], 0, True))
        for item in self.inflight:                   # what waited while we were away
            self.out.extend(w.publish(item[1], item[2], 1, item[3], item[0], True))
            item[4] = now
            self.stats["resent"] += 1

    def tick(self, now):
        if self.state == CONNECTING and ticks_diff(now, self.connect_at) >= self.CONNACK_MS:
            self.lost(now)
            return
        if self.state != UP:
            return
        if self.ping_sent is not None and \
                ticks_diff(now, self.ping_sent) >= self.keepalive_s * 1000:
            self.lost(now)                           # the broker stopped answering
            return
        if self.ping_sent is None and ticks_diff(now, self.last_tx) >= self.keepalive_s * 500:
            self.out.extend(w.PING)
            self.ping_sent = now
        for item in self.inflight:
            if ticks_diff(now, item[4]) >= self.RETRY_MS:
                self.out.extend(w.publish(item[1], item[2], 1, item[3], item[0], True))
                item[4] = now
                self.stats["resent"] += 1

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
