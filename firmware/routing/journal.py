# The routing core's append-only journal: self-delimiting records with a sequence number and a
# CRC, read past damage (a damaged record is counted, the intact ones after it are kept), written
# durably (synced before append returns), and compacted into a verified snapshot that replaces
# the old file only once it is on storage, the previous generation kept beside it.
# Record (ROUTING.md "Journal"): "QJ" | u16 n | u32 seq | kind u8 | body (n - 1) | crc16 over
# n, seq, kind and body.
from array import array

from protocol.crc import crc16

KIND_OP = 1        # body: serialized (op, now, args...)
KIND_SNAPSHOT = 2  # body: serialized state
KIND_VOID = 4      # body: packed byte count: the bytes just before this record are void

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


MAGIC0 = 0x51      # "Q"
MAGIC1 = 0x4A      # "J"
HEADER = 9         # magic 2, n 2, seq 4, kind 1
OVERHEAD = 11      # header and CRC


def record(kind, body, seq=0):
    # One framed journal record.
    n = len(body) + 1
    if n > MAX_RECORD:
        raise JournalError("record of %d bytes" % n)
    out = bytearray(HEADER)
    out[0] = MAGIC0
    out[1] = MAGIC1
    out[2] = n >> 8
    out[3] = n & 0xFF
    out[4] = (seq >> 24) & 0xFF
    out[5] = (seq >> 16) & 0xFF
    out[6] = (seq >> 8) & 0xFF
    out[7] = seq & 0xFF
    out[8] = kind
    out.extend(body)
    crc = crc16(out, 2, len(out))
    out.append(crc >> 8)
    out.append(crc & 0xFF)
    return out


class StorageError(JournalError):
    # A write did not reach stable storage (disk full, I/O error): nothing of it counts.
    pass


class Damage:
    # What a read of a journal found besides its intact records.
    def __init__(self):
        self.lost = 0          # records that could not be read (by sequence gap, or at least one)
        self.regions = 0       # damaged stretches of bytes
        self.bad_bytes = 0
        self.torn = 0          # bytes of a record cut short at the end (a power cut): not acked
        self.first_lost = -1   # the sequence number of the first record lost, if known
        self.from_previous = False   # the snapshot was lost: replayed the previous generation

    def any(self):
        return self.lost > 0 or self.regions > 0


def _crc_at(buf, at, n):
    return (buf[at + n + HEADER - 1] << 8) | buf[at + n + HEADER]


