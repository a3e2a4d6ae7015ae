"""hallctl provision HALL.json DEVICE (--port PORT | --out FILE): a device's config.json made
from the hall's file, with everything the device cannot make itself.

HALL.json is the one file that describes a hall (broker-config reads it too):
  {"hall": "district-1", "name": "某区政务服务中心",
   "routing": {...the hub's hall configuration: services, windows, staff, rules...},
   "network": {"wifi_ssid": "hall-iot", "mqtt_host": "10.0.0.2", "mqtt_port": 1883},
   "devices": [{"id": "disp-1", "role": "dispenser", "board": "esp32-devkitc-dispenser",
                "bus_address": 17, "service_keys": [{"service": "A"}]}, ...]}
To the device's own entry provision adds the hall id and:
- a dispenser's printer texts in GB18030 (the hall's name, each service's name and materials);
- the LED or screen glyphs a caller, display or evaluator shows, rendered from a CJK font
  (an evaluator also gets every character of the staff's names);
- for a device on MQTT, Wi-Fi (network.wifi_ssid) and MQTT credentials: the Wi-Fi password comes from the
  environment (QMS_WIFI_PSK) or is asked for, the MQTT password from broker-config's
  credentials.json (--credentials DIR). Neither is ever shown, on screen or in errors;
- for a hub, /hall.json (the routing configuration) and /devices.json (its devices, without
  secrets) besides config.json.
With --sd DIR and --recordings DIR it also lays out the voice module's SD card: the hall's
recordings (A.mp3, 7.mp3, 请.mp3, chime.mp3, ...) as /mp3/NNNN.mp3 by clip number, with the
clip list in clips.txt. The result is validated as the device validates it; on --port it is
written with mpremote and checked by SHA-256 on the device.
"""
import getpass
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from firmware import devconfig
from firmware.drivers import dfplayer
from hallpc import glyphs
from hallpc import texts
from hallctl.broker import read_hall
from hallpc.errors import CommandError
from hallpc.files import Writes, make_dir, write_text
from hallctl.flash import plural

PSK_ENV = "QMS_WIFI_PSK"
HUB_FILES = ("hall.json", "devices.json")


def role_phrases(role):
    if role == "caller":
        from firmware.roles.caller import PHRASES
    elif role == "display":
        from firmware.roles.display import PHRASES
    elif role == "evaluator":
        from firmware.roles.evaluator import PHRASES
    else:
        return ()
    return PHRASES


def clip_table():
    """Clip number -> the word its recording says, as the firmware numbers them."""
    table = {dfplayer.CLIP_LETTER + k: chr(65 + k) for k in range(26)}
    table.update({dfplayer.CLIP_DIGIT + k: str(k) for k in range(10)})
    table.update({dfplayer.CLIP_PLEASE: "请", dfplayer.CLIP_NUMBER: "号", dfplayer.CLIP_TO: "到",
                  dfplayer.CLIP_WINDOW: "窗口", dfplayer.CLIP_AGAIN: "重呼",
                  dfplayer.CLIP_CHIME: "chime"})
    return table


def check_recordings(recordings):
    """The clip table, once every recording it names is there (before anything is written)."""
    table = clip_table()
    missing = [word for word in table.values() if not (recordings / (word + ".mp3")).is_file()]
    if missing:
        raise CommandError("%s: no recording for %s: %s (expected WORD.mp3)"
                           % (recordings, plural(len(missing), "clip"), ", ".join(missing[:8])
                              + (", ..." if len(missing) > 8 else "")))
    return table


def lay_out_sd(recordings, sd):
    """Copy recordings named by word to sd/mp3/NNNN.mp3; returns the number of clips."""
    recordings, sd = Path(recordings), Path(sd)
    table = check_recordings(recordings)
    make_dir(sd / "mp3")
    lines = []
    for number, word in sorted(table.items()):
        shutil.copyfile(recordings / (word + ".mp3"), sd / "mp3" / ("%04d.mp3" % number))
        lines.append("%04d.mp3\t%s\n" % (number, word))
    write_text(sd / "clips.txt", "".join(lines))
    return len(table)


def _printer_of(config, where):
    # The printer UART of the dispenser's board file: what its printer can do.
    from firmware import boards
    from hallctl.bundle import board_file
    name = config.get("board")
    if not isinstance(name, str):
        raise CommandError("%s.board: expected the name of a board file under boards/" % where)
    path = board_file(name)
    try:
        board = boards.load(str(path))
    except boards.BoardError as exc:
        raise CommandError(str(exc)) from None
    return board["uarts"].get("printer") or {}


