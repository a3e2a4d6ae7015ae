# Viper versions of the byte loops, for MicroPython only: 5-10x faster than bytecode.
# crc.py and frame.py use them when they load; their pure-Python twins there define the
# behaviour and the portable tests run both (each on its own runtime).
import micropython

from protocol.crc import _TABLE

if False:  # the viper emitter's builtins, declared for the type checker only
    from _mpy_shed._mpy_builtins import ptr8, ptr16, ptr32


@micropython.viper
def crc16(buf, start: int, end: int) -> int:
    p = ptr8(buf)
    table = ptr16(_TABLE)
    crc = 0xFFFF
    i = start
    while i < end:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ p[i]) & 0xFF]
        i += 1
    return crc


@micropython.viper
def stuff_into(content, n: int, out) -> int:
    # COBS-encode content[:n] into out, then the 0x00 delimiter; returns the length written.
    src = ptr8(content)
    dst = ptr8(out)
    code_at = 0
    code = 1
    o = 1
    i = 0
    while i < n:
        b = src[i]
        i += 1
        if code == 0xFF:
            dst[code_at] = 0xFF
            code_at = o
            o += 1
            code = 1
        if b == 0:
            dst[code_at] = code
            code_at = o
            o += 1
            code = 1
        else:
            dst[o] = b
            o += 1
            code += 1
    dst[code_at] = code
    dst[o] = 0
    return o + 1


@micropython.viper
def scan(data, start: int, end: int, buf, state, limit: int) -> int:
    # Un-stuff data[start:end] into buf. state = [n, block, code, over, stuffed] (array 'i').
    # Returns the index after a frame delimiter with bit 28 set, or end when data ran out.
    d = ptr8(data)
    out = ptr8(buf)
    st = ptr32(state)
    n = st[0]
    block = st[1]
    code = st[2]
    over = st[3]
    stuffed = st[4]
    i = start
    while i < end:
        b = d[i]
        i += 1
        if b == 0:
            if code == 0:
                continue                      # idle delimiter between transmissions
            st[0] = n
            st[1] = block
            st[2] = code
            st[3] = over
            st[4] = stuffed
            return i | 0x10000000
        stuffed += 1
        if over:
            continue
        if block == 0:
            if code != 0 and code != 0xFF:
                if n >= limit:
                    over = 1
                    continue
                out[n] = 0
                n += 1
            code = b
            block = b - 1
        else:
            if n >= limit:
                over = 1
                continue
            out[n] = b
            n += 1
            block -= 1
    st[0] = n
    st[1] = block
    st[2] = code
    st[3] = over
    st[4] = stuffed
    return i
