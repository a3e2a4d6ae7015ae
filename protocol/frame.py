# Serial carrier: COBS-delimited binary frames with version, addresses, sequence and CRC-16.
# Layout before stuffing: ver<<4|flags, dst, src, seq, type, payload..., crc_hi, crc_lo.
# On the wire: COBS(content) then 0x00. A transmission also starts with 0x00 (see SPEC.md).
import sys
from array import array

from protocol import VERSION
from protocol.codes import FLAG_ACK_REQ  # noqa: F401  (must-deliver: answered ack or nak)
from protocol.codec import encode_payload, payload_ok, decode_payload
from protocol.crc import crc16
from protocol.errors import TooLongError, PayloadError
from protocol.schema import must_deliver, spec_pos, spec

from protocol.compat import const

HEADER_SIZE = const(5)
CRC_SIZE = const(2)
MAX_PAYLOAD = const(247)
MAX_CONTENT = const(254)          # header + payload + CRC: one COBS block, so stuffing costs 1 byte
MAX_FRAME = const(256)            # on the wire, with the COBS code byte and the delimiter
OVERHEAD = const(9)               # everything but the payload: 5 header + 2 CRC + 1 COBS + 1 delimiter


# What feed() found at the frame boundary it stopped at.
PENDING = const(0)
FRAME = const(1)
REJECTED = const(2)

# Why a frame was rejected; these are the keys of StreamDecoder.counts.
CRC = "crc"
TOO_LONG = "too_long"
TRUNCATED = "truncated"
NEWER_VERSION = "newer_version"
UNKNOWN_TYPE = "unknown_type"
BAD_PAYLOAD = "bad_payload"
BAD_HEADER = "bad_header"
REASONS = (CRC, TOO_LONG, TRUNCATED, NEWER_VERSION, UNKNOWN_TYPE, BAD_PAYLOAD, BAD_HEADER)


def _stuff_into(content, n, out):
    # COBS-encode content[:n] into out, then the 0x00 delimiter; returns the length written.
    code_at = 0
    code = 1
    o = 1
    for i in range(n):
        b = content[i]
        if code == 0xFF:
            out[code_at] = 0xFF
            code_at = o
            o += 1
            code = 1
        if b == 0:
            out[code_at] = code
            code_at = o
            o += 1
            code = 1
        else:
            out[o] = b
            o += 1
            code += 1
    out[code_at] = code
    out[o] = 0
    return o + 1


_DONE = const(0x10000000)


def _scan(data, start, end, buf, state, limit):
    # Un-stuff data[start:end] into buf. state = [n, block, code, over, stuffed].
    # Returns the index after a frame delimiter with _DONE set, or end when data ran out.
    n, block, code, over, stuffed = state
    i = start
    while i < end:
        b = data[i]
        i += 1
        if b == 0:
            if code == 0:
                continue                      # idle delimiter between transmissions
            state[0], state[1], state[2], state[3], state[4] = n, block, code, over, stuffed
            return i | _DONE
        stuffed += 1
        if over:
            continue
        if block == 0:
            if code != 0 and code != 0xFF:
                if n >= limit:
                    over = 1
                    continue
                buf[n] = 0
                n += 1
            code = b
            block = b - 1
        else:
            if n >= limit:
                over = 1
                continue
            buf[n] = b
            n += 1
            block -= 1
    state[0], state[1], state[2], state[3], state[4] = n, block, code, over, stuffed
    return i


if sys.implementation.name == "micropython":
    try:                                      # viper twins of the two loops above
        from protocol.fast import stuff_into as _stuff_into, scan as _scan  # noqa: F811
    except (ImportError, ValueError):
        pass


