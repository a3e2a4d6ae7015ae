# Decoder vectors (protocol/vectors/decoder.jsonl): byte streams, damaged and odd ones among
# them, and exactly the frames and rejections (with their reasons) a decoder makes of them.
# Both runtimes; an implementation in another language checks its decoder against the file.
from protocol.frame import iter_frames, FRAME
from samples import unhex, vectors


def _streams():
    return vectors("decoder")


def test_the_decoder_splits_every_stream_as_the_vectors_say():
    names = []
    for v in _streams():
        got = []
        for result in iter_frames(unhex(v["wire"])):
            got.append("frame" if result[0] == FRAME else result[1])
        assert got == v["results"], (v["name"], got)
        names.append(v["name"])
    for reason in ("crc", "too_long", "newer_version", "bad_header", "unknown_type",
                   "bad_payload", "truncated"):
        assert any(reason in v["results"] for v in _streams()), reason
    assert "single_ff_block" in names and len(names) >= 15
