"""Writes protocol/vectors/vectors.jsonl: every message type with its exact serial frame and
its MQTT topic and JSON. Run after a deliberate wire change; the tests hold the file fixed.

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


def vector(name, msg, seq, device_addr):
    up = msg["type"] in UPLINK
    src, dst = (device_addr, HUB) if up else (HUB, device_addr)
    frame = encode_message(msg, dst=dst, src=src, seq=seq)
    must = frame_flags(frame)
    return {
        "name": name, "message": msg, "src": src, "dst": dst, "seq": seq, "ack_req": must,
        "frame": frame.hex(),
        "topic": topic("hall-1", "dev-%d" % device_addr, UP if up else DOWN, msg["type"]),
        "json": to_json(msg, seq=seq, ack=must),
    }


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
            addr = BROADCAST if row[1] in ("time_sync", "queue_status", "notice") else 0x11
            vectors.append(vector("%s_%s" % (row[1], "low" if low else "high"), msg, seq, addr))
            seq = (seq + 37) & 0xFF
    vectors.append(vector("call_next_typical", {"type": "call_next", "req": 513, "window": 3}, 7, 0x21))
    vectors.append(vector("ticket_issued_typical", {
        "type": "ticket_issued", "req": 42, "ticket": "A012", "service": "A", "kind": 0, "ahead": 5,
        "wait_min": 8, "wait_max": 14, "issued": 1795341600}, 200, 0x11))
    # JSON Lines: a device-sized heap can check them one line at a time.
    out = ROOT / "protocol" / "vectors" / "vectors.jsonl"
    out.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in vectors), encoding="utf-8")
    print("wrote %d vectors to %s" % (len(vectors), out.relative_to(ROOT)))


if __name__ == "__main__":
    main()
