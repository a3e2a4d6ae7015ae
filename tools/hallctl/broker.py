"""hallctl broker-config HALL.json --out DIR: a Mosquitto password file and ACL for a hall, so
that each device may publish only on its own topics and read only its own commands (and the
hall-wide ones), and only the hub reads every device and commands them.

HALL.json: {"hall": "district-1", "devices": [{"id": "disp-1", "role": "dispenser", ...}]}.
Writes DIR/passwd (PBKDF2-SHA512, Mosquitto 2's format), DIR/acl, DIR/mosquitto.conf (the
lines to include) and DIR/credentials.json (each device's generated password, for
provisioning; mode 600). Passwords are never printed.
"""
import base64
import hashlib
import json
import secrets
from pathlib import Path

from hallpc.errors import CommandError
from protocol.schema import valid_id

RESERVED = ("hub", "all", "operator")
ITERATIONS = 101            # mosquitto_passwd's default for $7$ (PBKDF2-SHA512)


def password_line(user, password, salt=None):
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    return "%s:$7$%d$%s$%s" % (user, ITERATIONS, base64.b64encode(salt).decode(),
                               base64.b64encode(digest).decode())


def load_hall(path):
    """(hall id, device configs) of HALL.json, checked: ids valid, unique, not reserved."""
    doc = read_hall(path)
    return doc["hall"], doc["devices"]


