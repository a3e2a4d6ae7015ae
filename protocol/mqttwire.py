# MQTT 3.1.1 packets, sans-IO and small enough for a device: the packets a device client and
# the hall's tools need (CONNECT, CONNACK, PUBLISH at QoS 0 and 1, PUBACK, SUBSCRIBE, SUBACK,
# PINGREQ, PINGRESP, DISCONNECT), and a stream decoder that never raises. It is strict, as
# 3.1.1 asks of a receiver: a fixed header with flags the type does not allow, a reserved type,
# a length a type cannot have, or a remaining length longer than 4 bytes marks the stream
# `broken` (MQTT-4.8.0-1: close the connection) and nothing after it is read. A PUBLISH larger
# than the limit is skipped and counted, its packet id kept (TOO_BIG) so that a QoS 1 one can
# still be acknowledged (MQTT-4.3.2-2); parse_publish() refuses a topic or id 3.1.1 forbids.
from protocol.compat import const

CONNECT = const(1)
CONNACK = const(2)
PUBLISH = const(3)
PUBACK = const(4)
PUBREC = const(5)
PUBREL = const(6)
PUBCOMP = const(7)
SUBSCRIBE = const(8)
SUBACK = const(9)
UNSUBSCRIBE = const(10)
UNSUBACK = const(11)
PINGREQ = const(12)
PINGRESP = const(13)
DISCONNECT = const(14)
TOO_BIG = const(16)          # not a packet type: an oversized PUBLISH, body = its packet id

MAX_LENGTH = const(268435455)   # the largest remaining length 4 bytes can hold

PING = b"\xc0\x00"
BYE = b"\xe0\x00"

# The fixed-header flags each type must carry (MQTT-2.2.2-1/2; PUBLISH's are its own), and the
# remaining length it must have (-1: any). Index = packet type; 0 and 15 are reserved.
_FLAGS = (-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, -1)
_SIZE = (-1, -1, 2, -1, 2, 2, 2, 2, -1, -1, -1, 2, 0, 0, 0, -1)


def _length(n):
    if n < 0 or n > MAX_LENGTH:
        raise ValueError("remaining length out of range")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return out


def _str(value):
    data = value.encode() if isinstance(value, str) else bytes(value)
    if len(data) > 0xFFFF:
        raise ValueError("string longer than 65535 bytes")
    return bytes((len(data) >> 8, len(data) & 0xFF)) + data


def _packet(first, body):
    out = bytearray((first,))
    out.extend(_length(len(body)))
    out.extend(body)
    return bytes(out)


def check_keepalive(keepalive_s):
    if type(keepalive_s) is not int or not 0 <= keepalive_s <= 0xFFFF:
        raise ValueError("keepalive_s must be a whole number of seconds, 0..65535")


def connect(client_id, keepalive_s, user=None, password=None, will=None, clean=True):
    # will: (topic, payload, qos, retain) or None.
    check_keepalive(keepalive_s)
    flags = 0x02 if clean else 0
    payload = bytearray(_str(client_id))
    if will is not None:
        flags |= 0x04 | ((will[2] & 3) << 3) | (0x20 if will[3] else 0)
        payload.extend(_str(will[0]))
        payload.extend(_str(will[1]))
    if user is not None:
        flags |= 0x80
        payload.extend(_str(user))
        if password is not None:
            flags |= 0x40
            payload.extend(_str(password))
    body = bytearray(_str("MQTT"))
    body.extend(bytes((4, flags, keepalive_s >> 8, keepalive_s & 0xFF)))
    body.extend(payload)
    return _packet(CONNECT << 4, body)


def publish(topic, payload, qos=0, retain=False, pid=0, dup=False):
    body = bytearray(_str(topic))
    if qos:
        body.extend(bytes((pid >> 8, pid & 0xFF)))
    body.extend(payload.encode() if isinstance(payload, str) else payload)
    first = (PUBLISH << 4) | (0x08 if dup and qos else 0) | ((qos & 3) << 1) | \
        (1 if retain else 0)
    return _packet(first, body)


def puback(pid):
    return bytes((PUBACK << 4, 2, pid >> 8, pid & 0xFF))


def subscribe(pid, topics):
    # topics: [(filter, qos)]
    body = bytearray((pid >> 8, pid & 0xFF))
    for name, qos in topics:
        body.extend(_str(name))
        body.append(qos)
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def utf8_ok(data):
    # Well-formed UTF-8 with no U+0000 (MQTT-1.5.3-1/2): no overlong forms, no surrogates,
    # nothing past U+10FFFF. Checked here because MicroPython's decode() lets those through.
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        i += 1
        if c < 0x80:
            if c == 0:
                return False
            continue
        if 0xC2 <= c <= 0xDF:
            more, lo, hi = 1, 0x80, 0xBF
        elif c == 0xE0:
            more, lo, hi = 2, 0xA0, 0xBF
        elif c == 0xED:
            more, lo, hi = 2, 0x80, 0x9F
        elif 0xE1 <= c <= 0xEF:
            more, lo, hi = 2, 0x80, 0xBF
        elif c == 0xF0:
            more, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= c <= 0xF3:
            more, lo, hi = 3, 0x80, 0xBF
        elif c == 0xF4:
            more, lo, hi = 3, 0x80, 0x8F
        else:
            return False
        if i + more > n or not lo <= data[i] <= hi:
            return False
        for k in range(i + 1, i + more):
            if not 0x80 <= data[k] <= 0xBF:
                return False
        i += more
    return True


