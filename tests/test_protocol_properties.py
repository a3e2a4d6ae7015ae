"""Property tests of the wire protocol (CPython, hypothesis), with the CRC and the byte
stuffing checked against independent implementations from PyPI (crcmod, cobs)."""
import json
from pathlib import Path

import crcmod.predefined
from cobs import cobs
from hypothesis import given, settings, strategies as st

from protocol.codec import encode_payload
from protocol.crc import crc16, crc16_table
from protocol.frame import (FRAME, REJECTED, MAX_PAYLOAD, StreamDecoder, encode_frame,
                            encode_message, iter_frames, stuff)
from protocol.mqtt import MQTTDecoder, to_json, topic, UP
from protocol.schema import (rows, U8, U16, U32, I8, I16, STR, U8S, STRS, BOOL)

ROOT = Path(__file__).resolve().parent.parent
CRC_CCITT_FALSE = crcmod.predefined.mkCrcFun("crc-ccitt-false")
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=150)
settings.load_profile("ci")


def short_text(max_bytes=255):
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=60).filter(
        lambda s: len(s.encode()) <= max_bytes)


FIELD = {
    U8: st.integers(0, 0xFF), U16: st.integers(0, 0xFFFF), U32: st.integers(0, 0xFFFFFFFF),
    I8: st.integers(-0x80, 0x7F), I16: st.integers(-0x8000, 0x7FFF), STR: short_text(),
    U8S: st.lists(st.integers(0, 0xFF), max_size=20),
    STRS: st.lists(short_text(40), max_size=4), BOOL: st.booleans(),
}


def message_for(row):
    names, types = row[3], row[4]
    return st.fixed_dictionaries(
        {"type": st.just(row[1]), **{n: FIELD[t] for n, t in zip(names, types)}})


def fits(msg):
    return len(encode_payload(msg)[1]) <= MAX_PAYLOAD


MESSAGES = st.one_of([message_for(row) for row in rows()]).filter(fits)


@given(MESSAGES, st.integers(0, 0xFE), st.integers(0, 0xFF), st.integers(0, 0xFF))
def test_every_message_type_round_trips_through_a_frame(msg, src, dst, seq):
    frame = encode_message(msg, dst, src, seq)
    [(kind, head, got)] = list(iter_frames(frame))
    assert kind == FRAME and got == msg
    assert (head["src"], head["dst"], head["seq"]) == (src, dst, seq)


@given(MESSAGES, st.integers(0, 0xFF), st.booleans())
def test_every_message_type_round_trips_through_mqtt_json(msg, seq, ack):
    payload = to_json(msg, seq=seq, ack=ack).encode()
    got = MQTTDecoder("hall-1").decode(topic("hall-1", "dev-3", UP, msg["type"]), payload)
    assert got is not None and got.msg == msg and got.seq == seq and got.ack == ack
    assert json.loads(payload)["_seq"] == seq


@given(st.binary(max_size=600))
def test_crc_matches_crcmod(data):
    assert crc16(data, 0, len(data)) == CRC_CCITT_FALSE(data)
    assert crc16_table(data, 0, len(data)) == CRC_CCITT_FALSE(data)    # MicroPython's fallback
    cut = len(data) // 3
    assert crc16(data, cut, len(data)) == crc16_table(data, cut, len(data))


@given(st.binary(max_size=254))
def test_stuffing_matches_the_cobs_package(content):
    assert stuff(content) == cobs.encode(content) + b"\x00"


@given(MESSAGES, st.integers(0, 0xFF))
def test_frame_is_cobs_of_header_payload_and_crc(msg, seq):
    type_id, payload = encode_payload(msg)
    frame = encode_frame(0x21, 0, seq, 1, type_id, payload)
    content = cobs.decode(frame[:-1])
    assert content[:5] == bytes([0x11, 0x21, 0, seq, type_id])
    assert content[5:-2] == payload
    assert int.from_bytes(content[-2:], "big") == CRC_CCITT_FALSE(content[:-2])


def test_vectors_agree_with_crcmod_and_cobs():
    lines = (ROOT / "protocol" / "vectors" / "vectors.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(lines) >= 70
    for line in lines:
        v = json.loads(line)
        frame = bytes.fromhex(v["frame"])
        assert frame.endswith(b"\x00") and b"\x00" not in frame[:-1]
        content = cobs.decode(frame[:-1])
        assert int.from_bytes(content[-2:], "big") == CRC_CCITT_FALSE(content[:-2]), v["name"]
        assert content[1:4] == bytes([v["dst"], v["src"], v["seq"]])


# A stream of transmissions (0x00 + frame each), cut at arbitrary points, with garbage pushed in
# at some cuts. Every frame the garbage did not touch comes out, in order; nothing else does.
@given(st.lists(st.tuples(MESSAGES, st.integers(0, 0xFF)), min_size=1, max_size=8),
       st.data())
def test_stream_with_cuts_and_garbage_yields_every_untouched_frame(frames, data):
    wire = []
    spans = []
    for msg, seq in frames:
        frame = encode_message(msg, 0, 5, seq)
        start = sum(len(w) for w in wire)
        wire.append(b"\x00" + frame)
        spans.append((start + 1, start + 1 + len(frame)))   # from after the leading 0x00
    stream = b"".join(wire)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(stream)), max_size=10))))
    noisy = data.draw(st.lists(st.booleans(), min_size=len(cuts), max_size=len(cuts)))
    pieces, touched, prev = [], set(), 0
    for cut, noise in zip(cuts, noisy):
        pieces.append(stream[prev:cut])
        if noise:
            pieces.append(data.draw(st.binary(min_size=1, max_size=40)))
            for k, (a, b) in enumerate(spans):
                if a <= cut < b:          # inside the frame, or between its 0x00 and first byte
                    touched.add(k)
        prev = cut
    pieces.append(stream[prev:])
    dec = StreamDecoder()
    got = []
    for piece in pieces:                  # fed piece by piece, as a UART delivers
        i = 0
        while i < len(piece):
            i = dec.feed(piece, i, len(piece))
            if dec.result == FRAME:
                got.append((dec.message(), dec.seq))
    expected = [f for k, f in enumerate(frames) if k not in touched]
    it = iter(got)
    assert all(any(f == g for g in it) for f in expected), (expected, got)   # in order
    originals = list(frames)
    for g in got:                         # nothing fabricated: each is a sent frame, in order
        assert g in originals
        originals = originals[originals.index(g) + 1:]


@given(st.binary(max_size=2000))
def test_decoder_never_raises_and_counts_every_rejection(data):
    dec = StreamDecoder()
    results = list(iter_frames(data, dec))
    rejected = [r for r in results if r[0] == REJECTED]
    assert dec.rejected() == len(rejected)
    assert all(r[1] in dec.counts for r in rejected)
