"""hallctl status --port PORT: what a device on a serial line says of itself. hallctl takes the
hub's place on the line: it asks for a status report (status_request) and polls every address
(SPEC.md 2.5) until the device answers, then shows role, firmware, uptime, reset cause, free
heap, link errors, printer and RSSI as a table, or as JSON with --json.
"""
import json
import time

from hallctl.errors import CommandError
from protocol.bus import poll_frame
from protocol.codec import decode_payload
from protocol.codes import PRINTER_STATES, RESET_CAUSES, ROLES
from protocol.frame import FRAME, StreamDecoder, encode_frame
from protocol.schema import BROADCAST, HUB

STATUS_REQUEST = 0x08
STATUS = 0x04
COLUMNS = ("address", "role", "fw", "uptime_s", "reset_cause", "free_heap", "rx_errors",
           "retries", "give_ups", "printer", "rssi")


def _name(table, code):
    return table[code] if 0 <= code < len(table) else str(code)


def open_port(port, baud=115200):
    import serial
    try:
        return serial.Serial(port, baud, timeout=0, exclusive=True)
    except serial.SerialException as exc:
        text = str(exc)
        if "No such file" in text or "could not open port" in text and "Errno 2" in text:
            raise CommandError("%s: no such port" % port) from None
        if "lock" in text.lower() or "busy" in text.lower() or "Errno 11" in text:
            raise CommandError("%s: busy (another program has it open)" % port) from None
        raise CommandError("%s: %s" % (port, text)) from None


def ask(ser, timeout):
    # Ask and poll until a status arrives; returns (address, status message) or None.
    decoder = StreamDecoder()
    request = b"\x00" + bytes(encode_frame(BROADCAST, HUB, 0, 0, STATUS_REQUEST, b""))
    poll = b"\x00" + bytes(poll_frame(1, 254, True))
    deadline = time.monotonic() + timeout
    asked = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now - asked > 0.5:
            ser.write(request)
            asked = now
        ser.write(poll)
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            for result in boundaries(ser, decoder):
                if result == FRAME and decoder.type_id == STATUS and decoder.dst == HUB:
                    payload = decoder.payload()
                    return decoder.src, decode_payload(STATUS, payload, 0, len(payload))
    return None


def boundaries(ser, decoder):
    # What the port holds now, fed through decoder: yields at each frame boundary (the
    # decoder's result and fields tell what was there); waits a moment when nothing came.
    data = ser.read(4096)
    if not data:
        time.sleep(0.005)
        return
    i = 0
    while i < len(data):
        i = decoder.feed(data, i, len(data))
        if decoder.result:
            yield decoder.result


def row(address, msg):
    return {"address": address, "role": _name(ROLES, msg["role"]), "fw": msg["fw"],
            "uptime_s": msg["uptime"], "reset_cause": _name(RESET_CAUSES, msg["reset_cause"]),
            "free_heap": msg["free_heap"], "rx_errors": msg["rx_errors"],
            "retries": msg["retries"], "give_ups": msg["give_ups"],
            "printer": _name(PRINTER_STATES, msg["printer"]), "rssi": msg["rssi"]}


class Status:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--port", required=True, help="the device's serial port")
        parser.add_argument("--baud", type=int, default=115200)
        parser.add_argument("--timeout", type=float, default=5.0,
                            help="seconds to wait for the device (default 5)")
        parser.add_argument("--json", action="store_true", help="one JSON object per device")

    @staticmethod
    def run(args, stdin, stdout):
        ser = open_port(args.port, args.baud)
        try:
            got = ask(ser, args.timeout)
        finally:
            ser.close()
        if got is None:
            raise CommandError("%s: no device answered in %g s (wrong port, baud %d, or not "
                               "running the firmware?)" % (args.port, args.timeout, args.baud))
        r = row(*got)
        if args.json:
            stdout.write(json.dumps(r) + "\n")
            return 0
        widths = [max(len(c), len(str(r[c]))) for c in COLUMNS]
        stdout.write("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip() + "\n")
        stdout.write("  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths)).rstrip() + "\n")
        return 0
