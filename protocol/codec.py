# Binary payload codec driven by the schema: message dict <-> payload bytes.
# A message is a dict {"type": name, field: value, ...}; field order comes from the schema.
# Each field type is handled inline: this runs for every message a hub sends or receives.
from protocol.compat import micropython
from protocol.errors import PayloadError, UnknownTypeError
from protocol.schema import (SPEC, SPEC_AT, FIELDS, NAMES, number_of, number_of_id,
                             U8, U16, U32, I8, I16, STR, U8S, STRS, BOOL, TYPE_NAMES)


def number_for(name):
    # The message number of a message name; UnknownTypeError for anything else.
    number = number_of(name) if isinstance(name, str) else -2
    if number < 0:
        if number == -2:
            raise UnknownTypeError("a message needs a \"type\" naming its message type")
        raise UnknownTypeError("unknown message type %r" % (name,))
    return number


def fields_of(name):
    # The field names of a message type, in wire order.
    return FIELDS[number_for(name)]


def _bad(name, ftype, value):
    if type(value) is not int:
        return PayloadError("field %s: expected %s, got %s" % (name, TYPE_NAMES[ftype], type(value).__name__))
    return PayloadError("field %s: %d out of range for %s" % (name, value, TYPE_NAMES[ftype]))


def _put_str(out, name, value):
    if type(value) is not str:
        raise PayloadError("field %s: expected str, got %s" % (name, type(value).__name__))
    try:
        raw = value.encode()
    except UnicodeError:                  # a lone surrogate from JSON ("\ud800") is no text
        raise PayloadError("field %s: not valid Unicode text" % name)
    if len(raw) > 255:
        raise PayloadError("field %s: %d bytes of UTF-8, at most 255" % (name, len(raw)))
    out.append(len(raw))
    out.extend(raw)


@micropython.native
def encode_payload(msg, reserve=0):
    # Returns (type id, payload bytes); raises PayloadError naming the offending field.
    # With reserve=N the bytearray starts with N zero bytes for a header to fill in place.
    if not isinstance(msg, dict):
        raise PayloadError("a message is a JSON object")
    number = number_for(msg.get("type"))
    names = FIELDS[number]
    at = SPEC_AT[number] + 3
    out = bytearray(reserve)
    for k in range(len(names)):
        name = names[k]
        ftype = SPEC[at + k]
        if name not in msg:
            raise PayloadError("%s: missing field %s" % (NAMES[number], name))
        v = msg[name]
        if ftype == STR:
            _put_str(out, name, v)
        elif type(v) is int:      # bool is not int here: JSON true is not a number
            if ftype == U8:
                if v < 0 or v > 0xFF:
                    raise _bad(name, ftype, v)
                out.append(v)
            elif ftype == U16:
                if v < 0 or v > 0xFFFF:
                    raise _bad(name, ftype, v)
                out.append(v >> 8)
                out.append(v & 0xFF)
            elif ftype == U32:
                if v < 0 or v > 0xFFFFFFFF:
                    raise _bad(name, ftype, v)
                out.append(v >> 24)
                out.append((v >> 16) & 0xFF)
                out.append((v >> 8) & 0xFF)
                out.append(v & 0xFF)
            elif ftype == I8:
                if v < -0x80 or v > 0x7F:
                    raise _bad(name, ftype, v)
                out.append(v & 0xFF)
            elif ftype == I16:
                if v < -0x8000 or v > 0x7FFF:
                    raise _bad(name, ftype, v)
                out.append((v >> 8) & 0xFF)
                out.append(v & 0xFF)
            else:
                raise _bad(name, ftype, v)
        elif ftype == BOOL:
            if v is not True and v is not False:
                raise PayloadError("field %s: expected bool" % name)
            out.append(1 if v else 0)
        elif ftype == U8S:
            if type(v) is not list or len(v) > 255:
                raise PayloadError("field %s: expected a list of at most 255 u8" % name)
            out.append(len(v))
            for item in v:
                if type(item) is not int or item < 0 or item > 0xFF:
                    raise _bad(name, U8, item)
                out.append(item)
        elif ftype == STRS:
            if type(v) is not list or len(v) > 255:
                raise PayloadError("field %s: expected a list of at most 255 str" % name)
            out.append(len(v))
            for item in v:
                _put_str(out, name, item)
        else:
            raise _bad(name, ftype, v)
    if len(msg) != len(names) + 1:
        for key in msg:
            if key != "type" and key not in names:
                raise PayloadError("%s: unknown field %s" % (NAMES[number], key))
    return SPEC[at - 3], out


@micropython.native
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


@micropython.native
def _str_ok(buf, i, end):
    # Index after a valid STR starting at i, or -1.
    if i >= end:
        return -1
    n = buf[i]
    i += 1
    if i + n > end or not _utf8_ok(buf, i, i + n):
        return -1
    return i + n


@micropython.native
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
        elif ftype == U8 or ftype == I8:
            i += 1
        elif ftype == U16 or ftype == I16:
            i += 2
        elif ftype == U32:
            i += 4
        elif ftype == BOOL:
            if i >= end or buf[i] > 1:
                return False
            i += 1
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
        else:
            return False
        if i > end:
            return False
    return i == end


@micropython.native
def decode_payload(type_id, buf, i, end, checked=False):
    # The message dict for a payload; checked=True when payload_ok() already accepted it.
    number = number_of_id(type_id)
    if number < 0:
        raise UnknownTypeError("unknown message type id %d" % type_id)
    names = FIELDS[number]
    at = SPEC_AT[number] + 3
    if not checked and not payload_ok(SPEC, at, at + len(names), buf, i, end):
        raise PayloadError("%s: payload does not match the schema" % NAMES[number])
    msg = dict.fromkeys(names)                # sized once, not grown field by field
    msg["type"] = NAMES[number]
    for k in range(len(names)):
        ftype = SPEC[at + k]
        if ftype == STR:
            n = buf[i]
            v = str(buf[i + 1:i + 1 + n], "utf-8")
            i += 1 + n
        elif ftype == U8:
            v = buf[i]
            i += 1
        elif ftype == U16:
            v = (buf[i] << 8) | buf[i + 1]
            i += 2
        elif ftype == U32:
            v = (buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]
            i += 4
        elif ftype == I8:
            v = buf[i] - 0x100 if buf[i] & 0x80 else buf[i]
            i += 1
        elif ftype == I16:
            v = (buf[i] << 8) | buf[i + 1]
            if v & 0x8000:
                v -= 0x10000
            i += 2
        elif ftype == BOOL:
            v = buf[i] == 1
            i += 1
        elif ftype == U8S:
            n = buf[i]
            v = list(buf[i + 1:i + 1 + n])
            i += 1 + n
        else:                                   # STRS
            count = buf[i]
            i += 1
            v = []
            while count:
                n = buf[i]
                v.append(str(buf[i + 1:i + 1 + n], "utf-8"))
                i += 1 + n
                count -= 1
        msg[names[k]] = v
    return msg
