# CRC-16/IBM-3740 (a.k.a. CRC-16/CCITT-FALSE): poly 0x1021, init 0xFFFF, not reflected, no xorout.
# Check value: crc16(b"123456789") == 0x29B1.
import sys
from array import array


def _make_table():
    table = array("H", bytes(512))
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[i] = crc & 0xFFFF
    return table


_TABLE = _make_table()


def crc16_table(buf, start, end):
    # CRC of buf[start:end]; allocates nothing. (MicroPython uses the viper twin in fast.py
    # where it can, CPython binascii's.)
    table = _TABLE
    crc = 0xFFFF
    i = start
    while i < end:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ buf[i]]
        i += 1
    return crc


crc16 = crc16_table
if sys.implementation.name == "micropython":
    try:
        from protocol.fast import crc16  # noqa: F811
    except (ImportError, ValueError):    # no fast.mpy, or built without the native emitter
        pass
else:                                    # a hall PC or the simulator: the same CRC, in C
    # CPython's binascii only: the ESP32 stubs have no crc_hqx
    from binascii import crc_hqx  # type: ignore[attr-defined]

    def crc16(buf, start, end):  # noqa: F811
        return crc_hqx(memoryview(buf)[start:end], 0xFFFF)