def wifi_password(stdin_is_tty):
    psk = os.environ.get(PSK_ENV)
    if psk is None and stdin_is_tty:
        psk = getpass.getpass("Wi-Fi password (not shown): ")
    if not psk:
        raise CommandError("%s: not set: the Wi-Fi password comes from the environment or is "
                           "asked for, never from the command line" % PSK_ENV)
    return psk


def make(hall_path, ident, credentials=None, stdin_is_tty=False):
    """(config, extra files name -> text) for device `ident` of HALL.json."""
    doc = read_hall(hall_path)
    found = [(k, d) for k, d in enumerate(doc["devices"]) if d.get("id") == ident]
    if not found:
        raise CommandError("%s: devices: no device %r (the hall has %s)" % (
            hall_path, ident, ", ".join(d["id"] for d in doc["devices"])))
    k, entry = found[0]
    where = "%s: devices[%d]" % (hall_path, k)
    routing = doc.get("routing")
    if not isinstance(routing, dict):
        raise CommandError("%s: routing: expected the hub's hall configuration (services, "
                           "windows, staff)" % hall_path)
    network = doc.get("network", {})
    if not isinstance(network, dict):
        raise CommandError("%s: network: expected a table" % hall_path)
    config = dict(entry, hall=doc["hall"])
    role = config.get("role")
    if role == "dispenser":
        services = {s.get("prefix"): (s.get("name", s.get("prefix")), s.get("materials", []))
                    for s in routing.get("services", []) if isinstance(s, dict)}
        wanted = [key.get("service") for key in config.get("service_keys", [])
                  if isinstance(key, dict)]
        unknown = [p for p in wanted if p not in services]
        if unknown:
            raise CommandError("%s.service_keys: service %r is not in routing.services"
                               % (where, unknown[0]))
        printer = _printer_of(config, where)
        if printer.get("confirm", "none") != "none":
            config["printer"] = {"confirm": printer["confirm"]}
        try:
            config["texts"] = texts.printer_texts(doc.get("name", doc["hall"]),
                                                  {p: services[p] for p in wanted},
                                                  font=printer.get("font", "gbk"))
        except texts.TextError as exc:
            raise CommandError("%s: %s (board %s)" % (hall_path, exc, config.get("board"))) \
                from None
    if role == "evaluator":             # the hall's rating rules, as the hub enforces them
        from firmware.routing.config import DEFAULT_RULES
        rules = dict(DEFAULT_RULES, **(routing.get("rules") or {}))
        config["rating_levels"] = rules["rating_levels"]
        config["reason_from"] = rules["reason_required_from"]
    phrases = list(role_phrases(role))
    if role == "evaluator":
        names = "".join(v for v in routing.get("staff", {}).values() if isinstance(v, str))
        phrases += sorted(set(names) - set("".join(phrases)))
    if phrases:
        try:
            config["glyphs"] = glyphs.prepare(phrases)
        except glyphs.GlyphError as exc:
            raise CommandError(str(exc)) from None
    if config.get("transport") == "mqtt":
        if not network.get("wifi_ssid"):
            raise CommandError("%s: network.wifi_ssid: %s is on MQTT and needs the Wi-Fi"
                               % (hall_path, ident))
        config["wifi"] = {"ssid": network["wifi_ssid"], "psk": wifi_password(stdin_is_tty)}
        if not network.get("mqtt_host"):
            raise CommandError("%s: network.mqtt_host: %s is on MQTT and needs the broker"
                               % (hall_path, ident))
        account = "hub" if role == "hub" else ident      # (broker-config's accounts)
        mqtt = {"host": network["mqtt_host"], "port": network.get("mqtt_port", 1883),
                "user": account}
        if credentials is not None:
            path = Path(credentials) / "credentials.json"
            try:
                creds = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError("%s: cannot read: %s" % (path, getattr(exc, "strerror", exc)
                                                            or exc)) from None
            if account not in creds:
                raise CommandError("%s: no account for %s (run hallctl broker-config again)"
                                   % (path, account))
            mqtt["password"] = creds[account]
        config["mqtt"] = mqtt
    try:
        devconfig.validate(config, where)
    except devconfig.ConfigError as exc:
        raise CommandError(str(exc)) from None
    extra = {}
    if role == "hub":                   # (read_hall has checked the routing whole)
        from hallctl.broker import check_hub_reach
        check_hub_reach(doc, entry, hall_path)
        extra["hall.json"] = json.dumps(routing, ensure_ascii=False)
        extra["devices.json"] = json.dumps(devconfig.redacted(
            [d for d in doc["devices"] if d.get("role") != "hub"]), ensure_ascii=False)
    return config, extra


