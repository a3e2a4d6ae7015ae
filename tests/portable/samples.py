# Deterministic sample messages for every schema row, and a small PRNG that gives the same
# numbers on CPython and MicroPython (so both runtimes test exactly the same cases).
from protocol.schema import COUNT, row_at, U8, U16, U32, I8, I16, STR, U8S, STRS, BOOL

_HIGH = {U8: 200, U16: 40000, U32: 3000000000, I8: -60, I16: -480, STR: "请A012号到3号窗口",
         U8S: [1, 2, 255], STRS: ["身份证", "户口本"], BOOL: True}
_LOW = {U8: 0, U16: 0, U32: 0, I8: -128, I16: 0x7FFF, STR: "", U8S: [], STRS: [], BOOL: False}


def sample(row, low=False):
    values = _LOW if low else _HIGH
    msg = {"type": row[1]}
    for name, ftype in zip(row[3], row[4]):
        value = values[ftype]
        msg[name] = list(value) if isinstance(value, list) else value
    return msg


def all_samples():
    # Two samples of every message type, one at a time (a 64K heap cannot hold them all).
    for number in range(COUNT):
        row = row_at(number)
        yield sample(row)
        yield sample(row, low=True)


def sample_at(k):
    # The k-th of all_samples() without building the others.
    return sample(row_at((k // 2) % COUNT), low=k % 2 == 1)


class PRNG:
    # xorshift32: identical sequences on both runtimes.
    def __init__(self, seed):
        self.state = (seed & 0xFFFFFFFF) or 0x9E3779B9

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def below(self, n):
        return self.next() % n

    def chance(self, percent):
        return self.next() % 100 < percent

    def bytes(self, n):
        out = bytearray(n)
        for i in range(n):
            out[i] = self.next() & 0xFF
        return out

# The harness sets QMS_ROOT (MicroPython runs these from precompiled .mpy files elsewhere).
def vectors(name="vectors"):
    # The wire vectors of protocol/vectors/NAME.jsonl, one at a time (JSON Lines keep the heap
    # small): "vectors" (messages), "decoder" (streams and what a decoder makes of them).
    import json
    import os
    root = os.getenv("QMS_ROOT") or __file__.rsplit("/", 3)[0]
    with open(root + "/protocol/vectors/%s.jsonl" % name) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def unhex(text):
    out = bytearray(len(text) // 2)
    for i in range(len(out)):
        out[i] = int(text[2 * i:2 * i + 2], 16)
    return bytes(out)