def read_hall(path):
    """HALL.json as a dict, with its hall id and device list checked (see load_hall)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError("%s: cannot read: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise CommandError("%s: not valid JSON: %s" % (path, exc)) from None
    if not isinstance(doc, dict):
        raise CommandError("%s: expected a JSON object" % path)
    hall = doc.get("hall")
    if not isinstance(hall, str) or not valid_id(hall):
        raise CommandError("%s: hall: expected an id of 1-32 a-z 0-9 - _" % path)
    devices = doc.get("devices")
    if not isinstance(devices, list) or not devices:
        raise CommandError("%s: devices: expected a list of device configs" % path)
    seen = set()
    for k, dev in enumerate(devices):
        where = "%s: devices[%d]" % (path, k)
        ident = dev.get("id") if isinstance(dev, dict) else None
        if not isinstance(ident, str) or not valid_id(ident):
            raise CommandError("%s.id: expected an id of 1-32 a-z 0-9 - _" % where)
        if ident in RESERVED:
            raise CommandError("%s.id: %r is reserved for the hub's topics" % (where, ident))
        if ident in seen:
            raise CommandError("%s.id: %r appears twice" % (where, ident))
        seen.add(ident)
    check_hall(doc, path)
    return doc


HALL_KEYS = ("hall", "name", "routing", "network", "devices")
NETWORK_KEYS = ("wifi_ssid", "mqtt_host", "mqtt_port")


def check_hall(doc, path):
    # What a hall file says must be something the hall can run: every key known, every board
    # a board file, every bus address used once, every caller and evaluator at a window the
    # routing has, every evaluator the routing names present.
    from firmware import devconfig
    from firmware.routing.config import ConfigError, HallConfig
    from hallpc import keys
    from hallctl.bundle import BOARDS, board_file

    def unknown(where, table, known):
        found = keys.first_unknown(table, known)
        if found:
            raise CommandError("%s: %s%s: %s" % (path, where, found[0], found[1]))
    unknown("", doc, HALL_KEYS)
    network = doc.get("network", {})
    if not isinstance(network, dict):
        raise CommandError("%s: network: expected a table" % path)
    unknown("network.", network, NETWORK_KEYS)
    routing = doc.get("routing")
    windows = None
    if routing is not None:
        found = keys.routing(routing)
        if found:
            raise CommandError("%s: routing.%s: %s" % (path, found[0], found[1]))
        try:
            hall = HallConfig(routing, "%s: routing" % path)
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        windows = list(hall.numbers)
    addresses = {}
    for k, dev in enumerate(doc["devices"]):
        where = "devices[%d]." % k
        unknown(where, dev, devconfig.KNOWN)
        role = dev.get("role")
        if role not in devconfig.ROLES:
            raise CommandError("%s: %srole: expected one of %s, got %r" % (
                path, where, ", ".join(devconfig.ROLES), role))
        board = dev.get("board")
        if not isinstance(board, str) or not board_file(board).is_file():
            raise CommandError("%s: %sboard: no board file %r (the boards are %s)" % (
                path, where, board, ", ".join(sorted(p.stem for p in BOARDS.glob("*.json")))))
        address = dev.get("bus_address")
        if dev.get("transport", "serial") == "serial" and role != "hub" and address is not None:
            if address in addresses:
                raise CommandError("%s: %sbus_address: %r is %s's as well" % (
                    path, where, address, addresses[address]))
            addresses[address] = dev["id"]
        window = dev.get("window")
        if role in ("caller", "evaluator") and windows is not None and window not in windows:
            raise CommandError("%s: %swindow: the hall has no window %r (routing.windows: %s)"
                               % (path, where, window, ", ".join(str(n) for n in windows)))
    if routing is not None:
        ids = {d["id"]: d for d in doc["devices"]}
        for k, number in enumerate(hall.numbers):
            ident = hall.evaluator[k]
            dev = ids.get(ident)
            if ident is not None and (dev is None or dev.get("role") != "evaluator"
                                      or dev.get("window") != number):
                raise CommandError("%s: routing.windows[%d].evaluator: no evaluator %r at "
                                   "window %d in devices" % (path, k, ident, number))


def check_hub_reach(doc, hub, path):
    # A hub reaches its devices on its own carrier: a serial hub has no broker to meet a device
    # on MQTT (and an MQTT hub no bus), so provisioning one that cannot is refused.
    carrier = hub.get("transport", "serial")
    for k, dev in enumerate(doc["devices"]):
        theirs = dev.get("transport", "serial")
        if dev.get("role") != "hub" and theirs != carrier:
            raise CommandError("%s: devices[%d].transport: %s is on %s, which hub %s (on %s) "
                               "cannot reach: put the hall's devices on one carrier"
                               % (path, k, dev["id"], "MQTT" if theirs == "mqtt" else "the bus",
                                  hub["id"], "MQTT" if carrier == "mqtt" else "the bus"))


def acl(hall, devices):
    # One block per account, nothing by pattern: a pattern line would apply to the hub and the
    # operator too (the operator could then publish as "operator").
    lines = ["# qms: hall %s. Written by hallctl broker-config." % hall,
             "# Each device (user name = device id): its own uplink and status, its own",
             "# commands and the hall-wide ones.", ""]
    for ident in devices:
        lines += ["user %s" % ident,
                  "topic write qms/%s/%s/up/#" % (hall, ident),
                  "topic readwrite qms/%s/%s/status" % (hall, ident),
                  "topic read qms/%s/%s/down/#" % (hall, ident),
                  "topic read qms/%s/all/down/#" % hall, ""]
    lines += ["# The hub: reads every device, commands every device.",
              "user hub",
              "topic read qms/%s/+/up/#" % hall,
              "topic read qms/%s/+/status" % hall,
              "topic write qms/%s/hub/status" % hall,
              "topic write qms/%s/+/down/#" % hall,
              "topic write qms/%s/hub/hall" % hall,
              "topic write qms/%s/hub/day" % hall,
              "",
              "# Operators (hallctl status --mqtt): read the hall's status, publish nothing.",
              "user operator",
              "topic read qms/%s/hub/hall" % hall,
              "topic read qms/%s/+/status" % hall,
              ""]
    return "\n".join(lines)


def listen_line(listen):
    # --listen PORT (every interface) or HOST:PORT.
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError("--listen: expected PORT or HOST:PORT, not %r" % listen)
    return "listener %s%s\n" % (port, " " + host if host else "")


def conf(out, listen="1883"):
    return ("# qms: include in the hall broker's configuration (Debian: /etc/mosquitto/conf.d/).\n"
            "# Written by hallctl broker-config.\n"
            "# the devices' listener (Mosquitto 2 listens on localhost alone without one)\n"
            + listen_line(listen) +
            "# a client's id is its account's name: nobody connects as the hub or as another\n"
            "# device to knock it off the broker (an option of the listener above)\n"
            "use_username_as_clientid true\n"
            "allow_anonymous false\nset_tcp_nodelay true\npassword_file %s\nacl_file %s\n"
            "# a larger packet is refused by the broker, not read whole by the hub\n"
            "max_packet_size 262144\n"
            "# sessions: what a device or the hub misses while away waits for it (the\n"
            "# broker's persistence keeps it across a restart; Debian's has it on); a\n"
            "# device away for two weeks is taken for gone\n"
            "persistent_client_expiration 14d\n"
            % ((out / "passwd").resolve(), (out / "acl").resolve()))


def _broker_user():
    # Mosquitto started as root (Debian's service) drops to its own user before it reads the
    # password file and the ACL: they are given to that user, readable by nobody else.
    import os
    import pwd
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("mosquitto").pw_name
    except KeyError:
        return None


def _old_credentials(path):
    if not path.exists() and not path.is_symlink():
        return {}
    if path.is_symlink():
        raise CommandError("%s: a symbolic link: refusing to follow it" % path)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError("%s: cannot read: %s" % (path, exc.strerror)) from None
    except ValueError:
        raise CommandError("%s: not valid JSON: the passwords in it cannot be kept "
                           "(move it away to start afresh)" % path) from None
    if not isinstance(old, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                            for k, v in old.items()):
        raise CommandError("%s: expected {account: password}" % path)
    return old


class BrokerConfig:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("hall", help="HALL.json: the hall id and its device configs")
        parser.add_argument("--out", required=True, help="directory to write the files into")
        parser.add_argument("--keep", action="store_true",
                            help="(the default) keep the passwords in an existing "
                                 "credentials.json")
        parser.add_argument("--listen", default="1883", metavar="[HOST:]PORT",
                            help="where the devices connect (default 1883, every interface)")
        parser.add_argument("--rotate", action="append", default=[], metavar="ACCOUNT",
                            help="give this account (a device id, hub or operator) a new "
                                 "password; may be repeated")
        parser.add_argument("--central", metavar="HOST:PORT",
                            help="also write bridge.conf, forwarding the hall to this broker")

    @staticmethod
    def run(args, stdin, stdout):
        from hallpc.files import Writes, check_dir, make_dir
        hall, devices = load_hall(args.hall)
        listen_line(args.listen)
        out = Path(args.out)
        ids = [d["id"] for d in devices]
        accounts = ["hub", "operator"] + ids
        for name in args.rotate:
            if name not in accounts:
                raise CommandError("--rotate: %r is not an account of %s (one of hub, "
                                   "operator or a device id)" % (name, hall))
        if out.is_symlink():
            raise CommandError("%s: a symbolic link: refusing to follow it" % out)
        if out.exists():
            check_dir(out, secret=True)
        creds_path = out / "credentials.json"
        old = _old_credentials(creds_path)
        creds = {}
        for ident in accounts:
            keep = old.get(ident) if ident not in args.rotate else None
            creds[ident] = keep or secrets.token_urlsafe(18)
        owner = _broker_user()
        plan = Writes(inputs=[args.hall])
        plan.add(out / "passwd", "".join(password_line(u, p) + "\n"
                                         for u, p in creds.items()), 0o600, owner)
        plan.add(out / "acl", acl(hall, ids), 0o600, owner)
        plan.add(out / "mosquitto.conf", conf(out, args.listen), 0o644)
        plan.add(out / "credentials.json", json.dumps(creds, indent=2) + "\n", 0o600)
        if args.central:
            from hallctl.collect import bridge_config
            plan.add(out / "bridge.conf", bridge_config(hall, args.central), 0o644)
        make_dir(out)
        written = plan.commit()
        for path in written:
            stdout.write("wrote %s\n" % path)
        changed = [i for i in accounts if old and old.get(i) != creds[i]]
        stdout.write("%d devices, the hub and an operator account; passwords are in %s "
                     "(not shown)%s\n" % (len(devices), creds_path,
                                           "; new passwords for %s" % ", ".join(changed)
                                           if changed else ""))
        return 0
