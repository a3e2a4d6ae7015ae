# Serial wire vectors (protocol/vectors/): both runtimes must produce and accept exactly these bytes.
from protocol.frame import encode_message, iter_frames, FRAME
from samples import vectors, unhex


def test_encoder_produces_the_vector_bytes():
    count = 0
    for v in vectors():
        frame = encode_message(v["message"], v["dst"], v["src"], v["seq"])
        assert frame == unhex(v["frame"]), v["name"]
        count += 1
    assert count >= 70


def test_decoder_reads_the_vector_bytes():
    for v in vectors():
        results = list(iter_frames(unhex(v["frame"])))
        assert len(results) == 1, v["name"]
        kind, head, msg = results[0]
        assert kind == FRAME, (v["name"], head)
        assert msg == v["message"], v["name"]
        assert (head["src"], head["dst"], head["seq"]) == (v["src"], v["dst"], v["seq"])
        assert bool(head["flags"] & 1) == v["ack_req"], v["name"]
