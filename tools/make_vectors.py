"""Writes protocol/vectors/vectors.jsonl: every message type with its exact serial frame and
its MQTT topic and JSON; and protocol/vectors/decoder.jsonl: byte streams a decoder must split
into exactly these frames and rejections. Run after a deliberate wire change; the tests hold
both files fixed.

    python tools/make_vectors.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "portable"))

from protocol.frame import encode_message  # noqa: E402
from protocol.mqtt import topic, to_json, UP, DOWN  # noqa: E402
from protocol.schema import rows, HUB, BROADCAST  # noqa: E402
from samples import sample  # noqa: E402

# Messages a device sends to the hub; everything else goes from the hub down.
UPLINK = {"heartbeat", "status", "ticket_request", "print_result", "call_next", "call_ticket",
          "recall", "start", "finish", "no_show", "hold", "call_back", "transfer", "pause",
          "resume", "window_open", "window_close", "staff_login", "staff_logout", "rating",
          "rating_timeout", "ack", "nak"}


def vector(name, msg, seq, device_addr, src=None):
    # The device at bus address N is named dev-N here; a hall names its devices in its hall
    # file. Broadcasts go to every device: "all" on MQTT.
    up = msg["type"] in UPLINK
    src, dst = (device_addr, HUB) if up else (HUB if src is None else src, device_addr)
    frame = encode_message(msg, dst=dst, src=src, seq=seq)
    must = frame_flags(frame)
    device = "all" if device_addr == BROADCAST else "dev-%d" % device_addr
    return {
        "name": name, "message": msg, "src": src, "dst": dst, "seq": seq, "ack_req": must,
        "frame": frame.hex(),
        "topic": topic("hall-1", device, UP if up else DOWN, msg["type"]),
        "json": to_json(msg, seq=seq, ack=must),
    }


# Text that needs escaping in JSON (SPEC.md 3.2): quotes, backslashes, every kind of control
# character, DEL, U+2028, non-ASCII and a slash.
ESCAPES = "\"q\" \\ \n\r\t \x00\x01\x08\x0c\x1f \x7f \u2028 é 请 a/b"


def decoder_vectors():
    # Streams and what a decoder makes of them, frame by frame (SPEC.md 2.3).
    from protocol.codec import encode_payload
    from protocol.frame import stuff, encode_frame
    from protocol.crc import crc16
    good = encode_message({"type": "call_next", "req": 513, "window": 3}, dst=0, src=0x21, seq=7)
    content = bytearray(good[1:-1])                 # (as stuffed; un-stuffed below)

    def content_of(frame):
        from protocol.frame import StreamDecoder
        dec = StreamDecoder()
        dec.feed(frame)
        return bytearray(dec._buf[:dec.payload_end + 2])

    def framed(body):
        # content with its CRC recomputed, stuffed
        body = bytearray(body)
        crc = crc16(body, 0, len(body))
        return stuff(bytes(body) + bytes((crc >> 8, crc & 0xFF)))

    base = content_of(good)[:-2]
    out = []

    def add(name, wire, results):
        out.append({"name": name, "wire": bytes(wire).hex(), "results": results})

    add("one_frame", good, ["frame"])
    add("idle_delimiters_between_frames", b"\x00\x00" + good + b"\x00\x00\x00" + good,
        ["frame", "frame"])
    add("empty_frame", b"\x01\x00", ["truncated"])
    flipped = bytearray(good)
    flipped[3] ^= 0x04
    add("crc", flipped, ["crc"])
    add("garbage_then_a_frame", b"\x13\x37\xfe\x00" + good, ["truncated", "frame"])
    add("cut_by_the_delimiter", good[:4] + b"\x00", ["truncated"])
    add("input_ends_mid_frame", good[:-3], ["truncated"])
    add("too_long", b"\x05" + b"\x01" * 300 + b"\x00", ["too_long"])
    add("input_ends_while_skipping_a_too_long_frame", b"\x05" + b"\x01" * 300, ["truncated"])
    v2 = bytearray(base)
    v2[0] = 0x21
    add("newer_version", framed(v2), ["newer_version"])
    v0 = bytearray(base)
    v0[0] = 0x01
    add("version_0", framed(v0), ["bad_header"])
    unknown = bytearray(base)
    unknown[4] = 0x7F
    add("unknown_type", framed(unknown), ["unknown_type"])
    add("bad_payload", framed(base[:-1]), ["bad_payload"])
    text = encode_payload({"type": "notice", "text": "x" * 245, "on": True})[1]
    for seq in range(1, 256):                       # a content without a zero byte: one FF block
        body = bytearray((0x10, 0xFF, 0x11, seq, 0x52)) + text
        crc = crc16(body, 0, len(body))
        if crc >> 8 and crc & 0xFF:
            break
    single = stuff(bytes(body) + bytes((crc >> 8, crc & 0xFF)))
    assert single[0] == 0xFF and len(single) == 256
    add("single_ff_block", single, ["frame"])
    add("single_ff_block_with_an_empty_last_block", single[:-1] + b"\x01\x00", ["frame"])
    return out


def frame_flags(frame):
    from protocol.frame import iter_frames, FRAME
    kind, head, _ = next(iter_frames(frame))
    assert kind == FRAME
    return bool(head["flags"] & 1)


def main():
    vectors = []
    seq = 0
    for row in rows():
        for low in (False, True):
            msg = sample(row, low=low)
            addr = BROADCAST if row[1] in ("time_sync", "queue_status", "notice", "poll") else 0x11
            at = 0 if row[1] == "poll" else seq                 # polls always go with seq 0
            vectors.append(vector("%s_%s" % (row[1], "low" if low else "high"), msg, at, addr))
            seq = (seq + 37) & 0xFF
    vectors.append(vector("call_next_typical", {"type": "call_next", "req": 513, "window": 3}, 7, 0x21))
    vectors.append(vector("ticket_issued_typical", {
        "type": "ticket_issued", "req": 42, "ticket": "A012", "service": "A", "kind": 0, "ahead": 5,
        "wait_min": 8, "wait_max": 14, "issued": 1795341600}, 200, 0x11))
    vectors.append(vector("notice_escapes", {"type": "notice", "text": ESCAPES, "on": True}, 9,
                          BROADCAST))
    vectors.append(vector("status_escapes", {
        "type": "status", "role": 1, "fw": "1.0\t\"rc\"\\\x1b[2J", "uptime": 5, "reset_cause": 1,
        "free_heap": 1, "rx_errors": 0, "retries": 0, "give_ups": 0, "rssi": -60, "printer": 1},
        10, 0x11))
    # JSON Lines: a device-sized heap can check them one line at a time.
    out = ROOT / "protocol" / "vectors" / "vectors.jsonl"
    out.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in vectors), encoding="utf-8")
    print("wrote %d vectors to %s" % (len(vectors), out.relative_to(ROOT)))
    streams = decoder_vectors()
    out = ROOT / "protocol" / "vectors" / "decoder.jsonl"
    out.write_text("".join(json.dumps(v) + "\n" for v in streams), encoding="utf-8")
    print("wrote %d decoder vectors to %s" % (len(streams), out.relative_to(ROOT)))


if __name__ == "__main__":
    main()
