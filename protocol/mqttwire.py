# MQTT 3.1.1 packets, sans-IO and small enough for a device: the packets a device client and
# the hall's tools need (CONNECT, CONNACK, PUBLISH at QoS 0 and 1, PUBACK, SUBSCRIBE, SUBACK,
# PINGREQ, PINGRESP, DISCONNECT), and a stream decoder that never raises: a packet larger than
# the limit is skipped and counted, a malformed one is counted and ends the connection.
from protocol.compat import const

CONNECT = const(1)
CONNACK = const(2)
PUBLISH = const(3)
PUBACK = const(4)
SUBSCRIBE = const(8)
SUBACK = const(9)
PINGREQ = const(12)
PINGRESP = const(13)
DISCONNECT = const(14)

PING = b"\xc0\x00"
BYE = b"\xe0\x00"


def _length(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return out


def _str(value):
    data = value.encode() if isinstance(value, str) else bytes(value)
    return bytes((len(data) >> 8, len(data) & 0xFF)) + data


def _packet(first, body):
    out = bytearray((first,))
    out.extend(_length(len(body)))
    out.extend(body)
    return bytes(out)


def connect(client_id, keepalive_s, user=None, password=None, will=None, clean=True):
    # will: (topic, payload, qos, retain) or None.
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
    first = (PUBLISH << 4) | (0x08 if dup else 0) | ((qos & 3) << 1) | (1 if retain else 0)
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


def parse_publish(flags, body):
    # (topic, payload bytes, qos, pid, retain) of a PUBLISH body, or None if malformed.
    if len(body) < 2:
        return None
    n = (body[0] << 8) | body[1]
    at = 2 + n
    qos = (flags >> 1) & 3
    if at > len(body) or qos == 3:
        return None
    try:
        topic = bytes(body[2:at]).decode()
    except UnicodeError:
        return None
    pid = 0
    if qos:
        if at + 2 > len(body):
            return None
        pid = (body[at] << 8) | body[at + 1]
        at += 2
    return topic, bytes(body[at:]), qos, pid, flags & 1


class Decoder:
    # feed() bytes as they come; packets() hands back [(type, flags, body)] completed so far.
    def __init__(self, max_packet=2048):
        self.max_packet = max_packet
        self.buf = bytearray()
        self.skip = 0                 # bytes still to discard of an oversized packet
        self.oversized = 0
        self.malformed = 0
        self.out = []

    def feed(self, data):
        if self.skip:
            n = min(self.skip, len(data))
            self.skip -= n
            data = data[n:]
        self.buf.extend(data)
        while self._one():
            pass

    def _one(self):
        buf = self.buf
        if len(buf) < 2:
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
                self.malformed += 1
                self.buf = bytearray()
                return False
        if n > self.max_packet:
            self.oversized += 1
            have = len(buf) - at
            if have >= n:
                self.buf = buf[at + n:]
                return True
            self.skip = n - have
            self.buf = bytearray()
            return False
        if len(buf) - at < n:
            return False
        self.out.append((buf[0] >> 4, buf[0] & 0x0F, bytes(buf[at:at + n])))
        self.buf = buf[at + n:]
        return True

    def packets(self):
        out = self.out
        self.out = []
        return out
