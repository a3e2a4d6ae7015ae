# Board files and device configs: the shipped ones are valid; bad ones are refused with the
# file, the key and the reason; secrets never survive redaction. Both runtimes.
import json
import os

from firmware import boards, devconfig

# Printer texts as provisioning makes them (GB18030 as hex), kept small for the heap.
TEXTS = {"hall": "c4b3", "services": {"A": {"name": "c9e7", "materials": ["c9ed"]}},
         "ahead": "c7b0", "wait": "d4a4", "minutes": "b7d6", "time": "c8a1", "materials": "c7eb"}

# Every board file and a dispenser's config with its printer texts in one process: under
# `micropython -m runner` this needs a little over 64K (under -c it passes in 64K).
HEAPSIZE = "72K"
_ROOT = os.getenv("QMS_ROOT") or __file__.rsplit("/", 3)[0]
SHIPPED = ("esp32-devkitc-dispenser", "esp32-s3-caller", "esp32-c3-evaluator",
           "esp32-devkitc-display", "host")


def _board(name):
    with open(_ROOT + "/boards/" + name + ".json") as f:
        return json.load(f)


def _refused(validate, doc, key, reason):
    try:
        validate(doc, "boards/x.json")
    except (boards.BoardError, devconfig.ConfigError) as exc:
        text = str(exc)
        assert text.startswith("boards/x.json: " + key + ": "), text
        assert reason in text, text
        return
    raise AssertionError("accepted: " + key)


def test_shipped_boards_are_valid():
    for name in SHIPPED:
        board = boards.load(_ROOT + "/boards/" + name + ".json")
        assert board["board"] == name
        assert "bus" in board["uarts"]


def test_bad_boards_name_the_key_and_reason():
    b = _board("esp32-devkitc-dispenser")
    b["uarts"]["printer"]["tx"] = 34
    _refused(boards.validate, b, "uarts.printer.tx", "input-only")
    b = _board("esp32-devkitc-dispenser")
    b["keys"]["pins"][1] = 7
    _refused(boards.validate, b, "keys.pins[1]", "reserved")
    b = _board("esp32-devkitc-dispenser")
    b["status_led"] = 16
    _refused(boards.validate, b, "status_led", "already used by uarts.bus.rx")
    b = _board("esp32-c3-evaluator")
    b["uarts"]["bus"]["id"] = 2
    _refused(boards.validate, b, "uarts.bus.id", "not free")
    b = _board("esp32-c3-evaluator")
    b["display"]["pins"]["scl"] = 19
    _refused(boards.validate, b, "display.pins.scl", "USB console")
    b = _board("esp32-s3-caller")
    b["mcu"] = "esp8266"
    _refused(boards.validate, b, "mcu", "expected one of")
    b = _board("host")
    b["speed"] = 1
    _refused(boards.validate, b, "speed", "unknown key")
    b = _board("esp32-devkitc-display")
    b["display"]["kind"] = "hub12"        # validated once, then no driver: refused instead
    _refused(boards.validate, b, "display.kind", "no driver")
    b = _board("esp32-devkitc-dispenser")
    b["uarts"]["bus"]["de"] = 34          # the transceiver's driver enable is an output
    _refused(boards.validate, b, "uarts.bus.de", "input-only")


def dispenser():
    return {"id": "disp-1", "role": "dispenser", "hall": "district-1",
            "board": "esp32-devkitc-dispenser", "bus_address": 17,
            "service_keys": [{"service": "A"}, {"service": "A", "kind": "priority"}, {"service": "B"}],
            "wifi": {"ssid": "hall", "password": "s3cret-wifi"},
            "mqtt": {"host": "10.0.0.2", "user": "disp-1", "password": "s3cret-mqtt"},
            "texts": dict(TEXTS, services={"A": TEXTS["services"]["A"],
                                           "B": TEXTS["services"]["A"]})}


def test_device_configs_are_validated():
    devconfig.validate(dispenser())
    cases = [
        ("role", "teapot", "role", "expected one of"),
        ("bus_address", 0, "bus_address", "0 is the hub"),
        ("id", "Disp 1", "id", "a-z"),
        ("window", 3, "window", "only callers and evaluators"),
    ]
    for field, value, key, reason in cases:
        doc = dispenser()
        doc[field] = value
        _refused(devconfig.validate, doc, key, reason)
    doc = dispenser()
    doc["service_keys"][1]["kind"] = "vip"
    _refused(devconfig.validate, doc, "service_keys[1].kind", "expected one of")
    doc = dispenser()                  # a dispenser cannot print without its texts
    del doc["texts"]
    _refused(devconfig.validate, doc, "texts", "hallctl provision")
    doc = dispenser()
    del doc["texts"]["services"]["B"]
    _refused(devconfig.validate, doc, "texts.services", "no printer text for service 'B'")
    doc = dispenser()
    doc["texts"]["wait"] = 7
    _refused(devconfig.validate, doc, "texts.wait", "GB18030")
    caller = {"id": "caller-3", "role": "caller", "hall": "h", "board": "esp32-s3-caller",
              "bus_address": 33}
    _refused(devconfig.validate, caller, "window", "belongs to a window")
    for alive in (-1, 65536, 2.5, "30", True):       # the MQTT keepalive, before it is used
        doc = dispenser()
        doc["transport"] = "mqtt"
        doc["mqtt"]["host"] = "10.0.0.2"
        doc["mqtt"]["keepalive_s"] = alive
        _refused(devconfig.validate, doc, "mqtt.keepalive_s", "0..65535")
    doc["mqtt"]["keepalive_s"] = 0
    devconfig.validate(doc)


def test_secrets_never_survive_redaction():
    shown = devconfig.redacted(dispenser())
    text = json.dumps(shown)
    assert "s3cret" not in text
    assert shown["wifi"]["password"] == "***" and shown["mqtt"]["user"] == "disp-1"
    assert dispenser()["wifi"]["password"] == "s3cret-wifi"       # the original is untouched


def test_a_printer_uart_says_what_its_printer_can_do_and_nothing_else():
    for key, value, reason in (("confirm", "dle_eot", "expected one of none, gs_r, gs_h"),
                               ("confirm", 1, "expected one of"),
                               ("font", "big5", "expected gbk or gb18030"),
                               ("speed", 80, "unknown key")):
        b = _board("esp32-devkitc-dispenser")
        b["uarts"]["printer"][key] = value
        _refused(boards.validate, b, "uarts.printer." + key, reason)
    b = _board("esp32-s3-caller")
    b["uarts"]["voice"]["confirm"] = "gs_h"                    # only a printer confirms
    _refused(boards.validate, b, "uarts.voice.confirm", "unknown key")


def test_a_dispenser_config_names_how_its_printer_confirms():
    doc = dispenser()
    doc["printer"] = {"confirm": "gs_h"}
    devconfig.validate(doc)
    for printer, key, reason in (({"confirm": "yes"}, "printer.confirm", "expected one of"),
                                 ({"confirm": "gs_r", "font": "gbk"}, "printer.font",
                                  "unknown key"),
                                 ("gs_h", "printer", "only a dispenser")):
        doc = dispenser()
        doc["printer"] = printer
        _refused(devconfig.validate, doc, key, reason)
    caller = {"id": "caller-3", "role": "caller", "hall": "h", "board": "esp32-s3-caller",
              "bus_address": 33, "window": 3, "printer": {"confirm": "gs_h"}}
    _refused(devconfig.validate, caller, "printer", "only a dispenser")
