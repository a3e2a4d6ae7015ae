# Serial frames: round trips, resynchronisation, and a reason for every rejection.
from protocol.frame import (StreamDecoder, encode_message, encode_frame, iter_frames, FRAME,
                            REJECTED, MAX_PAYLOAD, MAX_FRAME, OVERHEAD, stuff)
from protocol.codec import encode_payload, decode_payload
from protocol.errors import TooLongError, PayloadError, UnknownTypeError
from protocol.crc import crc16
from samples import all_samples, sample_at, PRNG
from protocol.schema import COUNT


def decode_all(data):
    frames, rejects = [], []
    for kind, a, b in iter_frames(data):
        if kind == FRAME:
            frames.append((a, b))
        else:
            rejects.append(a)
    return frames, rejects


def test_crc_check_value():
    assert crc16(b"123456789", 0, 9) == 0x29B1


def test_every_message_round_trips():
    for seq, msg in enumerate(all_samples()):
        frame = encode_message(msg, dst=3, src=0, seq=seq & 0xFF)
        assert frame.find(b"\x00") == len(frame) - 1     # one delimiter, at the end
        frames, rejects = decode_all(frame)
        assert rejects == [], (msg, rejects)
        assert len(frames) == 1
        head, got = frames[0]
        assert got == msg, (got, msg)
        assert (head["dst"], head["src"], head["seq"], head["version"]) == (3, 0, seq & 0xFF, 1)


def test_overhead_is_nine_bytes():
    type_id, payload = encode_payload({"type": "call_next", "req": 1, "window": 3})
    for n in (0, 1, 20, 100, MAX_PAYLOAD):
        frame = encode_frame(1, 2, 3, 0, 0x52, b"\x01" * n) if n == 0 else \
            encode_frame(1, 2, 3, 0, type_id, bytes(n))
        assert len(frame) - n == OVERHEAD
    assert len(encode_frame(1, 2, 3, 0, 0x03, b"\xff" * MAX_PAYLOAD)) == MAX_FRAME


def test_payload_too_long_is_refused_at_encode():
    try:
        encode_frame(1, 2, 3, 0, 0x03, bytes(MAX_PAYLOAD + 1))
    except TooLongError:
        return
    raise AssertionError("expected TooLongError")


def test_bad_messages_are_refused_with_the_field_named():
    cases = [
        ({"type": "call_next", "req": 1}, "window"),
        ({"type": "call_next", "req": 1, "window": 256}, "window"),
        ({"type": "call_next", "req": 1, "window": "3"}, "window"),
        ({"type": "call_next", "req": 1, "window": 3, "colour": 1}, "colour"),
        ({"type": "alert", "kind": 1, "window": 1, "service": "x" * 256, "ticket": "", "value": 0}, "service"),
    ]
    for msg, field in cases:
        try:
            encode_payload(msg)
        except PayloadError as exc:
            assert field in str(exc), (field, str(exc))
            continue
        raise AssertionError("accepted %r" % (msg,))
    for msg in ({"type": "teleport"}, {"window": 3}, {"type": 7}):
        try:
            encode_payload(msg)
        except UnknownTypeError:
            continue
        raise AssertionError("accepted %r" % (msg,))


def test_garbage_before_a_transmission_costs_nothing():
    good = encode_message({"type": "heartbeat", "uptime": 77}, 0, 9, 1)
    stream = b"\x13\x37garbage\xff" + b"\x00" + good
    frames, rejects = decode_all(stream)
    assert [m for _, m in frames] == [{"type": "heartbeat", "uptime": 77}]
    assert rejects == ["truncated"]


def test_each_rejection_reason():
    dec = StreamDecoder()
    good = bytearray(encode_message({"type": "heartbeat", "uptime": 1}, 0, 9, 1))
    bad_crc = bytearray(good)
    bad_crc[3] ^= 0x40
    newer = encode_frame(0, 9, 1, 0, 0x03, b"\x00\x00\x00\x01", version=2)
    unknown = encode_frame(0, 9, 1, 0, 0x7E, b"")
    bad_payload = encode_frame(0, 9, 1, 0, 0x03, b"\x00\x01")
    bad_utf8 = encode_frame(0, 9, 1, 0, 0x52, b"\x02\xc3\x28\x01")
    too_long = stuff(bytes(range(1, 255)) * 2)
    zero_version = encode_frame(0, 9, 1, 0, 0x03, b"\x00\x00\x00\x01", version=0)
    stream = bytes(bad_crc) + newer + unknown + bad_payload + bad_utf8 + too_long + \
        zero_version + b"\x05\x01" + b"\x00" + good
    reasons = []
    i = 0
    while i < len(stream):
        i = dec.feed(stream, i, len(stream))
        if dec.result == REJECTED:
            reasons.append(dec.reason)
        elif dec.result == FRAME:
            reasons.append("ok")
    assert reasons == ["crc", "newer_version", "unknown_type", "bad_payload", "bad_payload",
                       "too_long", "bad_header", "truncated", "ok"], reasons
    assert dec.counts["bad_payload"] == 2 and dec.frames == 1
    assert dec.rejected() == 8


def test_frame_split_at_every_byte():
    msg = {"type": "display_update", "window": 3, "ticket": "A012", "text": "请A012号到3号窗口",
           "voice": 1, "blink": 3}
    frame = encode_message(msg, 0xFF, 0, 250)
    for cut in range(1, len(frame)):
        dec = StreamDecoder()
        assert dec.feed(frame, 0, cut) == cut and dec.result == 0
        assert dec.pending() == cut
        dec.feed(frame, cut, len(frame))
        assert dec.result == FRAME and dec.message() == msg


def test_random_garbage_then_frames_resynchronise():
    rng = PRNG(7)
    for round_ in range(40):
        dec = StreamDecoder()
        garbage = rng.bytes(1 + rng.below(300))
        msg = sample_at(rng.below(2 * COUNT))
        frame = encode_message(msg, 1, 2, round_)
        stream = bytes(garbage) + b"\x00" + frame + frame
        got = []
        i = 0
        while i < len(stream):
            i = dec.feed(stream, i, len(stream))
            if dec.result == FRAME:
                got.append(dec.message())
        assert got[-2:] == [msg, msg]
