# The routing core's append-only journal: records framed with a length and a CRC, a torn tail
# detected and cut on replay, and compaction into a snapshot plus the records after it.
# Record: u16 length (big-endian) | kind u8 | body | crc16 over kind+body.
from array import array

from protocol.crc import crc16

KIND_OP = 1        # body: serialized (op, now, args...)
KIND_SNAPSHOT = 2  # body: serialized state

_INT = 0x01
_NEG = 0x02
_STR = 0x03
_BYTES = 0x04
_LIST = 0x05
_NONE = 0x06
_TRUE = 0x07
_FALSE = 0x08
_ARRAY = 0x09
_TUPLE = 0x0A
_DICT = 0x0B

MAX_RECORD = 0xFFFF


class JournalError(Exception):
    pass


def _varint(out, n):
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def pack(value, out=None):
    # Canonical binary form of int/str/bytes/None/bool/list/tuple/dict/array: equal states give
    # equal bytes, so a packed state doubles as its fingerprint.
    if out is None:
        out = bytearray()
    t = type(value)
    if t is int:
        if value >= 0:
            out.append(_INT)
            _varint(out, value)
        else:
            out.append(_NEG)
            _varint(out, -value)
    elif t is str:
        raw = value.encode()
        out.append(_STR)
        _varint(out, len(raw))
        out.extend(raw)
    elif t is bytes or t is bytearray:
        out.append(_BYTES)
        _varint(out, len(value))
        out.extend(value)
    elif value is None:
        out.append(_NONE)
    elif value is True:
        out.append(_TRUE)
    elif value is False:
        out.append(_FALSE)
    elif t is list or t is tuple:
        out.append(_LIST if t is list else _TUPLE)
        _varint(out, len(value))
        for item in value:
            pack(item, out)
    elif t is dict:
        out.append(_DICT)
        keys = sorted(value)
        _varint(out, len(keys))
        for key in keys:
            pack(key, out)
            pack(value[key], out)
    elif t is array:
        out.append(_ARRAY)
        out.append(ord(repr(value)[7]))   # "array('H', ...)": MicroPython has no .typecode
        _varint(out, len(value))
        for item in value:
            _varint(out, item & 0xFFFFFFFF)
    else:
        raise JournalError("cannot journal a %s" % t.__name__)
    return out


def _get_varint(buf, i):
    n = 0
    shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def unpack(buf, i=0):
    # (value, next index) for the packed value at buf[i].
    tag = buf[i]
    i += 1
    if tag == _INT:
        return _get_varint(buf, i)
    if tag == _NEG:
        n, i = _get_varint(buf, i)
        return -n, i
    if tag == _STR or tag == _BYTES:
        n, i = _get_varint(buf, i)
        raw = bytes(buf[i:i + n])
        return (raw.decode() if tag == _STR else raw), i + n
    if tag == _NONE:
        return None, i
    if tag == _TRUE:
        return True, i
    if tag == _FALSE:
        return False, i
    if tag == _LIST or tag == _TUPLE:
        n, i = _get_varint(buf, i)
        items = []
        for _ in range(n):
            item, i = unpack(buf, i)
            items.append(item)
        return (items if tag == _LIST else tuple(items)), i
    if tag == _DICT:
        n, i = _get_varint(buf, i)
        d = {}
        for _ in range(n):
            key, i = unpack(buf, i)
            d[key], i = unpack(buf, i)
        return d, i
    if tag == _ARRAY:
        code = chr(buf[i])
        n, i = _get_varint(buf, i + 1)
        arr = array(code)
        signed = code in "bhil"
        for _ in range(n):
            v, i = _get_varint(buf, i)
            if signed and v >= 0x80000000:
                v -= 0x100000000
            arr.append(v)
        return arr, i
    raise JournalError("bad tag %d" % tag)


def record(kind, body):
    # One framed journal record.
    n = len(body) + 1
    if n > MAX_RECORD:
        raise JournalError("record of %d bytes" % n)
    out = bytearray(2)
    out[0] = n >> 8
    out[1] = n & 0xFF
    out.append(kind)
    out.extend(body)
    crc = crc16(out, 2, len(out))
    out.append(crc >> 8)
    out.append(crc & 0xFF)
    return out


