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


# Compact form, built once at import (the table's own tuples would cost ~12 KB of a device's
# heap for as long as the module lived; this is ~4 KB):
#   SPEC     bytes: per message [type id, must-deliver, field count, field type...]
#   SPEC_AT  message number -> offset of its entry in SPEC
#   FIELDS   message number -> tuple of field names (the table's interned strings, not copies)
#   NAMES    message number -> message name
#   _INDEX   type id -> message number + 1 (0: no such type)
def _compact():
    import sys
    import protocol
    from protocol import messages
    table = messages.MESSAGES
    del sys.modules["protocol.messages"]     # unload: its constant table is most of its size
    delattr(protocol, "messages")
    spec = bytearray()
    spec_at = array("H")
    fields = []
    names = []
    index = bytearray(256)
    for number, row in enumerate(table):
        type_id, name, must, row_fields = row
        index[type_id] = number + 1
        names.append(name)
        spec_at.append(len(spec))
        spec.append(type_id)
        spec.append(1 if must else 0)
        spec.append(len(row_fields))
        for field in row_fields:
            spec.append(field[1])
        fields.append(tuple([field[0] for field in row_fields]))
    return bytes(spec), spec_at, tuple(fields), tuple(names), index


SPEC, SPEC_AT, FIELDS, NAMES, _INDEX = _compact()
COUNT = len(NAMES)
del _compact


def number_of(name):
    # Message number for a name, or -1. Allocates nothing. A scan of 37 names, most of which
    # differ in their first character, costs less than the ~1 KB a dict would keep.
    for number in range(COUNT):
        if NAMES[number] == name:
            return number
    return -1


def number_of_id(type_id):
    # Message number for a type id, or -1. Allocates nothing.
    return _INDEX[type_id & 0xFF] - 1


def spec_pos(type_id):
    # Offset of this type's entry in SPEC, or -1. Allocates nothing (the decoder's path).
    number = _INDEX[type_id & 0xFF]
    return SPEC_AT[number - 1] if number else -1


def spec():
    return SPEC


def must_deliver(type_id):
    pos = spec_pos(type_id)
    return pos >= 0 and SPEC[pos + 1] == 1


def row_at(number):
    # (type id, name, must-deliver, field names, field types as bytes) for host tools and tests.
    pos = SPEC_AT[number]
    return (SPEC[pos], NAMES[number], SPEC[pos + 1] == 1, FIELDS[number],
            SPEC[pos + 3:pos + 3 + SPEC[pos + 2]])


def by_id(type_id):
    number = _INDEX[type_id & 0xFF]
    return row_at(number - 1) if number else None


def by_name(name):
    number = number_of(name)
    return row_at(number) if number >= 0 else None


def rows():
    # Every message row in table order (host tools, SPEC generation).
    return [row_at(number) for number in range(COUNT)]




def valid_id(name):
    # Hall and device ids: 1..32 chars of a-z, 0-9, '-' and '_' (safe in topics and ACLs).
    if not isinstance(name, str) or not 0 < len(name) <= 32:
        return False
    for ch in name:
        if not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch == "-" or ch == "_"):
            return False
    return True
