# The message schema, compact in RAM, built from the readable table in protocol/messages.py:
# type lookups for the codec and the stream decoder, addresses, and the field types.
from array import array

from protocol.compat import const

# Field types. Integers are big-endian on the wire. STR is a u8 byte length then UTF-8.
U8 = const(1)
U16 = const(2)
U32 = const(3)
I8 = const(4)
I16 = const(5)
STR = const(6)    # u8 length + UTF-8 bytes (at most 255 bytes)
U8S = const(7)    # u8 count + that many u8 values
STRS = const(8)   # u8 count + that many STR
BOOL = const(9)   # one byte, 0 or 1

TYPE_NAMES = {U8: "u8", U16: "u16", U32: "u32", I8: "i8", I16: "i16",
              STR: "str", U8S: "u8[]", STRS: "str[]", BOOL: "bool"}

# Addresses on the serial bus.
HUB = const(0x00)
UNASSIGNED = const(0xFE)
BROADCAST = const(0xFF)


# Compact form, built once at import (tuples of tuples cost ~12 KB of a device's heap; this ~2 KB):
#   _SPEC   bytes: per message [type id, must-deliver, field count, field type...]
#   _NAMES  str:   per message "name field field ..." joined by "|"
#   _INDEX  type id -> message number + 1 (0: no such type)
def _compact():
    import sys
    import protocol
    from protocol import messages
    table = messages.MESSAGES
    del sys.modules["protocol.messages"]     # unload: its constant table is most of its size
    delattr(protocol, "messages")
    spec = bytearray()
    names = []
    spec_at = array("H")
    name_at = array("H")
    index = bytearray(256)
    offset = 0
    for number, row in enumerate(table):
        type_id, name, must, fields = row
        index[type_id] = number + 1
        spec_at.append(len(spec))
        spec.append(type_id)
        spec.append(1 if must else 0)
        spec.append(len(fields))
        words = [name]
        for field in fields:
            spec.append(field[1])
            words.append(field[0])
        text = " ".join(words)
        name_at.append(offset)
        offset += len(text) + 1
        names.append(text)
    spec_at.append(len(spec))
    name_at.append(offset)
    return bytes(spec), "|".join(names) + "|", spec_at, name_at, index


_SPEC, _NAMES, _SPEC_AT, _NAME_AT, _INDEX = _compact()
COUNT = len(_SPEC_AT) - 1
del _compact


def spec_pos(type_id):
    # Offset of this type's entry in _SPEC, or -1. Allocates nothing (the decoder's path).
    number = _INDEX[type_id & 0xFF]
    return _SPEC_AT[number - 1] if number else -1


def spec():
    # The compact type table, for payload_ok(): entry at spec_pos() is [id, must, n, types...].
    return _SPEC


def must_deliver(type_id):
    pos = spec_pos(type_id)
    return pos >= 0 and _SPEC[pos + 1] == 1


def row_at(number):
    pos = _SPEC_AT[number]
    words = _NAMES[_NAME_AT[number]:_NAME_AT[number + 1] - 1].split(" ")
    return (_SPEC[pos], words[0], _SPEC[pos + 1] == 1, tuple(words[1:]),
            _SPEC[pos + 3:pos + 3 + _SPEC[pos + 2]])


def by_id(type_id):
    # (type id, name, must-deliver, field names, field types as bytes), or None.
    number = _INDEX[type_id & 0xFF]
    return row_at(number - 1) if number else None


def by_name(name):
    for number in range(COUNT):
        at = _NAME_AT[number]
        end = at + len(name)
        if _NAMES.startswith(name, at) and _NAMES[end] in " |":
            return row_at(number)
    return None


def rows():
    # Every message row in table order (host tools, SPEC generation).
    return [row_at(number) for number in range(COUNT)]


# Codes carried in U8 fields; protocol/codes.py names them all (host tools load it, devices need not).
NAK_UNKNOWN_TYPE = const(1)
NAK_BAD_PAYLOAD = const(2)
NAK_BUSY = const(3)
NAK_NEWER_VERSION = const(4)

KIND_ORDINARY = const(0)
KIND_PRIORITY = const(1)
KIND_APPOINTMENT = const(2)


def lookup(name_or_id):
    # The schema row for a message name or type id; None when the schema has no such message.
    if isinstance(name_or_id, int):
        return by_id(name_or_id)
    return by_name(name_or_id)