def summary(config):
    parts = ["%s: %s" % (config["id"], config["role"])]
    if config.get("bus_address"):
        parts.append("bus address %d" % config["bus_address"])
    if config.get("window"):
        parts.append("window %d" % config["window"])
    if "texts" in config:
        parts.append("printer texts for %s" % ", ".join(sorted(config["texts"]["services"])))
    if "glyphs" in config:
        parts.append("%d glyphs" % len(config["glyphs"]))
    if "wifi" in config:
        parts.append("Wi-Fi %s (password set)" % config["wifi"]["ssid"])
    if "mqtt" in config:
        parts.append("MQTT %s@%s:%d (%s)" % (config["mqtt"]["user"], config["mqtt"]["host"],
                                             config["mqtt"]["port"], "password set"
                                             if config["mqtt"].get("password") else "no password"))
    return "; ".join(parts)


def _device_root(out, extra):
    # A hub's files (config.json, hall.json, devices.json) lie as on the device, in a
    # directory of their own: never beside the technician's hall file or anything else.
    ours = {out.name} | set(extra)
    others = sorted(p.name for p in out.parent.iterdir() if p.name not in ours)
    if out.name != "config.json" or others:
        raise CommandError("%s: a hub's files go in a directory of their own, as on the "
                           "device: --out DIR/config.json%s" % (
                               out, " (%s holds %s)" % (out.parent, ", ".join(others[:3]))
                               if others else ""))


class Provision:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("hall", help="HALL.json: the hall, its routing and its devices")
        parser.add_argument("device", help="the id of the device to provision")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--port", help="write config.json onto the device on this port")
        where.add_argument("--out", help="write config.json here instead (for flash --config)")
        parser.add_argument("--credentials", help="broker-config's output directory (MQTT "
                                                  "passwords)")
        parser.add_argument("--sd", help="also lay out the voice module's SD card in this "
                                         "directory")
        parser.add_argument("--recordings", help="with --sd: the hall's recordings, WORD.mp3")
        parser.add_argument("--baud", type=int, default=115200)

    @staticmethod
    def run(args, stdin, stdout):
        if bool(args.sd) != bool(args.recordings):
            raise CommandError("--sd and --recordings go together")
        config, extra = make(args.hall, args.device, args.credentials,
                             stdin_is_tty=sys.stdin.isatty())
        files = {"config.json": json.dumps(config, ensure_ascii=False)}
        files.update(extra)
        if args.sd:
            check_recordings(Path(args.recordings))       # a failing command writes nothing
        if args.out:
            out = Path(args.out)
            make_dir(out.parent)
            plan = Writes(inputs=[args.hall] + ([args.credentials + "/credentials.json"]
                                                if args.credentials else []))
            plan.add(out, files["config.json"], 0o600)
            if extra:
                _device_root(out, extra)
                for name, text in extra.items():
                    plan.add(out.parent / name, text, 0o644)
            where = ", ".join(str(p) for p in plan.commit())
        else:
            write_to_device(args.port, args.baud, files)
            where = "%s on %s, verified by SHA-256" % (", ".join(files), args.port)
        stdout.write("%s\nwrote %s\n" % (summary(config), where))
        if args.sd:
            n = lay_out_sd(args.recordings, args.sd)
            stdout.write("voice SD card: %d clips in %s/mp3, listed in clips.txt\n" % (n, args.sd))
        return 0


def write_to_device(port, baud, files):
    from hallctl.flash import Device
    data = {name: text.encode("utf-8") for name, text in files.items()}
    with Device(port, baud) as device:
        for name in data:
            device.write(name, data[name], None)
        wrong = device.differing({name: hashlib.sha256(data[name]).hexdigest() for name in data})
    if wrong:
        raise CommandError("%s: %s differs on the device after writing: provision again"
                           % (port, wrong[0]))