def stuff(content):
    # COBS-encode content and append the 0x00 delimiter.
    out = bytearray(len(content) + len(content) // 254 + 2)
    return bytes(out[:_stuff_into(content, len(content), out)])


def encode_frame(dst, src, seq, flags, type_id, payload, version=VERSION):
    # One complete frame (ending with its delimiter), as a bytearray, for an encoded payload.
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise TooLongError("payload of %d bytes, at most %d" % (n, MAX_PAYLOAD))
    content = bytearray(HEADER_SIZE + n + CRC_SIZE)
    content[0] = ((version & 0x0F) << 4) | (flags & 0x0F)
    content[1] = dst & 0xFF
    content[2] = src & 0xFF
    content[3] = seq & 0xFF
    content[4] = type_id & 0xFF
    content[HEADER_SIZE:HEADER_SIZE + n] = payload
    crc = crc16(content, 0, HEADER_SIZE + n)
    content[HEADER_SIZE + n] = crc >> 8
    content[HEADER_SIZE + n + 1] = crc & 0xFF
    out = bytearray(len(content) + 2)         # content fits one COBS block: 1 code + 1 delimiter
    _stuff_into(content, len(content), out)
    return out


def encode_message(msg, dst, src, seq, flags=None):
    # A frame for a message dict; flags default to the schema's must-deliver setting.
    # The payload is encoded behind room for the header, so nothing is copied twice.
    type_id, content = encode_payload(msg, HEADER_SIZE)
    end = len(content)
    if end - HEADER_SIZE > MAX_PAYLOAD:
        raise TooLongError("payload of %d bytes, at most %d" % (end - HEADER_SIZE, MAX_PAYLOAD))
    if flags is None:
        flags = FLAG_ACK_REQ if must_deliver(type_id) else 0
    content[0] = (VERSION << 4) | (flags & 0x0F)
    content[1] = dst & 0xFF
    content[2] = src & 0xFF
    content[3] = seq & 0xFF
    content[4] = type_id
    crc = crc16(content, 0, end)
    content.append(crc >> 8)
    content.append(crc & 0xFF)
    out = bytearray(end + 4)                  # + CRC, 1 COBS code byte, 1 delimiter
    _stuff_into(content, end + 2, out)
    return out


class StreamDecoder:
    # Feed it bytes as they arrive; it stops at each frame boundary and says what it found.
    # Bad bytes never raise: they are counted per reason and skipped. The per-byte path
    # allocates nothing, so it can run from a UART interrupt-driven loop on a small heap.

    def __init__(self):
        self._buf = bytearray(MAX_CONTENT)
        self._state = array("i", (0, 0, 0, 0, 0))   # n, COBS block left, last code, over, stuffed
        self.result = PENDING
        self.reason = None       # set with REJECTED
        self.length = 0          # stuffed bytes of the frame just finished (with delimiter)
        self.version = 0
        self.flags = 0
        self.dst = 0
        self.src = 0
        self.seq = 0
        self.type_id = 0
        self.crc = 0
        self.payload_end = 0
        self.frames = 0
        self.counts = {}
        for reason in REASONS:
            self.counts[reason] = 0

    def pending(self):
        # Bytes of an unfinished frame held since the last delimiter.
        return self._state[4]

    def _reset(self):
        state = self._state
        state[0] = state[1] = state[2] = state[3] = state[4] = 0

    def feed(self, data, start=0, end=-1):
        # Consume data[start:end] up to and including the next frame delimiter. Returns the
        # index after the last byte consumed; self.result tells whether a frame finished there.
        if end < 0:
            end = len(data)
        state = self._state
        i = _scan(data, start, end, self._buf, state, MAX_CONTENT)
        if i & _DONE:
            self.length = state[4] + 1
            n = state[0]
            block = state[1]
            over = state[3]
            self._reset()
            self._finish(n, block, over)
            return i & ~_DONE
        self.result = PENDING
        return i

    def flush(self):
        # End of input: an unfinished frame is rejected as truncated. Returns self.result.
        if self._state[4]:
            self.length = self._state[4]
            self._reset()
            self._reject(TRUNCATED)
        else:
            self.result = PENDING
        return self.result

    def _reject(self, reason):
        self.result = REJECTED
        self.reason = reason
        self.counts[reason] += 1

    def _finish(self, n, block, over):
        if over:
            self._reject(TOO_LONG)
            return
        if block or n < HEADER_SIZE + CRC_SIZE:
            self._reject(TRUNCATED)
            return
        buf = self._buf
        end = n - CRC_SIZE
        crc = (buf[end] << 8) | buf[end + 1]
        if crc16(buf, 0, end) != crc:
            self._reject(CRC)
            return
        self.crc = crc
        self.version = buf[0] >> 4
        self.flags = buf[0] & 0x0F
        self.dst = buf[1]
        self.src = buf[2]
        self.seq = buf[3]
        self.type_id = buf[4]
        self.payload_end = end
        if self.version > VERSION:
            self._reject(NEWER_VERSION)
            return
        if self.version == 0:
            self._reject(BAD_HEADER)
            return
        pos = spec_pos(self.type_id)
        if pos < 0:
            self._reject(UNKNOWN_TYPE)
            return
        types = spec()
        if not payload_ok(types, pos + 3, pos + 3 + types[pos + 2], buf, HEADER_SIZE, end):
            self._reject(BAD_PAYLOAD)
            return
        self.frames += 1
        self.result = FRAME
        self.reason = None

    def message(self):
        # The message dict of the frame just accepted (allocates; call once per frame).
        if self.result != FRAME:
            raise PayloadError("no accepted frame to decode")
        return decode_payload(self.type_id, self._buf, HEADER_SIZE, self.payload_end, True)

    def payload(self):
        # The raw payload bytes of the frame just accepted.
        return bytes(self._buf[HEADER_SIZE:self.payload_end])

    def rejected(self):
        return sum(self.counts.values())


def iter_frames(data, decoder=None):
    # Host convenience: yields (FRAME, header dict, message) or (REJECTED, reason, length)
    # for each frame boundary in data, then a truncated rejection for a partial tail.
    dec = decoder or StreamDecoder()
    i = 0
    end = len(data)
    while i < end:
        i = dec.feed(data, i, end)
        if dec.result == FRAME:
            yield FRAME, header(dec), dec.message()
        elif dec.result == REJECTED:
            yield REJECTED, dec.reason, dec.length
    if dec.flush() == REJECTED:
        yield REJECTED, dec.reason, dec.length


def header(dec):
    return {"version": dec.version, "flags": dec.flags, "dst": dec.dst, "src": dec.src,
            "seq": dec.seq}
