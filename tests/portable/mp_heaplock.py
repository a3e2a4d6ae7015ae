# MicroPython only: the stream decoder's per-byte path allocates nothing. Feeds garbage, split
# frames, corrupt frames and good frames with the heap locked; any allocation raises MemoryError.
import gc
import micropython
stream = bytearray(6144)                      # before the imports fragment the 64K heap
from protocol.frame import StreamDecoder, encode_message, stuff
from samples import sample_at, PRNG
from protocol.schema import COUNT

rng = PRNG(99)
size = 0
good = 0
for k in range(2 * COUNT):
    frame = bytearray(encode_message(sample_at(k), 0, 7, k & 0xFF))
    if k % 3 == 1:
        frame[len(frame) // 2] ^= 0x10        # corrupt: rejected (crc or other)
        frame[-1] = 0
    else:
        good += 1
    for _ in range(rng.below(12)):            # line noise, then the transmission's 0x00
        stream[size] = 1 + rng.below(255)
        size += 1
    stream[size] = 0
    stream[size + 1:size + 1 + len(frame)] = frame
    size += 1 + len(frame)
too_long = stuff(bytes(range(1, 255)) * 2)
stream[size:size + len(too_long)] = too_long
size += len(too_long)
stream = memoryview(stream)[:size]
dec = StreamDecoder()
result = [0, 0]


def run(dec, stream, result):
    i = 0
    end = len(stream)
    step = 7                                   # small slices: frames split across feeds
    while i < end:
        stop = i + step if i + step < end else end
        while i < stop:
            i = dec.feed(stream, i, stop)
            if dec.result == 1:
                result[0] += 1
            elif dec.result == 2:
                result[1] += 1


gc.collect()
micropython.heap_lock()
run(dec, stream, result)
micropython.heap_unlock()
assert result[0] == good, (result, good)
assert result[1] >= 2 * COUNT - good + 1, result
assert dec.counts["too_long"] == 1
print("heaplock ok: %d frames, %d rejected, %d bytes" % (result[0], result[1], len(stream)))
