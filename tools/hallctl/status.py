"""hallctl status --port PORT | --mqtt HOST[:PORT] | --data DIR: what the devices say of themselves.

On a port with one device, hallctl takes the hub's place on the line: it asks for a status
report (status_request) and polls every address (SPEC.md 2.5) until the device answers. On the
hub's console port it sends the line `qms status` and the hub answers for the whole hall. With
--mqtt it reads the hall status the hub keeps retained on the broker (qms/HALL/hub/hall); with
--data, the status the hall PC's hub (hallctl hub) keeps in its data directory.
A table (role, window, online, last seen, firmware, uptime, reset cause, free heap, link
errors, printer, RSSI), or with --json one JSON object per device.
"""
import json
import time

from hallpc.errors import CommandError
from hallctl.screen import printable
from protocol.bus import poll_frame
from protocol.codec import decode_payload
from protocol.codenames import PRINTER_STATES, RESET_CAUSES, ROLES
from protocol.codes import STATUS_REQUEST
from protocol.frame import FRAME, StreamDecoder, encode_frame
from protocol.schema import BROADCAST, HUB

STATUS = 0x04
COLUMNS = ("address", "role", "fw", "uptime_s", "reset_cause", "free_heap", "rx_errors",
           "retries", "give_ups", "printer", "rssi")
HALL_COLUMNS = ("id", "address", "role", "window", "online", "last_seen", "fw", "uptime_s",
                "reset_cause", "free_heap", "rx_errors", "printer", "rssi")
HUB_QUERY = b"\r\nqms status\r\n"


def _name(table, code):
    # A code's name; None (never reported) stays None.
    if code is None:
        return None
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
    """Ask until someone answers: ("device", address, status message) from a device on the
    line, ("hall", document) from a hub's console, or None. A device answers within the first
    half second, before the hub's text query is ever written to its line."""
    decoder = StreamDecoder()
    request = b"\x00" + bytes(encode_frame(BROADCAST, HUB, 0, 0, STATUS_REQUEST, b""))
    poll = b"\x00" + bytes(poll_frame(1, 254, True))
    deadline = time.monotonic() + timeout
    asked = 0.0
    rounds = 0
    line = b""                          # the console's current, unfinished line
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now - asked > 0.5:
            ser.write(request if rounds % 2 == 0 else HUB_QUERY)
            asked = now
            rounds += 1
        ser.write(poll)
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            data = read_some(ser)
            for result in boundaries(data, decoder):
                if result == FRAME and decoder.type_id == STATUS and decoder.dst == HUB:
                    payload = decoder.payload()
                    return "device", decoder.src, decode_payload(STATUS, payload, 0, len(payload))
            *whole, line = (line + data).split(b"\n")
            for text in whole:                # the hub console's answer is one whole line
                doc = hall_document(text.strip())
                if doc is not None:
                    return "hall", doc
            line = line[-MAX_LINE:]
    return None


MAX_LINE = 1 << 20


def hall_document(raw):
    # A hub's hall status (console line or retained message), or None for anything else.
    if not raw.startswith(b"{"):
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("devices"), list) else None


def read_some(ser):
    # What the port holds now; waits a moment when nothing came.
    data = ser.read(4096)
    if not data:
        time.sleep(0.005)
    return data


def boundaries(data, decoder):
    # data fed through decoder: yields at each frame boundary (the decoder's result and fields
    # tell what was there).
    i = 0
    while i < len(data):
        i = decoder.feed(data, i, len(data))
        if decoder.result:
            yield decoder.result


