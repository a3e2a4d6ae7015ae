# A device's own configuration (config.json on its filesystem): who it is, what it does, how
# it reaches the hub. validate() raises ConfigError naming the file, the key and the reason;
# redacted() is the only form in which a configuration may be shown or logged.

from firmware.boards import PRINTER_CONFIRMS
from firmware.texts import TEXT_KEYS
from protocol.schema import valid_id

ROLES = ("hub", "dispenser", "caller", "evaluator", "display")
SECRET_NAMES = ("password", "psk", "secret", "token")
KINDS = ("ordinary", "priority", "appointment")
KNOWN = ("id", "role", "hall", "board", "bus_address", "window", "service_keys", "rating_levels",
         "wifi", "mqtt", "texts", "glyphs", "transport", "transfer_services", "keymap",
         "printer", "reason_from")


class ConfigError(Exception):
    pass


def validate(doc, source="config.json"):
    def fail(key, reason):
        raise ConfigError("%s: %s: %s" % (source, key, reason))

    if not isinstance(doc, dict):
        raise ConfigError("%s: expected a JSON object" % source)
    for key in doc:
        if key not in KNOWN:
            fail(key, "unknown key")
    for key in ("id", "hall"):
        if not valid_id(doc.get(key)):
            fail(key, "expected 1-32 of a-z 0-9 - _, got %r" % (doc.get(key),))
    role = doc.get("role")
    if role not in ROLES:
        fail("role", "expected one of %s, got %r" % (", ".join(ROLES), role))
    if type(doc.get("board")) is not str:
        fail("board", "expected the name of a board file under boards/")
    transport = doc.get("transport", "serial")
    if transport not in ("serial", "mqtt"):
        fail("transport", "expected serial or mqtt")
    address = doc.get("bus_address")
    if role == "hub":
        if address not in (None, 0):
            fail("bus_address", "the hub is always address 0")
    elif transport == "serial" and (type(address) is not int or not 1 <= address <= 253):
        fail("bus_address", "expected 1..253 (0 is the hub, 254-255 are reserved), got %r" % (address,))
    window = doc.get("window")
    if role in ("caller", "evaluator"):
        if type(window) is not int or not 1 <= window <= 250:
            fail("window", "a %s belongs to a window 1..250, got %r" % (role, window))
    elif window is not None:
        fail("window", "only callers and evaluators belong to a window")
    printer = doc.get("printer")
    if printer is not None:
        if role != "dispenser" or not isinstance(printer, dict):
            fail("printer", "only a dispenser has a printer: {\"confirm\": ...} from its board")
        for key in printer:
            if key != "confirm":
                fail("printer." + key, "unknown key")
        if printer.get("confirm", "none") not in PRINTER_CONFIRMS:
            fail("printer.confirm", "expected one of %s" % ", ".join(PRINTER_CONFIRMS))
    if role == "dispenser":
        keys = doc.get("service_keys")
        if not isinstance(keys, list) or not keys:
            fail("service_keys", "expected a list: one entry per key, like {\"service\": \"A\"}")
        for k, entry in enumerate(keys):
            where = "service_keys[%d]" % k
            if not isinstance(entry, dict) or type(entry.get("service")) is not str:
                fail(where, "expected {\"service\": PREFIX} with an optional \"kind\"")
            if entry.get("kind", "ordinary") not in KINDS:
                fail(where + ".kind", "expected one of %s" % ", ".join(KINDS))
        texts = doc.get("texts")
        if not isinstance(texts, dict) or not isinstance(texts.get("services"), dict):
            fail("texts", "a dispenser needs its printer texts (hallctl provision makes them)")
        for key in TEXT_KEYS:
            if type(texts.get(key)) is not str:
                fail("texts." + key, "expected GB18030 text as hex (hallctl provision)")
        for entry in keys:
            if entry["service"] not in texts["services"]:
                fail("texts.services", "no printer text for service %r" % entry["service"])
    if role == "evaluator" and doc.get("rating_levels", 5) not in (4, 5):
        fail("rating_levels", "expected 4 or 5")
    if doc.get("reason_from") is not None and (role != "evaluator" or doc["reason_from"] not in
                                               (2, 3, 4, 5)):
        fail("reason_from", "an evaluator's first level that needs a reason: 2..5 (the hall's "
             "rules.reason_required_from, set by provision)")
    for section in ("wifi", "mqtt"):
        value = doc.get(section)
        if value is not None and not isinstance(value, dict):
            fail(section, "expected a table")
    if transport == "mqtt":
        mqtt = doc.get("mqtt") or {}
        if type(mqtt.get("host")) is not str:
            fail("mqtt.host", "a device on MQTT needs the broker's host")
        alive = mqtt.get("keepalive_s", 30)
        if type(alive) is not int or not 0 <= alive <= 0xFFFF:
            fail("mqtt.keepalive_s", "expected whole seconds, 0..65535")
    return doc


def link_address(doc):
    # The device's address on its link: its bus address; on MQTT, where the topic names the
    # device and the hub numbers its links itself (hubrun.hub_devices), any valid one.
    return doc.get("bus_address") or 1


def redacted(doc):
    # A copy with every secret replaced, at any depth: for status output and logs.
    if isinstance(doc, dict):
        out = {}
        for key in doc:
            if type(key) is str and key.lower() in SECRET_NAMES:
                out[key] = "***" if doc[key] else ""
            else:
                out[key] = redacted(doc[key])
        return out
    if isinstance(doc, list):
        return [redacted(item) for item in doc]
    return doc


def load(path):
    # Read and validate a file; the error names the file when it is not valid JSON.
    from firmware.jsonfile import load as load_json
    return load_json(path, ConfigError, validate)
