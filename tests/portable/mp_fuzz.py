# Fuzzes the stream decoder with random and mutated inputs (count from argv, default 100000).
# No exception may escape, every accepted frame must re-encode to one that decodes the same,
# and the heap in use after gc must not grow.
import gc
import sys
from protocol.frame import StreamDecoder, encode_frame, FRAME, REJECTED, header
from protocol.codec import encode_payload
from samples import sample_at, PRNG
from protocol.schema import COUNT

total = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
rng = PRNG(20261122)
dec = StreamDecoder()
buf = bytearray(600)
accepted = 0
rejected = 0
baseline = 0


def mutate(frame, out):
    # Copy frame into out with one to three random edits; returns the length used.
    n = len(frame)
    out[:n] = frame
    for _ in range(1 + rng.below(3)):
        op = rng.below(6)
        if op == 0 and n:                      # flip a bit
            k = rng.below(n)
            out[k] ^= 1 << rng.below(8)
        elif op == 1 and n < 500:              # insert a byte
            k = rng.below(n + 1)
            out[k + 1:n + 1] = out[k:n]
            out[k] = rng.below(256)
            n += 1
        elif op == 2 and n > 1:                # delete a byte
            k = rng.below(n)
            out[k:n - 1] = out[k + 1:n]
            n -= 1
        elif op == 3 and n:                    # truncate
            n = rng.below(n)
        elif op == 4 and n and n < 400:        # repeat a slice
            a = rng.below(n)
            b = a + rng.below(n - a + 1)
            out[n:n + b - a] = out[a:b]
            n += b - a
        elif n:                                # overwrite with a random byte
            out[rng.below(n)] = rng.below(256)
    return n


def check_frame(dec):
    # An accepted frame must survive a re-encode unchanged.
    msg = dec.message()
    head = header(dec)
    type_id, payload = encode_payload(msg)
    again = encode_frame(dec.dst, dec.src, dec.seq, dec.flags, type_id, payload)
    dec2 = StreamDecoder()
    dec2.feed(again)
    assert dec2.result == FRAME and dec2.message() == msg and header(dec2) == head


for round_ in range(total):
    if rng.below(4) == 0:                      # pure noise, zeros rarer than in uniform bytes
        n = rng.below(300)
        for k in range(n):
            b = rng.below(256)
            buf[k] = b if b or rng.below(8) == 0 else 0x55
    else:
        k = rng.below(2 * COUNT)
        type_id, payload = encode_payload(sample_at(k))
        n = mutate(encode_frame(0, 9, k & 0xFF, k & 1, type_id, payload), buf)
    i = 0
    while i < n:
        i = dec.feed(buf, i, n)
        if dec.result == FRAME:
            accepted += 1
            check_frame(dec)
        elif dec.result == REJECTED:
            rejected += 1
    if rng.below(2):
        if dec.flush() == REJECTED:
            rejected += 1
    if round_ == 1000:
        gc.collect()
        baseline = gc.mem_alloc()
    elif round_ % 10000 == 0 and round_ > 1000:
        gc.collect()
        assert gc.mem_alloc() <= baseline + 512, (round_, gc.mem_alloc(), baseline)

gc.collect()
assert gc.mem_alloc() <= baseline + 512, (gc.mem_alloc(), baseline)
assert accepted > total // 50 and rejected > total // 2, (accepted, rejected)
assert sum(dec.counts.values()) == rejected
print("fuzz ok: %d inputs, %d accepted, %d rejected %s, heap %d" % (
    total, accepted, rejected, sorted(dec.counts.items()), gc.mem_alloc()))