class MemoryStorage:
    # Storage in RAM (tests, the simulator). `data` is what a file would hold.
    def __init__(self, data=b""):
        self.data = bytearray(data)
        self.appends = 0

    def append(self, chunk):
        self.data.extend(chunk)
        self.appends += 1

    def chunks(self, size=512):
        for i in range(0, len(self.data), size):
            yield bytes(self.data[i:i + size])

    def truncate(self, length):
        del self.data[length:]

    def replace(self, chunks):
        data = bytearray()
        for chunk in chunks:
            data.extend(chunk)
        self.data = data

    def size(self):
        return len(self.data)


class FileStorage:
    # A journal file (LittleFS on the ESP32, any filesystem on a host). append() returns once
    # the bytes are flushed; replace() writes a new file and renames it over the old one.
    def __init__(self, path):
        self.path = path
        self._file = None

    def _open(self):
        if self._file is None:
            self._file = open(self.path, "ab")
        return self._file

    def append(self, chunk):
        f = self._open()
        f.write(chunk)
        f.flush()

    def chunks(self, size=512):
        try:
            f = open(self.path, "rb")
        except OSError:
            return
        with f:
            while True:
                chunk = f.read(size)
                if not chunk:
                    return
                yield chunk

    def truncate(self, length):
        # Keep the first `length` bytes, copied in chunks (MicroPython files cannot truncate).
        self.replace(self._head(length))

    def _head(self, length):
        kept = 0
        for chunk in self.chunks():
            if kept >= length:
                return
            chunk = chunk[:length - kept]
            kept += len(chunk)
            yield chunk

    def replace(self, chunks):
        import os
        self.close()
        tmp = self.path + ".new"
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.rename(tmp, self.path)

    def size(self):
        import os
        try:
            return os.stat(self.path)[6]
        except OSError:
            return 0

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def read_records(storage):
    # Yields (kind, body) for each intact record; stops at the first torn or corrupt one and
    # cuts the storage there, so the next append follows the last good record.
    pending = b""
    good = 0
    torn = False
    for chunk in storage.chunks():
        pending = pending + chunk
        at = 0
        while len(pending) - at >= 2:
            n = (pending[at] << 8) | pending[at + 1]
            if n == 0:
                torn = True
                break
            if len(pending) - at < n + 4:
                break
            crc = (pending[at + n + 2] << 8) | pending[at + n + 3]
            if crc16(pending, at + 2, at + n + 2) != crc:
                torn = True
                break
            yield pending[at + 2], pending[at + 3:at + n + 2]
            at += n + 4
            good += n + 4
        if torn:
            break
        pending = pending[at:]
    if torn or pending:
        storage.truncate(good)


KIND_DAY = 3       # body: serialized day summary (RoutingCore.day_summary), in a day archive


class DayArchive:
    # The hub's closed days (days.bin beside the journal), one record each, for monthly
    # reports (hallctl report). Only the newest `keep` days are kept: a record is about 2 KB
    # for a mid-size hall, so 100 days fit an ESP32's filesystem.
    def __init__(self, storage, keep=100):
        self.storage = storage
        self.keep = keep
        self.count = None

    def add(self, summary):
        if self.count is None:
            self.count = sum(1 for _ in read_records(self.storage))
        self.storage.append(record(KIND_DAY, pack(summary)))
        self.count += 1
        if self.count > self.keep:
            drop = self.count - self.keep
            kept = [record(kind, body) for kind, body in read_records(self.storage)][drop:]
            self.storage.replace(kept)
            self.count = len(kept)


def read_days(storage):
    # The day summaries in an archive, oldest first; a day archived twice (a hub that lost
    # power between archiving and journalling its close) counts once, the later copy.
    days = {}
    for kind, body in read_records(storage):
        if kind == KIND_DAY:
            summary = unpack(body)[0]
            days[(summary.get("hall"), summary.get("day"))] = summary
    return [days[k] for k in sorted(days, key=lambda k: (k[1], str(k[0])))]
