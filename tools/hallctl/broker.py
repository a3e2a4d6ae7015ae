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

from hallctl.errors import CommandError
from hallctl.files import write_text
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
    return doc


def acl(hall):
    return "\n".join([
        "# qms: hall %s. Written by hallctl broker-config." % hall,
        "# Every device (user name = device id): its own uplink and status, its own commands.",
        "pattern write qms/%s/%%u/up/#" % hall,
        "pattern readwrite qms/%s/%%u/status" % hall,
        "pattern read qms/%s/%%u/down/#" % hall,
        "pattern read qms/%s/all/down/#" % hall,
        "",
        "# The hub: reads every device, commands every device.",
        "user hub",
        "topic read qms/%s/+/up/#" % hall,
        "topic read qms/%s/+/status" % hall,
        "topic write qms/%s/+/down/#" % hall,
        "topic write qms/%s/hub/hall" % hall,
        "topic write qms/%s/hub/day" % hall,
        "",
        "# Operators (hallctl status --mqtt): the hall's status, nothing else.",
        "user operator",
        "topic read qms/%s/hub/hall" % hall,
        "topic read qms/%s/+/status" % hall,
        ""])


class BrokerConfig:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("hall", help="HALL.json: the hall id and its device configs")
        parser.add_argument("--out", required=True, help="directory to write the files into")
        parser.add_argument("--keep", action="store_true",
                            help="keep the passwords in an existing credentials.json")
        parser.add_argument("--central", metavar="HOST:PORT",
                            help="also write bridge.conf, forwarding the hall to this broker")

    @staticmethod
    def run(args, stdin, stdout):
        hall, devices = load_hall(args.hall)
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError("%s: cannot create: %s" % (out, exc.strerror)) from None
        creds_path = out / "credentials.json"
        old = {}
        if args.keep and creds_path.exists():
            old = json.loads(creds_path.read_text(encoding="utf-8"))
        creds = {}
        for ident in ["hub", "operator"] + [d["id"] for d in devices]:
            creds[ident] = old.get(ident) or secrets.token_urlsafe(18)
        written = []

        def write(name, text, mode=0o644):
            write_text(out / name, text, mode)
            written.append(out / name)

        write("passwd", "".join(password_line(u, p) + "\n" for u, p in creds.items()), 0o600)
        write("acl", acl(hall))
        write("mosquitto.conf", "# include in the hall broker's configuration\n"
              "allow_anonymous false\nset_tcp_nodelay true\npassword_file %s\nacl_file %s\n"
              "# a larger packet is refused by the broker, not read whole by the hub\n"
              "max_packet_size 262144\n"
              "# sessions: what a device or the hub misses while away waits for it (the\n"
              "# broker's persistence keeps it across a restart; Debian's has it on); a\n"
              "# device away for two weeks is taken for gone\n"
              "persistent_client_expiration 14d\n"
              % ((out / "passwd").resolve(), (out / "acl").resolve()))
        write("credentials.json", json.dumps(creds, indent=2) + "\n", 0o600)
        if args.central:
            from hallctl.collect import bridge_config
            write("bridge.conf", bridge_config(hall, args.central))
        for path in written:
            stdout.write("wrote %s\n" % path)
        stdout.write("%d devices, the hub and an operator account; passwords are in %s "
                     "(not shown)\n" % (len(devices), creds_path))
        return 0
