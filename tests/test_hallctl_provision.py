"""hallctl provision as a technician uses it: a device's config from the hall's file, written to
a board (MicroPython's REPL behind a pseudo-terminal) and checked there, secrets never shown."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.texts import printer_texts
from host_sim.realtime import FakePrinter, ReplBoard, VirtualBoard
from hallctl.provision import clip_table

HALLCTL = str(Path(sys.executable).parent / "hallctl")
HALL = Path(__file__).resolve().parents[1] / "tools" / "hallctl" / "hall.example.json"
PSK = "wifi-sekrit-7781"


def hallctl(*args, env=None, timeout=120):
    environ = dict(os.environ)
    environ.pop("QMS_WIFI_PSK", None)
    environ.update(env or {})
    return subprocess.run([HALLCTL] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=environ, stdin=subprocess.DEVNULL)


def host_hall(tmp_path, mqtt=()):
    """The example hall with its devices on the host board (the unix port); those named in
    `mqtt` on MQTT instead of the bus."""
    doc = json.loads(HALL.read_text(encoding="utf-8"))
    for dev in doc["devices"]:
        dev["board"] = "host"
        if dev["id"] in mqtt:
            dev["transport"] = "mqtt"
            del dev["bus_address"]
    path = tmp_path / "hall.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.micropython
def test_a_provisioned_dispenser_boots_with_the_halls_own_texts(tmp_path):
    hall = host_hall(tmp_path)
    made = hallctl("provision", hall, "disp-1", "--out", tmp_path / "disp-1.json")
    assert made.returncode == 0, made.stderr
    assert "printer texts for A, B" in made.stdout
    assert stat.S_IMODE((tmp_path / "disp-1.json").stat().st_mode) == 0o600
    board = ReplBoard(tmp_path / "device")
    try:
        flashed = hallctl("flash", "--port", board.path, "--board", "host", "--config",
                          tmp_path / "disp-1.json")
        assert flashed.returncode == 0, flashed.stderr
        # Provisioned again on the device itself: config.json replaced and checked there.
        again = hallctl("provision", hall, "disp-1", "--port", board.path)
        assert again.returncode == 0, again.stderr
        assert "config.json on %s, verified by SHA-256" % board.path in again.stdout
    finally:
        board.close()
    config = json.loads((board.root / "config.json").read_text(encoding="utf-8"))
    texts = printer_texts(config["texts"])
    assert texts["hall"].decode("gb18030") == "东城区政务服务中心"
    assert texts["services"]["A"]["name"].decode("gb18030") == "社保"
    assert [m.decode("gb18030") for m in texts["services"]["A"]["materials"]] == ["身份证"]
    printer = FakePrinter()                 # the device starts from what was written to it
    device = VirtualBoard(board.root, tmp_path, config, printer=printer)
    device.close()
    printer.close()


def test_a_device_on_mqtt_gets_its_credentials_and_nobody_sees_them(tmp_path):
    hall = host_hall(tmp_path, mqtt=["disp-2"])
    broker = hallctl("broker-config", hall, "--out", tmp_path / "broker")
    assert broker.returncode == 0, broker.stderr
    password = json.loads((tmp_path / "broker" / "credentials.json").read_text())["disp-2"]
    out = tmp_path / "disp-2.json"
    out.write_text("{}")                 # an older config, readable by anyone
    out.chmod(0o644)
    proc = hallctl("provision", hall, "disp-2", "--out", out, "--credentials",
                   tmp_path / "broker", env={"QMS_WIFI_PSK": PSK})
    assert proc.returncode == 0, proc.stderr
    config = json.loads(out.read_text(encoding="utf-8"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600       # no longer readable by others
    assert config["wifi"] == {"ssid": "hall-iot", "psk": PSK}
    assert config["mqtt"] == {"host": "10.0.0.2", "port": 1883, "user": "disp-2",
                              "password": password}
    assert "password set" in proc.stdout
    for secret in (PSK, password):
        assert secret not in proc.stdout + proc.stderr
    # Without the Wi-Fi password in the environment (and no terminal to ask on): refused.
    missing = hallctl("provision", hall, "disp-2", "--out", out)
    assert missing.returncode == 2 and missing.stderr.startswith("hallctl: QMS_WIFI_PSK: not set")


def test_a_hub_gets_the_halls_routing_and_its_devices_without_secrets(tmp_path):
    hall = host_hall(tmp_path)
    proc = hallctl("provision", hall, "hub-1", "--out", tmp_path / "out" / "config.json")
    assert proc.returncode == 0, proc.stderr
    routing = json.loads((tmp_path / "out" / "hall.json").read_text(encoding="utf-8"))
    assert routing["services"][0]["name"] == "社保"
    devices = json.loads((tmp_path / "out" / "devices.json").read_text(encoding="utf-8"))
    assert {d["id"] for d in devices} == {"disp-1", "disp-2", "caller-1", "caller-2", "eval-1",
                                          "eval-2", "display-1"}


def test_callers_and_evaluators_get_the_glyphs_they_show(tmp_path):
    hall = host_hall(tmp_path)
    for ident, must in (("caller-1", ["号窗口", "A", "7"]), ("eval-1", ["请对本次服务评价", "张", "四"])):
        out = tmp_path / (ident + ".json")
        proc = hallctl("provision", hall, ident, "--out", out)
        assert proc.returncode == 0, proc.stderr
        glyphs = json.loads(out.read_text(encoding="utf-8"))["glyphs"]
        for token in must:
            assert token in glyphs and bytes.fromhex(glyphs[token]).strip(b"\0"), token


def test_the_voice_cards_clips_are_laid_out_by_number(tmp_path):
    hall = host_hall(tmp_path)
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for word in clip_table().values():
        (recordings / (word + ".mp3")).write_bytes(b"ID3" + word.encode("utf-8"))
    (recordings / "窗口.mp3").unlink()
    sd = tmp_path / "sd"
    short = hallctl("provision", hall, "caller-1", "--out", tmp_path / "c.json", "--sd", sd,
                    "--recordings", recordings)
    assert short.returncode == 2
    assert short.stderr == "hallctl: %s: no recording for 1 clip: 窗口 (expected WORD.mp3)\n" % recordings
    assert not (tmp_path / "c.json").exists() and not sd.exists()     # a failure writes nothing
    (recordings / "窗口.mp3").write_bytes(b"ID3window")
    proc = hallctl("provision", hall, "caller-1", "--out", tmp_path / "c.json", "--sd", sd,
                   "--recordings", recordings)
    assert proc.returncode == 0, proc.stderr
    assert (sd / "mp3" / "0040.mp3").read_bytes() == "ID3请".encode("utf-8")     # CLIP_PLEASE
    assert (sd / "mp3" / "0001.mp3").read_bytes() == b"ID3A"
    assert "0043.mp3\t窗口" in (sd / "clips.txt").read_text(encoding="utf-8")
    assert sorted(p.name for p in sd.iterdir()) == ["clips.txt", "mp3"]   # nothing else there
    assert len(list((sd / "mp3").iterdir())) == len(clip_table())


def test_provision_refuses_with_the_file_the_key_and_the_reason(tmp_path):
    hall = host_hall(tmp_path)
    unknown = hallctl("provision", hall, "disp-9", "--out", tmp_path / "x.json")
    assert unknown.returncode == 2 and "devices: no device 'disp-9'" in unknown.stderr
    doc = json.loads(hall.read_text(encoding="utf-8"))
    doc["devices"][1]["service_keys"].append({"service": "Z"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    proc = hallctl("provision", bad, "disp-1", "--out", tmp_path / "x.json")
    assert proc.stderr == ("hallctl: %s: devices[1].service_keys: service 'Z' is not in "
                           "routing.services\n" % bad)
    gone = hallctl("provision", hall, "disp-1", "--port", "/dev/no-such-tty")
    assert gone.returncode == 2 and gone.stderr == "hallctl: /dev/no-such-tty: no such port\n"
    assert not (tmp_path / "x.json").exists()


def test_a_gbk_printer_is_never_given_a_character_it_cannot_print(tmp_path):
    # 䶮 and € are four-byte GB18030 codes: a GBK printer's font prints them as garbage.
    hall = host_hall(tmp_path)
    doc = json.loads(hall.read_text(encoding="utf-8"))
    doc["routing"]["services"][0]["materials"].append("䶮氏族谱")
    doc["name"] = "€ 服务中心"
    hall.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    proc = hallctl("provision", hall, "disp-1", "--out", tmp_path / "disp-1.json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("hallctl: %s: name: € (U+20AC); services[A].materials[1]: 䶮 "
                                  "(U+4DAE): a GBK printer cannot print these" % hall)
    assert "(board host)" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "disp-1.json").exists()
    board = json.loads((Path(__file__).resolve().parents[1] / "boards" / "host.json").read_text())
    board["board"] = "wide-font"
    board["uarts"]["printer"]["font"] = "gb18030"            # a printer with the whole font
    (tmp_path / "wide.json").write_text(json.dumps(board))
    doc["devices"][1]["board"] = str(tmp_path / "wide.json")
    hall.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    made = hallctl("provision", hall, "disp-1", "--out", tmp_path / "disp-1.json")
    assert made.returncode == 0, made.stderr
    config = json.loads((tmp_path / "disp-1.json").read_text())
    assert "䶮氏族谱".encode("gb18030").hex() in config["texts"]["services"]["A"]["materials"]
    assert config["printer"] == {"confirm": "gs_h"}           # from the board's printer


def test_a_board_names_how_its_printer_confirms_a_ticket():
    from firmware import boards
    board = json.loads((Path(__file__).resolve().parents[1] / "boards" / "host.json").read_text())
    board["uarts"]["printer"]["confirm"] = "dle_eot"
    with pytest.raises(boards.BoardError) as exc:
        boards.validate(board, "my.json")
    assert str(exc.value) == "my.json: uarts.printer.confirm: expected one of none, gs_r, gs_h"
    board["uarts"]["printer"]["confirm"] = "gs_r"
    board["uarts"]["printer"]["speed"] = 1
    with pytest.raises(boards.BoardError) as exc:
        boards.validate(board, "my.json")
    assert str(exc.value) == "my.json: uarts.printer.speed: unknown key"


def _tree(root):
    return {p: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(Path(root).rglob("*"))}


def test_provision_never_overwrites_its_input_or_a_file_it_did_not_make(tmp_path):
    hall = host_hall(tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n")
    victim = tmp_path / "victim.json"
    victim.write_text("theirs\n")
    (tmp_path / "planted.json").symlink_to(victim)
    cases = [
        (("hub-1", "--out", tmp_path / "hub-1.json"), "directory of their own"),  # beside hall
        (("hub-1", "--out", tmp_path / "config.json"), "directory of their own"),
        (("disp-1", "--out", hall), "input"),                    # the hall file itself
        (("disp-1", "--out", tmp_path / "planted.json"), "symbolic link"),
        (("disp-1", "--out", tmp_path / "notes.txt" / "x.json"), "notes.txt"),
        (("disp-1", "--out", tmp_path), "directory"),
    ]
    for args, why in cases:
        before = _tree(tmp_path)
        proc = hallctl("provision", hall, *args)
        assert proc.returncode == 2, (args, proc.stdout)
        err = proc.stderr.strip()
        assert len(err.splitlines()) == 1 and why in err and "Traceback" not in err, (args, err)
        assert _tree(tmp_path) == before, args
    hub_dir = tmp_path / "hub-1"
    proc = hallctl("provision", hall, "hub-1", "--out", hub_dir / "config.json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in hub_dir.iterdir()) == ["config.json", "devices.json",
                                                         "hall.json"]
    again = hallctl("provision", hall, "hub-1", "--out", hub_dir / "config.json")
    assert again.returncode == 0, again.stderr           # its own files: replaced
    assert json.loads(hall.read_text(encoding="utf-8"))["devices"]    # the input intact


def a_hall_with(tmp_path, change):
    doc = json.loads(host_hall(tmp_path).read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "mistaken.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _set(*path_and_value):
    *path, key, value = path_and_value

    def change(doc):
        for step in path:
            doc = doc[step]
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return change


def _rename(*path_and_names):
    *path, old, new = path_and_names

    def change(doc):
        for step in path:
            doc = doc[step]
        doc[new] = doc.pop(old)
    return change


HALL_MISTAKES = [
    (_rename("name", "nmae"), "nmae: unknown key (did you mean 'name'?)"),
    (_rename("network", "wifi_ssid", "wifi_sid"),
     "network.wifi_sid: unknown key (did you mean 'wifi_ssid'?)"),
    (_rename("routing", "services", 0, "name", "nam"),
     "routing.services[0].nam: unknown key (did you mean 'name'?)"),
    (_rename("devices", 1, "service_keys", "service_key"),
     "devices[1].service_key: unknown key (did you mean 'service_keys'?)"),
    (_set("devices", 2, "bus_address", 17), "devices[2].bus_address: 17 is disp-1's as well"),
    (_set("devices", 3, "window", 7), "devices[3].window: the hall has no window 7 "
     "(routing.windows: 1, 2)"),
    (_set("devices", 3, "board", "esp32-nonesuch"), "devices[3].board: no board file "
     "'esp32-nonesuch' (the boards are esp32-c3-evaluator, esp32-devkitc-dispenser, "
     "esp32-devkitc-display, esp32-s3-caller, host)"),
    (_set("devices", 5, "window", 2), "routing.windows[0].evaluator: no evaluator 'eval-1' at "
     "window 1 in devices"),
    (_set("devices", 0, "role", "router"), "devices[0].role: expected one of hub, dispenser, "
     "caller, evaluator, display, got 'router'"),
]


@pytest.mark.parametrize("change, message", HALL_MISTAKES, ids=[m[1][:40] for m in HALL_MISTAKES])
def test_a_mistaken_hall_file_is_refused_by_every_command(tmp_path, change, message):
    hall = a_hall_with(tmp_path, change)
    before = hall.read_bytes()
    for args in (("provision", hall, "disp-1", "--out", tmp_path / "x.json"),
                 ("broker-config", hall, "--out", tmp_path / "broker")):
        proc = hallctl(*args)
        assert proc.returncode == 2 and proc.stderr == "hallctl: %s: %s\n" % (hall, message), \
            proc.stderr
    assert hall.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hall.json", "mistaken.json"]


def test_a_serial_hub_is_not_given_a_device_it_cannot_reach(tmp_path):
    # (its devices.json would name a device with no bus address: the hub would fail at boot)
    hall = host_hall(tmp_path, mqtt=["disp-2"])
    proc = hallctl("provision", hall, "hub-1", "--out", tmp_path / "hub" / "config.json")
    assert proc.returncode == 2 and proc.stderr == (
        "hallctl: %s: devices[2].transport: disp-2 is on MQTT, which hub hub-1 (on the bus) "
        "cannot reach: put the hall's devices on one carrier\n" % hall)
    assert not (tmp_path / "hub").exists()