def hall_rows(doc):
    """One row per device of a hub's hall status, the hub first; times as seconds ago."""
    now = doc.get("now") or 0
    hub = doc.get("hub") or {}
    rows = [{"id": hub.get("id", "hub"), "address": 0, "role": "hub", "window": None,
             "online": True, "last_seen": 0, "fw": hub.get("fw"), "uptime_s": hub.get("uptime"),
             "reset_cause": _name(RESET_CAUSES, hub.get("reset_cause", 0)),
             "free_heap": hub.get("free_heap"), "rx_errors": None, "printer": None,
             "rssi": hub.get("rssi")}]
    for dev in doc.get("devices", []):
        seen = dev.get("last_seen")
        rows.append({"id": dev["id"], "address": dev["address"], "role": dev["role"],
                     "window": dev.get("window"), "online": dev["online"],
                     "last_seen": None if seen is None else max(0, now - seen),
                     "fw": dev.get("fw"), "uptime_s": dev.get("uptime"),
                     "reset_cause": _name(RESET_CAUSES, dev.get("reset_cause")),
                     "free_heap": dev.get("free_heap"), "rx_errors": dev.get("rx_errors"),
                     "printer": _name(PRINTER_STATES, dev.get("printer")),
                     "rssi": dev.get("rssi"), "refused": dev.get("refused"),
                     "faults": dev.get("faults"), "out_of_turn": dev.get("out_of_turn")})
    return rows


def troubles(doc):
    """Lines for what an operator must act on: the hub's journal, misbehaving devices."""
    out = []
    journal = doc.get("journal") or {}
    if journal.get("lost") or journal.get("from_previous"):
        out.append("journal: %d records could not be read at the hub's last start%s; the "
                   "damaged file is kept beside the journal" % (
                       journal.get("lost", 0), " (the day was rebuilt from the previous "
                       "generation)" if journal.get("from_previous") else ""))
    if journal.get("storage_failed"):
        out.append("journal: the hub cannot write its journal (disk full?) and refuses what it "
                   "cannot record; %d writes failed" % journal.get("write_failures", 0))
    for dev in doc.get("devices", []):
        said = []
        if dev.get("out_of_turn"):
            said.append("talked out of turn on the bus %d times (told to keep quiet)"
                        % dev["out_of_turn"])
        if dev.get("refused"):
            said.append("%d messages refused" % dev["refused"])
        if dev.get("faults"):
            said.append("%d messages the hub failed on" % dev["faults"])
        if said:
            out.append("%s: %s" % (dev["id"], ", ".join(said)))
    return out


def cell(column, value):
    if value is None:
        return "-"
    if column == "online":
        return "yes" if value else "NO"
    if column == "last_seen":
        return "%ds ago" % value
    return printable(value)


