# The wire vectors in protocol/vectors/: both runtimes must produce and accept exactly these bytes.
import json
import os
from protocol.frame import encode_message, iter_frames, FRAME
from protocol.mqtt import topic, to_json, MQTTDecoder, UP, DOWN, ROOT

# The harness sets QMS_ROOT (MicroPython runs these from precompiled .mpy files elsewhere).
_ROOT = os.getenv("QMS_ROOT") or __file__.rsplit("/", 3)[0]
_PATH = _ROOT + "/protocol/vectors/vectors.jsonl"


def _vectors():
    with open(_PATH) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _unhex(text):
    out = bytearray(len(text) // 2)
    for i in range(len(out)):
        out[i] = int(text[2 * i:2 * i + 2], 16)
    return bytes(out)


def test_encoder_produces_the_vector_bytes():
    count = 0
    for v in _vectors():
        frame = encode_message(v["message"], v["dst"], v["src"], v["seq"])
        assert frame == _unhex(v["frame"]), v["name"]
        count += 1
    assert count >= 70


def test_decoder_reads_the_vector_bytes():
    for v in _vectors():
        results = list(iter_frames(_unhex(v["frame"])))
        assert len(results) == 1, v["name"]
        kind, head, msg = results[0]
        assert kind == FRAME, (v["name"], head)
        assert msg == v["message"], v["name"]
        assert (head["src"], head["dst"], head["seq"]) == (v["src"], v["dst"], v["seq"])
        assert bool(head["flags"] & 1) == v["ack_req"], v["name"]


def test_mqtt_topic_and_json_match():
    dec = MQTTDecoder("hall-1")
    for v in _vectors():
        parts = v["topic"].split("/")
        assert parts[0] == ROOT
        assert topic(parts[1], parts[2], parts[3], v["message"]["type"]) == v["topic"]
        assert to_json(v["message"], seq=v["seq"], ack=v["ack_req"]) == v["json"], v["name"]
        got = dec.decode(v["topic"], v["json"].encode())
        assert got is not None, (v["name"], dec.reason)
        assert got.msg == v["message"] and got.seq == v["seq"] and got.ack == v["ack_req"]
        assert got.direction in (UP, DOWN)
