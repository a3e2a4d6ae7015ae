# MQTT carrier: topics per hall, device, direction and message name; JSON payloads whose keys
# are the schema's field names, plus "_seq" and "_ack" for link reliability. See SPEC.md.
import json

from protocol import VERSION
from protocol.codec import encode_payload, fields_of, number_for
from protocol.errors import ProtocolError, PayloadError, UnknownTypeError
from protocol.schema import valid_id

ROOT = "qms"
UP = "up"          # device -> hub
DOWN = "down"      # hub -> device
ALL = "all"        # device id that addresses every device of a hall (downlink only)
HUB_ID = "hub"
MAX_JSON = 1024    # bytes; a larger payload is counted and dropped unread

BAD_TOPIC = "bad_topic"
BAD_JSON = "bad_json"
TOO_LONG = "too_long"
UNKNOWN_TYPE = "unknown_type"
BAD_PAYLOAD = "bad_payload"
NEWER_VERSION = "newer_version"
REASONS = (BAD_TOPIC, BAD_JSON, TOO_LONG, UNKNOWN_TYPE, BAD_PAYLOAD, NEWER_VERSION)


def _check_id(what, name):
    if not valid_id(name):
        raise ProtocolError("%s id %r: use 1-32 of a-z 0-9 - _" % (what, name))


def topic(hall, device, direction, name):
    _check_id("hall", hall)
    _check_id("device", device)
    if direction not in (UP, DOWN):
        raise ProtocolError("direction must be up or down")
    number_for(name)
    return "%s/%s/%s/%s/%s" % (ROOT, hall, device, direction, name)


def hall_status_topic(hall):
    # Retained by the hub: the whole hall's device table, for operators (hallctl status --mqtt).
    _check_id("hall", hall)
    return "%s/%s/hub/hall" % (ROOT, hall)


def day_topic(hall):
    # The hub's summary of each closed day (QoS 1, not retained): hallctl collect stores it.
    _check_id("hall", hall)
    return "%s/%s/hub/day" % (ROOT, hall)


def status_topic(hall, device):
    _check_id("hall", hall)
    _check_id("device", device)
    return "%s/%s/%s/status" % (ROOT, hall, device)


def status_payload(online, role=None, fw=None):
    # Retained on the status topic: the birth message (online) and the last will (offline).
    doc = {"online": bool(online), "_v": VERSION}
    if role is not None:
        doc["role"] = role
    if fw is not None:
        doc["fw"] = fw
    return json.dumps(doc)


def _text(s):
    # A JSON string, the same bytes on every runtime (SPEC.md 3.2): " and \ escaped, \n \r \t
    # as such, every other control character below 0x20 as \u00XX, all else as UTF-8. (Both
    # runtimes' json.dumps differ: CPython writes \b and \f, MicroPython \u0008 and \u000c.)
    for ch in s:
        if ch < " " or ch == '"' or ch == "\\":
            break
    else:
        return '"' + s + '"'
    out = []
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch < " ":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _dumps(value):
    # A field's value: text, a whole number, true / false, or a list of either.
    if isinstance(value, str):
        return _text(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_dumps(v) for v in value) + "]"
    return "%d" % value


def to_json(msg, seq=None, ack=False):
    # The JSON payload for a message dict, validated against the schema first. Keys come in
    # schema order so both runtimes produce the same bytes (MicroPython dicts are unordered).
    encode_payload(msg)
    parts = []
    for name in fields_of(msg["type"]):
        parts.append('"%s": %s' % (name, _dumps(msg[name])))
    if seq is not None:
        parts.append('"_seq": %d' % seq)
    if ack:
        parts.append('"_ack": true')
    return "{" + ", ".join(parts) + "}"


class Incoming:
    # One decoded MQTT message: where it came from and what it says.
    def __init__(self, hall, device, direction, msg, seq, ack):
        self.hall = hall
        self.device = device
        self.direction = direction
        self.msg = msg
        self.seq = seq
        self.ack = ack


class MQTTDecoder:
    # Parses (topic, payload) pairs from the broker. Never raises: bad input is counted
    # per reason, the last reason is kept in .reason, and decode() returns None.

    def __init__(self, hall=None):
        self.hall = hall
        self.reason = None
        self.accepted = 0
        self.counts = {}
        for reason in REASONS:
            self.counts[reason] = 0

    def rejected(self):
        total = 0
        for reason in self.counts:
            total += self.counts[reason]
        return total

    def _drop(self, reason):
        self.reason = reason
        self.counts[reason] += 1
        return None

    def decode(self, topic_name, payload):
        if isinstance(topic_name, (bytes, bytearray)):
            try:
                topic_name = bytes(topic_name).decode()
            except UnicodeError:
                return self._drop(BAD_TOPIC)
        parts = topic_name.split("/")
        if len(parts) != 5 or parts[0] != ROOT or parts[3] not in (UP, DOWN):
            return self._drop(BAD_TOPIC)
        hall, device, direction, name = parts[1], parts[2], parts[3], parts[4]
        if (self.hall is not None and hall != self.hall) or not valid_id(hall) or not valid_id(device):
            return self._drop(BAD_TOPIC)
        if len(payload) > MAX_JSON:
            return self._drop(TOO_LONG)
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeError):
            return self._drop(BAD_JSON)
        if not isinstance(doc, dict):
            return self._drop(BAD_JSON)
        version = doc.pop("_v", VERSION)
        if not isinstance(version, int) or version is True or version is False:
            return self._drop(BAD_PAYLOAD)
        if version > VERSION:
            return self._drop(NEWER_VERSION)
        seq = doc.pop("_seq", None)
        ack = doc.pop("_ack", False)
        if seq is not None and (not isinstance(seq, int) or seq is True or seq is False
                                or not 0 <= seq <= 0xFF):
            return self._drop(BAD_PAYLOAD)
        if ack is not True and ack is not False:
            return self._drop(BAD_PAYLOAD)
        doc["type"] = name
        try:
            encode_payload(doc)
        except UnknownTypeError:
            return self._drop(UNKNOWN_TYPE)
        except PayloadError:
            return self._drop(BAD_PAYLOAD)
        self.accepted += 1
        self.reason = None
        return Incoming(hall, device, direction, doc, seq, ack)