def table(rows, columns, stdout):
    cells = [[cell(c, r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(line[k]) for line in cells]) for k, c in enumerate(columns)]
    stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    for line in cells:
        stdout.write("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() + "\n")


def row(address, msg):
    return {"address": address, "role": _name(ROLES, msg["role"]), "fw": msg["fw"],
            "uptime_s": msg["uptime"], "reset_cause": _name(RESET_CAUSES, msg["reset_cause"]),
            "free_heap": msg["free_heap"], "rx_errors": msg["rx_errors"],
            "retries": msg["retries"], "give_ups": msg["give_ups"],
            "printer": _name(PRINTER_STATES, msg["printer"]), "rssi": msg["rssi"]}


class Status:
    @staticmethod
    def add_arguments(parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--port", help="a device's serial port, or the hub's console")
        where.add_argument("--mqtt", metavar="HOST[:PORT]", help="the hall's broker")
        where.add_argument("--data", metavar="DIR", help="the data directory of hallctl hub")
        parser.add_argument("--hall", help="with --mqtt: which hall (default: every hall there)")
        parser.add_argument("--user", help="with --mqtt: the broker account (its password "
                                           "from QMS_MQTT_PASSWORD)")
        parser.add_argument("--baud", type=int, default=115200)
        parser.add_argument("--timeout", type=float, default=5.0,
                            help="seconds to wait for the device (default 5)")
        parser.add_argument("--json", action="store_true", help="one JSON object per device")

    @staticmethod
    def run(args, stdin, stdout):
        if args.data:
            show_hall(data_status(args.data), args.json, stdout)
            return 0
        if args.mqtt:
            halls = mqtt_status(args.mqtt, args.hall, args.user, args.timeout)
            for doc in halls:
                show_hall(doc, args.json, stdout)
            return 0
        ser = open_port(args.port, args.baud)
        try:
            got = ask(ser, args.timeout)
        finally:
            ser.close()
        if got is None:
            raise CommandError("%s: no device answered in %g s (wrong port, baud %d, or not "
                               "running the firmware?)" % (args.port, args.timeout, args.baud))
        if got[0] == "hall":
            show_hall(got[1], args.json, stdout)
            return 0
        r = row(*got[1:])
        if args.json:
            stdout.write(json.dumps(r) + "\n")
            return 0
        table([r], COLUMNS, stdout)
        return 0


def show_hall(doc, as_json, stdout):
    rows = hall_rows(doc)
    if as_json:
        for r in rows:
            stdout.write(json.dumps(dict(r, hall=doc.get("hall"))) + "\n")
        return
    offline = sum(1 for r in rows if not r["online"])
    waiting = doc.get("waiting") or {}
    stdout.write(printable("hall %s: %d devices, %d offline; waiting %s" % (
        doc.get("hall"), len(rows) - 1, offline,
        ", ".join("%s %s" % kv for kv in sorted(waiting.items())) or "-")) + "\n")
    table(rows, HALL_COLUMNS, stdout)
    for line in troubles(doc):
        stdout.write("! %s\n" % printable(line))


STALE_S = 30       # hallctl hub rewrites its status every 5 s


def data_status(directory):
    """The hall as hallctl hub last wrote it in its data directory; a hub that stopped or has
    not written for STALE_S is said so on stderr (the table is what it knew then)."""
    import sys
    from pathlib import Path
    path = Path(directory) / "status.json"
    try:
        raw = path.read_bytes()
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        raise CommandError("%s: no hub status here (is hallctl hub running with --data %s?)"
                           % (path, directory)) from None
    except OSError as exc:
        raise CommandError("%s: cannot read: %s" % (path, exc.strerror)) from None
    doc = hall_document(raw)
    if doc is None:
        raise CommandError("%s: not a hub's status document" % path)
    hub = doc.get("hub") if isinstance(doc.get("hub"), dict) else {}
    if hub.get("stopped"):
        sys.stderr.write("hallctl: %s: the hub stopped %s ago; this is the hall as it left it\n"
                         % (directory, _ago(age)))
    elif age > STALE_S:
        sys.stderr.write("hallctl: %s: the hub has not written for %s (is it running?)\n"
                         % (directory, _ago(age)))
    return doc


def _ago(seconds):
    seconds = int(max(seconds, 0))
    return "%d s" % seconds if seconds < 120 else "%d min" % (seconds // 60)


def mqtt_status(target, hall, user, timeout):
    """The hall status documents the hubs keep retained on a broker."""
    import os
    import paho.mqtt.client as mqtt
    host, _, port = target.partition(":")
    topic = "qms/%s/hub/hall" % (hall or "+")
    got = {}
    failed = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if user:
        client.username_pw_set(user, os.environ.get("QMS_MQTT_PASSWORD"))

    def connected(client, userdata, flags, reason, properties=None):
        if reason.is_failure:
            failed.append(str(reason))
        else:
            client.subscribe(topic, qos=1)

    def message(client, userdata, msg):
        doc = hall_document(msg.payload)
        if doc is not None:
            got[msg.topic] = doc
    client.on_connect = connected
    client.on_message = message
    try:
        client.connect(host, int(port or 1883), keepalive=30)
    except (OSError, ValueError) as exc:
        raise CommandError("%s: cannot reach the broker: %s" % (target, getattr(
            exc, "strerror", None) or exc)) from None
    deadline = time.monotonic() + timeout
    quiet = None
    while time.monotonic() < deadline and not failed:
        client.loop(0.05)
        if got and quiet is None:
            quiet = time.monotonic() + 0.3         # let the other halls' retained ones arrive
        if quiet is not None and time.monotonic() > quiet:
            break
    client.disconnect()
    if failed:
        raise CommandError("%s: the broker refused us: %s" % (target, failed[0]))
    if not got:
        raise CommandError("%s: no hub has published a hall status%s in %g s" % (
            target, " for hall %s" % hall if hall else "", timeout))
    return [got[t] for t in sorted(got)]