class Reader:
    # Reads the records of one storage, oldest first, and never changes it. records() yields
    # (kind, body, seq) for each intact record, stepping over damage byte by byte to the next
    # record that checks; `damage` says what was stepped over. The bytes a VOID record covers
    # (a write that failed part way, a tail torn by a power cut) count for nothing.
    def __init__(self, storage):
        self.storage = storage
        self.damage = Damage()
        self.last_seq = -1

    def _fill(self, need):
        # At least `need` bytes from self.at on, unless the file ends first.
        while len(self.buf) - self.at < need and not self.eof:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.eof = True
                break
            keep = self.at
            if self.bad >= 0:   # keep a damaged stretch short enough to be a torn record
                keep = max(min(keep, self.bad - self.base), self.at - MAX_RECORD - OVERHEAD)
            if keep > 0:
                self.buf = self.buf[keep:]   # (MicroPython's bytearray has no slice deletion)
                self.base += keep
                self.at -= keep
            self.buf.extend(chunk)
        return len(self.buf) - self.at >= need

    def _skip(self):
        if self.bad < 0:
            self.bad = self.base + self.at
        self.at += 1

    def records(self):
        self.buf = buf = bytearray()
        self.base = self.at = 0
        self.eof = False
        self.bad = -1               # file offset where the current damaged stretch began
        self.chunks = self.storage.chunks()
        dmg = self.damage
        held = None                 # (kind, body, seq, offset), yielded once the next is read
        expected = 0                # the next sequence number if nothing is lost
        while self._fill(2):
            buf = self.buf
            at = self.at
            if buf[at] != MAGIC0 or buf[at + 1] != MAGIC1:
                self._skip()
                continue
            if not self._fill(HEADER + 2):
                break
            buf = self.buf
            at = self.at
            n = (buf[at + 2] << 8) | buf[at + 3]
            if n == 0 or not self._fill(n + OVERHEAD - 1):
                self._skip()
                continue
            buf = self.buf
            at = self.at
            if crc16(buf, at + 2, at + HEADER + n - 1) != _crc_at(buf, at, n):
                self._skip()
                continue
            offset = self.base + at
            seq = (buf[at + 4] << 24) | (buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]
            kind = buf[at + 8]
            body = bytes(buf[at + HEADER:at + HEADER + n - 1])
            self.at = at + n + OVERHEAD - 1
            bad = self.bad
            self.bad = -1
            if kind == KIND_VOID:
                void_from = offset - unpack(body)[0]
                if held is not None and held[3] >= void_from:
                    expected = held[2]
                    held = None
                if bad >= void_from:
                    bad = -1
                elif bad >= 0:
                    offset = void_from
            if bad >= 0:
                dmg.regions += 1
                dmg.bad_bytes += offset - bad
                if seq <= expected:
                    dmg.lost += 1         # (the stretch held at least one record)
                    if dmg.first_lost < 0:
                        dmg.first_lost = expected
            if seq > expected:
                if dmg.first_lost < 0:
                    dmg.first_lost = expected
                dmg.lost += seq - expected
            expected = seq + 1
            self.last_seq = seq
            if held is not None:
                yield held[0], held[1], held[2]
            held = None if kind == KIND_VOID else (kind, body, seq, offset)
        if held is not None:
            yield held[0], held[1], held[2]
        end = self.base + len(self.buf)
        start = self.bad if self.bad >= 0 else self.base + self.at
        if start < end:
            if self._torn(start - self.base):
                dmg.torn = end - start            # a write cut short: it was never acknowledged
            else:
                dmg.regions += 1
                dmg.bad_bytes += end - start
                dmg.lost += max(1, (end - start) // MIN_RECORD)
                if dmg.first_lost < 0:
                    dmg.first_lost = expected

    def _torn(self, at):
        # The tail is the start of one record whose write was cut short: a prefix of a header,
        # or a header announcing more bytes than follow (and not a whole record whose length
        # field alone was damaged).
        buf = self.buf
        left = len(buf) - at
        if at < 0 or buf[at] != MAGIC0 or (left > 1 and buf[at + 1] != MAGIC1):
            return False
        if left < 4:
            return True
        n = (buf[at + 2] << 8) | buf[at + 3]
        if n == 0 or left >= n + OVERHEAD - 1:
            return False
        whole = left - OVERHEAD + 1
        if whole < 1:
            return True
        buf[at + 2] = whole >> 8
        buf[at + 3] = whole & 0xFF
        flipped = crc16(buf, at + 2, at + HEADER + whole - 1) == _crc_at(buf, at, whole)
        buf[at + 2] = n >> 8
        buf[at + 3] = n & 0xFF
        return not flipped


MIN_RECORD = OVERHEAD + 6    # the smallest operation record: a bound on how many a stretch held


def read_records(storage):
    # (kind, body) for each intact record of a storage, damage stepped over; never writes.
    for kind, body, seq in Reader(storage).records():
        yield kind, body


class Journal:
    # The routing core's journal on a storage: sequence numbers, durable appends, voiding of
    # what a failed or torn write left, compaction into a verified snapshot, and reading that
    # falls back on the previous generation when this one's snapshot cannot be read.
    def __init__(self, storage):
        self.storage = storage
        self.seq = 0                # the next record's sequence number
        self.void = 0               # bytes at the end of the file to void before the next record
        self.damage = Damage()
        self.failures = 0           # writes that did not reach storage
        self.end = None             # where the last good record ends (asked of the storage once)

    def replay(self):
        # (kind, body) of every readable record, the previous generation's first when this
        # generation's snapshot (sequence 0) is lost.
        reader = Reader(self.storage)
        started = False
        for kind, body, seq in reader.records():
            if not started:
                started = True
                if reader.damage.first_lost == 0:
                    for item in self._previous():
                        yield item
            yield kind, body
        if not started and reader.damage.any():
            for item in self._previous():
                yield item
        reader.damage.from_previous = self.damage.from_previous
        self.damage = reader.damage
        self.void = reader.damage.torn     # a torn tail is voided by the next record written
        self.seq = reader.last_seq + 1

    def _previous(self):
        previous = self.storage.previous()
        if previous is not None:
            self.damage.from_previous = True
            for item in read_records(previous):
                yield item

    def append(self, kind, body):
        # Write one record; return once it is on stable storage. StorageError if it is not:
        # then nothing of it counts, and the next record written voids what reached the file.
        seq = self.seq
        chunk = record(kind, body, seq)
        if self.void:
            chunk = record(KIND_VOID, pack(self.void), seq) + record(kind, body, seq + 1)
        storage = self.storage
        if self.end is None:
            self.end = storage.size() - self.void
        try:
            storage.append(chunk)
        except OSError as exc:
            self.failures += 1
            self.void = storage.size() - self.end     # what of it reached the file, and before
            raise StorageError("journal write failed: %s" % (exc,))
        self.end += len(chunk)
        self.seq = seq + (2 if self.void else 1)
        self.void = 0

    def compact(self, body, aside=False):
        # Replace the journal by one snapshot, written, synced and read back before it counts;
        # the old file becomes the previous generation, or with aside=True is kept as damaged.
        self.storage.replace((record(KIND_SNAPSHOT, body, 0),), aside)
        self.seq = 1
        self.void = 0
        self.end = None


class MemoryStorage:
    # Storage in RAM (tests, the simulator), with a file's semantics: `data` is what the file
    # holds, `prev` the previous generation, `aside` the damaged files set aside.
    def __init__(self, data=b"", prev=None):
        self.data = bytearray(data)
        self.prev = prev
        self.aside = []
        self.appends = 0

    def append(self, chunk):
        self.data.extend(chunk)
        self.appends += 1

    def chunks(self, size=512):
        for i in range(0, len(self.data), size):
            yield bytes(self.data[i:i + size])

    def replace(self, chunks, aside=False):
        data = bytearray()
        for chunk in chunks:
            data.extend(chunk)
        if aside:
            self.aside.append(bytes(self.data))
        else:
            self.prev = MemoryStorage()
            self.prev.data = self.data
        self.data = data

    def previous(self):
        return self.prev

    def size(self):
        return len(self.data)


def _sync(f):
    # Stable storage before we go on: fsync on a host; LittleFS commits the file on flush.
    f.flush()
    try:
        import os
        os.fsync(f.fileno())
    except (AttributeError, ImportError):
        pass


def _sync_dir(path):
    # A host filesystem makes a rename durable only once the directory is synced.
    try:
        import os
        fd = os.open(path.rpartition("/")[0] or ".", os.O_RDONLY)
    except (AttributeError, ImportError, OSError):
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exists(path):
    import os
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class FileStorage:
    # A journal file (LittleFS on the ESP32, any filesystem on a host). append() returns once
    # the bytes are synced, with nothing left in a buffer to be written later; replace() writes
    # a new file, syncs it, reads it back, and only then renames it over the old one, which is
    # kept as PATH.prev (or, set aside as damaged, as PATH.damaged-N).
    def __init__(self, path):
        self.path = path
        self._file = None
        if not _exists(path) and _exists(path + ".new"):
            self._finish_replace()        # power lost between a replace's two renames

    def _open(self):
        if self._file is None:
            try:
                self._file = open(self.path, "ab", buffering=0)
            except TypeError:             # (a port whose open() takes no buffering)
                self._file = open(self.path, "ab")
        return self._file

    def append(self, chunk):
        f = self._open()
        try:
            n = f.write(chunk)
            if n is not None and n != len(chunk):
                raise OSError(28, "short write")     # ENOSPC
            _sync(f)
        except OSError:
            self.close()                  # a later append starts from what the file holds
            raise

    def chunks(self, size=512):
        return _chunks(self.path, size)

    def replace(self, chunks, aside=False):
        import os
        self.close()
        tmp = self.path + ".new"
        crc = 0xFFFF
        length = 0
        try:
            with open(tmp, "wb") as f:
                for chunk in chunks:
                    if f.write(chunk) != len(chunk):
                        raise OSError(28, "short write")
                    crc = _crc_more(crc, chunk)
                    length += len(chunk)
                _sync(f)
            check = 0xFFFF
            got = 0
            for chunk in _chunks(tmp, 512):
                check = _crc_more(check, chunk)
                got += len(chunk)
            if check != crc or got != length:
                raise OSError(5, "the new journal did not read back as written")   # EIO
        except OSError:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
        if _exists(self.path):
            os.rename(self.path, self._aside_name() if aside else self.path + ".prev")
        self._finish_replace()

    def _finish_replace(self):
        import os
        os.rename(self.path + ".new", self.path)
        _sync_dir(self.path)

    def _aside_name(self):
        k = 1
        while _exists("%s.damaged-%d" % (self.path, k)):
            k += 1
        return "%s.damaged-%d" % (self.path, k)

    def previous(self):
        prev = self.path + ".prev"
        return _ReadOnlyFile(prev) if _exists(prev) else None

    def size(self):
        import os
        try:
            return os.stat(self.path)[6]
        except OSError:
            return 0

    def close(self):
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None


def _crc_more(crc, chunk):
    # Continue a CRC-16 over one more chunk (a file checked as it is read back).
    from protocol.crc import _TABLE
    for b in chunk:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ b]
    return crc


