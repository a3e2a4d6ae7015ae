# Binary payload codec driven by the schema table: message dict <-> payload bytes.
# A message is a dict {"type": name, field: value, ...}; field order comes from the schema.
from protocol.errors import PayloadError, UnknownTypeError
from protocol.schema import (by_id, by_name, U8, U16, U32, I8, I16, STR, U8S, STRS, BOOL,
                             TYPE_NAMES)

_INT_RANGES = {U8: (0, 0xFF), U16: (0, 0xFFFF), U32: (0, 0xFFFFFFFF),
               I8: (-0x80, 0x7F), I16: (-0x8000, 0x7FFF)}
_INT_SIZES = {U8: 1, U16: 2, U32: 4, I8: 1, I16: 2}


def _check_int(name, ftype, value):
    if not isinstance(value, int) or value is True or value is False:
        raise PayloadError("field %s: expected %s, got %s" % (name, TYPE_NAMES[ftype], type(value).__name__))
    lo, hi = _INT_RANGES[ftype]
    if value < lo or value > hi:
        raise PayloadError("field %s: %d out of range %d..%d" % (name, value, lo, hi))


def _utf8(name, value):
    if not isinstance(value, str):
        raise PayloadError("field %s: expected str, got %s" % (name, type(value).__name__))
    raw = value.encode()
    if len(raw) > 255:
        raise PayloadError("field %s: %d bytes of UTF-8, at most 255" % (name, len(raw)))
    return raw


def _put_int(out, ftype, value):
    size = _INT_SIZES[ftype]
    if value < 0:
        value += 1 << (8 * size)
    while size:
        size -= 1
        out.append((value >> (8 * size)) & 0xFF)


def row_for(name):
    row = by_name(name)
    if row is None:
        raise UnknownTypeError("unknown message type %r" % (name,))
    return row


def encode_payload(msg):
    # Returns (type id, payload bytes); raises PayloadError naming the offending field.
    if not isinstance(msg, dict):
        raise PayloadError("a message is a JSON object")
    row = row_for(msg.get("type"))
    names = row[3]
    types = row[4]
    out = bytearray()
    for k in range(len(names)):
        name = names[k]
        ftype = types[k]
        if name not in msg:
            raise PayloadError("%s: missing field %s" % (row[1], name))
        value = msg[name]
        if ftype == STR:
            raw = _utf8(name, value)
            out.append(len(raw))
            out.extend(raw)
        elif ftype == BOOL:
            if value is not True and value is not False:
                raise PayloadError("field %s: expected bool" % name)
            out.append(1 if value else 0)
        elif ftype == U8S:
            if not isinstance(value, list) or len(value) > 255:
                raise PayloadError("field %s: expected a list of at most 255 u8" % name)
            out.append(len(value))
            for item in value:
                _check_int(name, U8, item)
                out.append(item)
        elif ftype == STRS:
            if not isinstance(value, list) or len(value) > 255:
                raise PayloadError("field %s: expected a list of at most 255 str" % name)
            out.append(len(value))
            for item in value:
                raw = _utf8(name, item)
                out.append(len(raw))
                out.extend(raw)
        else:
            _check_int(name, ftype, value)
            _put_int(out, ftype, value)
    if len(msg) != len(names) + 1:
        for key in msg:
            if key != "type" and key not in names:
                raise PayloadError("%s: unknown field %s" % (row[1], key))
    return row[0], out


def _utf8_ok(buf, i, end):
    # Strict UTF-8 check without allocating (runs in the decoder's per-frame path).
    while i < end:
        b = buf[i]
        if b < 0x80:
            i += 1
            continue
        if 0xC2 <= b <= 0xDF:
            n = 1
        elif 0xE0 <= b <= 0xEF:
            n = 2
        elif 0xF0 <= b <= 0xF4:
            n = 3
        else:
            return False
        if i + n >= end:
            return False
        j = i + 1
        while j <= i + n:
            if buf[j] & 0xC0 != 0x80:
                return False
            j += 1
        c1 = buf[i + 1]
        if (b == 0xE0 and c1 < 0xA0) or (b == 0xED and c1 > 0x9F) or \
           (b == 0xF0 and c1 < 0x90) or (b == 0xF4 and c1 > 0x8F):
            return False
        i += n + 1
    return True


def _str_ok(buf, i, end):
    # Index after a valid STR starting at i, or -1.
    if i >= end:
        return -1
    n = buf[i]
    i += 1
    if i + n > end or not _utf8_ok(buf, i, i + n):
        return -1
    return i + n


def payload_ok(types, k, k_end, buf, i, end):
    # True when buf[i:end] is exactly one payload of the field types types[k:k_end].
    # Allocates nothing: the stream decoder calls it for every frame.
    while k < k_end:
        ftype = types[k]
        k += 1
        if ftype == STR:
            i = _str_ok(buf, i, end)
            if i < 0:
                return False
        elif ftype == U8S:
            if i >= end:
                return False
            i += 1 + buf[i]
        elif ftype == STRS:
            if i >= end:
                return False
            count = buf[i]
            i += 1
            while count:
                i = _str_ok(buf, i, end)
                if i < 0:
                    return False
                count -= 1
        elif ftype == BOOL:
            if i >= end or buf[i] > 1:
                return False
            i += 1
        else:
            i += _INT_SIZES[ftype]
        if i > end:
            return False
    return i == end


def _get_int(buf, i, ftype):
    size = _INT_SIZES[ftype]
    value = 0
    for k in range(size):
        value = (value << 8) | buf[i + k]
    if ftype == I8 and value >= 0x80:
        value -= 0x100
    elif ftype == I16 and value >= 0x8000:
        value -= 0x10000
    return value, i + size


def _get_str(buf, i):
    n = buf[i]
    return bytes(buf[i + 1:i + 1 + n]).decode(), i + 1 + n


def decode_payload(type_id, buf, i, end):
    # The message dict for a payload that payload_ok() accepted.
    row = by_id(type_id)
    if row is None:
        raise UnknownTypeError("unknown message type id %d" % type_id)
    types = row[4]
    if not payload_ok(types, 0, len(types), buf, i, end):
        raise PayloadError("%s: payload does not match the schema" % row[1])
    msg = {"type": row[1]}
    names = row[3]
    for k in range(len(names)):
        name = names[k]
        ftype = types[k]
        if ftype == STR:
            value, i = _get_str(buf, i)
        elif ftype == U8S:
            n = buf[i]
            value = list(buf[i + 1:i + 1 + n])
            i += 1 + n
        elif ftype == STRS:
            count = buf[i]
            i += 1
            value = []
            while count:
                item, i = _get_str(buf, i)
                value.append(item)
                count -= 1
        elif ftype == BOOL:
            value = buf[i] == 1
            i += 1
        else:
            value, i = _get_int(buf, i, ftype)
        msg[name] = value
    return msg