def topic_name_ok(data):
    # A topic a PUBLISH may carry: 1..65535 bytes of UTF-8, no wildcard (MQTT-3.3.2-2, 4.7.3).
    return len(data) > 0 and b"+" not in data and b"#" not in data and utf8_ok(data)


def parse_publish(flags, body):
    # (topic, payload bytes, qos, pid, retain) of a PUBLISH body, or None where 3.1.1 forbids
    # it: QoS 3, DUP at QoS 0, a topic that runs past the end, is empty, has a wildcard or is
    # not well-formed UTF-8, or a packet id 0 (MQTT-2.3.1-1).
    if len(body) < 2:
        return None
    n = (body[0] << 8) | body[1]
    at = 2 + n
    qos = (flags >> 1) & 3
    if at > len(body) or qos == 3 or (flags & 0x08 and not qos):
        return None
    name = bytes(body[2:at])
    if not topic_name_ok(name):
        return None
    pid = 0
    if qos:
        if at + 2 > len(body):
            return None
        pid = (body[at] << 8) | body[at + 1]
        if pid == 0:
            return None
        at += 2
    return name.decode(), bytes(body[at:]), qos, pid, flags & 1


class Decoder:
    # feed() bytes as they come; packets() hands back [(type, flags, body)] completed so far.
    # Once `broken` (a malformed packet), the connection must be closed: nothing more is read.
    def __init__(self, max_packet=2048):
        self.max_packet = max_packet
        self.buf = bytearray()
        self.skip = 0                 # bytes still to discard of an oversized packet
        self.big = None               # [flags, offset, next offset wanted, bytes kept]
        self.oversized = 0
        self.malformed = 0
        self.broken = False
        self.out = []

    def feed(self, data):
        while data and not self.broken:
            if self.skip:
                n = min(self.skip, len(data))
                if self.big is not None:
                    self._watch(data, n)
                self.skip -= n
                data = data[n:]
                if not self.skip and self.big is not None:
                    self._end_big()
                continue
            self.buf.extend(data)
            data = b""
            while self._one():
                pass
            if self.skip and self.buf:        # what came after an oversized packet's header
                data = bytes(self.buf)
                self.buf = bytearray()

    def _watch(self, data, n):
        # Pick the topic length and packet id out of an oversized PUBLISH as it streams past.
        big = self.big
        start = big[1]
        while big[2] is not None and big[2] < start + n:
            big[3].append(data[big[2] - start])
            kept = len(big[3])
            if kept == 1 or kept == 3:
                big[2] += 1
            elif kept == 2:
                big[2] = 2 + ((big[3][0] << 8) | big[3][1])
            else:
                big[2] = None
        big[1] = start + n

    def _end_big(self):
        flags, kept = self.big[0], self.big[3]
        self.big = None
        if len(kept) < 4 or not (kept[2] or kept[3]):
            self._break()                     # no room for its packet id, or id 0
            return
        self.out.append((TOO_BIG, flags, bytes(kept[2:4])))

    def _break(self):
        self.malformed += 1
        self.broken = True
        self.buf = bytearray()
        self.skip = 0

    def _one(self):
        buf = self.buf
        if len(buf) < 2:
            return False
        kind = buf[0] >> 4
        flags = buf[0] & 0x0F
        if kind == PUBLISH:
            if flags & 0x06 == 0x06 or (flags & 0x08 and not flags & 0x06):
                self._break()                 # QoS 3, or DUP at QoS 0 (MQTT-3.3.1-2/4)
                return False
        elif _FLAGS[kind] != flags:
            self._break()                     # a reserved type, or flags it may not have
            return False
        n = 0
        shift = 0
        at = 1
        while True:
            if at >= len(buf):
                return False
            byte = buf[at]
            n |= (byte & 0x7F) << shift
            at += 1
            if not byte & 0x80:
                break
            shift += 7
            if shift > 21:
                self._break()                 # a fifth length byte
                return False
        if _SIZE[kind] >= 0 and n != _SIZE[kind]:
            self._break()                     # a CONNACK, PUBACK, PINGRESP... of another size
            return False
        if n > self.max_packet:
            self.oversized += 1
            if kind == PUBLISH and flags & 0x06:   # (its packet id: to acknowledge it)
                self.big = [flags, 0, 0, bytearray()]
            self.skip = n
            self.buf = buf[at:]
            return False
        if len(buf) - at < n:
            return False
        self.out.append((kind, flags, bytes(buf[at:at + n])))
        self.buf = buf[at + n:]
        return True

    def packets(self):
        out = self.out
        self.out = []
        return out
