"""hallctl monitor --port PORT: a live view of the frames on a serial line, decoded, one line
each (time, source -> destination, message), with rejected frames (noise, CRC errors, unknown
types) shown and counted. It only listens, as a sniffer on an RS485 bus does; with --poll it
also polls every address and acknowledges what the device must deliver, as its hub would, so a
lone device on USB talks. Stops at Ctrl-C or after --seconds.
"""
import json
import time

from hallctl.frame_cmd import message_json
from hallctl.status import boundaries, open_port, read_some
from hallctl.screen import printable
from protocol.bus import POLL, poll_frame
from protocol.frame import FLAG_ACK_REQ, FRAME, REJECTED, StreamDecoder, encode_message, header
from protocol.schema import HUB


class Monitor:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--port", required=True, help="the serial port to watch")
        parser.add_argument("--baud", type=int, default=115200)
        parser.add_argument("--poll", action="store_true",
                            help="poll every address (a device alone on the line talks)")
        parser.add_argument("--polls", action="store_true", help="show the polls too")
        parser.add_argument("--seconds", type=float, help="stop after this long")
        parser.add_argument("--json", action="store_true", help="one JSON object per frame")

    @staticmethod
    def run(args, stdin, stdout):
        ser = open_port(args.port, args.baud)
        decoder = StreamDecoder()
        poll = b"\x00" + bytes(poll_frame(1, 254, False))
        start = time.monotonic()
        counts = {"frames": 0, "rejected": 0}
        last_poll = 0.0
        try:
            while args.seconds is None or time.monotonic() - start < args.seconds:
                now = time.monotonic()
                if args.poll and now - last_poll > 0.02:
                    ser.write(poll)
                    last_poll = now
                for result in boundaries(read_some(ser), decoder):
                    t = time.monotonic() - start
                    if result == FRAME:
                        if args.poll and decoder.flags & FLAG_ACK_REQ and decoder.dst == HUB:
                            # polling, monitor is the lone device's master: it acknowledges
                            # what the device must deliver, or the device waits on it forever
                            ser.write(b"\x00" + bytes(encode_message(
                                {"type": "ack", "seq": decoder.seq}, decoder.src, HUB, 0)))
                        if decoder.type_id == POLL and not args.polls:
                            continue
                        counts["frames"] += 1
                        _show(stdout, args.json, t, message_json(decoder.message(),
                                                                  header(decoder)))
                    elif result == REJECTED:
                        counts["rejected"] += 1
                        line = json.dumps({"rejected": decoder.reason, "bytes": decoder.length})
                        _show(stdout, args.json, t, line)
                stdout.flush()
        except KeyboardInterrupt:
            pass
        finally:
            ser.close()
        if not args.json:
            stdout.write("%d frames, %d rejected\n" % (counts["frames"], counts["rejected"]))
        return 0


def _show(stdout, as_json, t, line):
    if as_json:
        doc = json.loads(line)
        doc["_t"] = round(t, 3)
        stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return
    doc = json.loads(line)
    if "rejected" in doc:
        stdout.write(printable("%8.3f  rejected: %s (%s bytes)" % (t, doc["rejected"],
                                                                  doc["bytes"])) + "\n")
        return
    src, dst = doc.pop("_src", "?"), doc.pop("_dst", "?")
    kind = doc.pop("type", "?")
    rest = " ".join("%s=%s" % (k, json.dumps(v, ensure_ascii=False)) for k, v in doc.items()
                    if not k.startswith("_"))
    stdout.write(printable("%8.3f  %s -> %s  %s %s" % (t, src, dst, kind, rest)) + "\n")
