"""`hallctl frame encode|decode`: the serial wire format by hand, for technicians and scripts.

decode prints one JSON object per frame: the message fields in schema order, then `_src`,
`_dst`, `_seq` and `_ack`; encode accepts the same objects, so the two round-trip.
"""
import argparse
import json
import re

from protocol.codec import fields_of
from protocol.errors import ProtocolError
from protocol.frame import FLAG_ACK_REQ, FRAME, StreamDecoder, encode_frame, header
from protocol.codec import encode_payload
from protocol.schema import must_deliver

from hallpc.errors import CommandError

ENVELOPE = ("_src", "_dst", "_seq", "_ack")
HEX_TEXT = re.compile(rb"^[0-9a-fA-F\s:]*$")


def _byte(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise CommandError("frame encode: %s must be 0..255, got %r" % (what, value))
    return value


def _address(text):
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text) from None
    if not 0 <= value <= 0xFF:
        raise argparse.ArgumentTypeError("%d: addresses and sequence numbers must be 0..255" % value)
    return value


def message_json(msg, head=None):
    """One line of JSON: type, fields in schema order, then the envelope (if a header is given)."""
    doc = {"type": msg["type"]}
    for name in fields_of(msg["type"]):
        doc[name] = msg[name]
    if head is not None:
        doc.update({"_src": head["src"], "_dst": head["dst"], "_seq": head["seq"],
                    "_ack": bool(head["flags"] & FLAG_ACK_REQ)})
    return json.dumps(doc, ensure_ascii=False)


class Encode:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("json", nargs="?", help="the message, e.g. "
                            "'{\"type\": \"call_next\", \"req\": 1, \"window\": 3}'; "
                            "without it, one message per line on stdin")
        parser.add_argument("--src", type=_address, default=0, help="source address (default 0, the hub)")
        parser.add_argument("--dst", type=_address, default=0xFF, help="destination (default 255, broadcast)")
        parser.add_argument("--seq", type=_address, default=0, help="sequence number (default 0)")
        ack = parser.add_mutually_exclusive_group()
        ack.add_argument("--ack", dest="ack", action="store_true", default=None,
                         help="mark must-deliver (default: as the schema says)")
        ack.add_argument("--no-ack", dest="ack", action="store_false")

    @staticmethod
    def run(args, stdin, stdout):
        if args.json is not None:
            lines = [(1, args.json)]
        else:
            text = stdin.read().decode("utf-8", errors="replace")
            # one message a line, lines ending at \n alone: JSON text may hold U+2028 and the
            # like, which str.splitlines() would take for line ends
            lines = [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1)
                     if line.strip()]
            if not lines:
                raise CommandError("frame encode: no message given (argument or stdin)")
        frames = []
        for number, line in lines:
            where = "" if args.json is not None else " (stdin line %d)" % number
            try:
                msg = json.loads(line)
            except ValueError as exc:
                raise CommandError("frame encode%s: invalid JSON: %s" % (where, exc)) from None
            if not isinstance(msg, dict):
                raise CommandError("frame encode%s: a message is a JSON object" % where)
            envelope = {key: msg.pop(key) for key in ENVELOPE if key in msg}
            src = _byte(envelope.get("_src", args.src), "_src")
            dst = _byte(envelope.get("_dst", args.dst), "_dst")
            seq = _byte(envelope.get("_seq", args.seq), "_seq")
            ack = envelope.get("_ack", args.ack)
            try:
                type_id, payload = encode_payload(msg)
                if ack is None:
                    ack = must_deliver(type_id)
                frame = encode_frame(dst, src, seq, FLAG_ACK_REQ if ack else 0, type_id, payload)
            except ProtocolError as exc:
                raise CommandError("frame encode%s: %s" % (where, exc)) from None
            frames.append(frame.hex())
        for frame in frames:                 # a batch with a bad line prints nothing
            stdout.write(frame + "\n")
        return 0


class Decode:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("hex", nargs="*", help="frame bytes in hex (spaces and colons allowed); "
                            "without it, stdin: raw bytes, or hex text")

    @staticmethod
    def run(args, stdin, stdout):
        if args.hex:
            data = _unhex(" ".join(args.hex).encode())
        else:
            data = stdin.read()
            if b"\x00" not in data and HEX_TEXT.match(data):
                data = _unhex(data)         # hex text (no raw frame lacks its 0x00 delimiter)
        if not data:
            raise CommandError("frame decode: no input")
        decoder = StreamDecoder()
        rejected = 0
        i = 0
        while True:
            if i < len(data):
                i = decoder.feed(data, i, len(data))
            elif decoder.flush() == 0:
                break
            if decoder.result == FRAME:
                stdout.write(message_json(decoder.message(), header(decoder)) + "\n")
            elif decoder.result != 0:
                rejected += 1
                stdout.write(json.dumps({"rejected": decoder.reason, "bytes": decoder.length}) + "\n")
        return 1 if rejected else 0


def _unhex(text):
    digits = re.sub(rb"[\s:]", b"", text)
    try:
        return bytes.fromhex(digits.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise CommandError("frame decode: not hex: %r" % text[:40].decode("ascii", "replace")) from None
