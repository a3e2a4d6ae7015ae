"""hallctl frame encode/decode, run as a technician runs it: the installed console script."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

HALLCTL = [str(Path(sys.executable).parent / "hallctl")]
VECTORS = [json.loads(line) for line in
           (ROOT / "protocol/vectors/vectors.jsonl").read_text(encoding="utf-8").split("\n") if line]


def hallctl(*args, input=b""):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(HALLCTL + list(args), input=input, capture_output=True, env=env, timeout=60)


@pytest.mark.parametrize("vector", VECTORS[::9] + VECTORS[-2:], ids=lambda v: v["name"])
def test_encode_gives_the_vector_frame(vector):
    msg = json.dumps(vector["message"], ensure_ascii=False)
    proc = hallctl("frame", "encode", msg, "--src", str(vector["src"]), "--dst", str(vector["dst"]),
                   "--seq", str(vector["seq"]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == vector["frame"]


def test_decode_hex_argument_shows_message_and_envelope():
    proc = hallctl("frame", "decode", "02 11 09 21 07 20 02 01 03 06 59 00")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"type": "call_next", "req": 513, "window": 3,
                                       "_src": 33, "_dst": 0, "_seq": 7, "_ack": True}


def test_raw_stream_on_stdin_with_noise_gives_frames_and_reasons():
    frames = [bytes.fromhex(v["frame"]) for v in VECTORS[:6]]
    corrupt = bytearray(frames[1])
    corrupt[4] ^= 0x01
    stream = b"\x00" + frames[0] + b"\x17\x42" + b"\x00" + bytes(corrupt) + frames[2]
    proc = hallctl("frame", "decode", input=stream)
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert proc.returncode == 1                      # something was rejected
    assert [line.get("type") or line["rejected"] for line in lines] == [
        VECTORS[0]["message"]["type"], "truncated", "crc", VECTORS[2]["message"]["type"]]


def test_decode_then_encode_round_trips_through_a_pipe():
    frames = b"".join(bytes.fromhex(v["frame"]) for v in VECTORS)
    decoded = hallctl("frame", "decode", input=frames)
    assert decoded.returncode == 0, decoded.stdout[-500:]
    again = hallctl("frame", "encode", input=decoded.stdout)
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().split() == [v["frame"] for v in VECTORS]


def test_chinese_text_survives_the_round_trip():
    msg = {"type": "display_update", "window": 3, "ticket": "A012", "text": "请A012号到3号窗口",
           "voice": 1, "blink": 3}
    hexed = hallctl("frame", "encode", json.dumps(msg, ensure_ascii=False)).stdout
    back = json.loads(hallctl("frame", "decode", input=hexed).stdout)
    assert back["text"] == "请A012号到3号窗口" and back["_dst"] == 255


@pytest.mark.parametrize("args,stdin,message", [
    (["frame", "encode", "{not json"], b"", "hallctl: frame encode: invalid JSON"),
    (["frame", "encode", '{"type": "call_next", "req": 1}'], b"", "missing field window"),
    (["frame", "encode", '{"type": "teleport"}'], b"", "unknown message type 'teleport'"),
    (["frame", "encode", '{"type": "call_next", "req": 1, "window": 300}'], b"", "300 out of range"),
    (["frame", "encode", "--src", "999", '{"type": "poll"}'], b"", "must be 0..255"),
    (["frame", "encode"], b"", "no message given"),
    (["frame", "decode", "xyz"], b"", "not hex"),
    (["frame", "decode"], b"", "no input"),
])
def test_errors_are_one_line_on_stderr_with_nonzero_exit(args, stdin, message):
    proc = hallctl(*args, input=stdin)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert proc.stdout == b""


def test_a_lone_surrogate_is_refused_with_one_line():
    # JSON can spell a lone surrogate; it is not text and cannot be encoded as UTF-8.
    proc = hallctl("frame", "encode", '{"type": "print_result", "ticket": "\\ud800", "result": 0}')
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().strip() == \
        "hallctl: frame encode: field ticket: not valid Unicode text"


def test_stdin_lines_end_at_newline_alone_and_a_bad_line_prints_nothing():
    text = json.dumps({"type": "notice", "text": "a\u2028b\u0085c", "on": True},
                      ensure_ascii=False) + "\n"
    proc = hallctl("frame", "encode", input=text.encode())
    assert proc.returncode == 0 and len(proc.stdout.split()) == 1, proc.stderr
    batch = text + '{"type": "notice", "text": 5, "on": true}\n'
    proc = hallctl("frame", "encode", input=batch.encode())
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"(stdin line 2)" in proc.stderr