def _chunks(path, size):
    try:
        f = open(path, "rb")
    except OSError:
        return
    with f:
        while True:
            chunk = f.read(size)
            if not chunk:
                return
            yield chunk


class Head:
    # The first `length` bytes of a storage, read-only (a rollback replays what was synced).
    def __init__(self, storage, length):
        self.storage = storage
        self.length = length

    def chunks(self, size=512):
        left = self.length
        for chunk in self.storage.chunks(size):
            if left <= 0:
                return
            yield chunk[:left]
            left -= len(chunk)

    def previous(self):
        return self.storage.previous()


class _ReadOnlyFile:
    def __init__(self, path):
        self.path = path

    def chunks(self, size=512):
        return _chunks(self.path, size)


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
        self.storage.append(record(KIND_DAY, pack(summary), self.count))
        self.count += 1
        if self.count > self.keep:
            drop = self.count - self.keep
            kept = [record(kind, body, k) for k, (kind, body) in
                    enumerate(list(read_records(self.storage))[drop:])]
            self.storage.replace(kept)
            self.count = len(kept)


def read_days(storage):
    # The day summaries in an archive, oldest first; a day archived twice (a hub that lost
    # power between archiving and journalling its close) counts once, the later copy.
    return read_days_checked(storage)[0]


def read_days_checked(storage):
    # (days as read_days gives them, the Damage found on the way, records of other kinds).
    days = {}
    reader = Reader(storage)
    other = 0
    for kind, body, seq in reader.records():
        if kind == KIND_DAY:
            summary = unpack(body)[0]
            days[(summary.get("hall"), summary.get("day"))] = summary
        else:
            other += 1
    return [days[k] for k in sorted(days, key=lambda k: (k[1], str(k[0])))], reader.damage, other
