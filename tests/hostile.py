"""Hostile messages against the hub on both carriers, with an honest service running through
the same hub (tests/test_faults.py, tools/bench.py faults).

A hall of real roles: an honest dispenser, caller and evaluator at window 1 and a hall display,
and three hostile devices with accounts of their own (disp-2, caller-2, eval-2), plus strangers.
Every message type and field gets wrong types, out-of-range values, lone surrogates, invalid
UTF-8, junk JSON, retained publishes, floods and other devices' windows and tickets. The honest
devices' own accounts only ever carry what fails to decode (anything that decodes from them
would be theirs to send). The same honest service then runs without the storm; the hub's books
must come out the same, and nothing may escape the hub as an exception.
"""
import json
import random

from firmware.node import DeviceNode
from firmware.roles.caller import CallerRole
from firmware.roles.dispenser import DispenserRole
from firmware.roles.display import DisplayRole
from firmware.roles.evaluator import EvaluatorRole
from firmware.hubrun import HubMqtt, HubRuntime
from firmware.routing.core import RoutingCore
from firmware.texts import printer_texts
from host_sim.framesim import Received, babble
from host_sim.printer import VirtualPrinter
from protocol.codec import encode_payload
from protocol.errors import ProtocolError
from protocol.frame import encode_frame
from protocol.mqttcarrier import MqttCarrier
from protocol.schema import rows
from faults import waiting_tickets
from hall import at, config
from t_dispenser import TEXTS

HALL = "district-1"
HONEST = [
    {"id": "disp-1", "role": "dispenser", "bus_address": 17, "hall": HALL,
     "service_keys": [{"service": "A"}], "printer": {"confirm": "gs_h"}},
    {"id": "caller-1", "role": "caller", "bus_address": 33, "window": 1},
    {"id": "eval-1", "role": "evaluator", "bus_address": 49, "window": 1},
    {"id": "display-1", "role": "display", "bus_address": 65},
]
HOSTILE = [
    {"id": "disp-2", "role": "dispenser", "bus_address": 18, "hall": HALL,
     "service_keys": [{"service": "A"}]},
    {"id": "caller-2", "role": "caller", "bus_address": 34, "window": 2},
    {"id": "eval-2", "role": "evaluator", "bus_address": 50, "window": 2},
]
STRANGERS = ["mallory", "hub", "all", "disp-9", "x" * 33, "", "../up", "DISP-1"]
TYPES = [(type_id, name, names, types) for type_id, name, must, names, types in rows()]
BAD = [None, True, 1.5, [], {}, -1, 256, 65536, 2 ** 32, 2 ** 64, -2 ** 63, "\ud800",
       "\udfff\ud800", "x" * 300, "请" * 90, "A\x00", 1e308]


class Line(Received):
    # The hub's end of the bus as a UART: what the devices sent, and what the hub wrote.
    def __init__(self):
        super().__init__()
        self.tx = []

    def write(self, data):
        self.tx.append(bytes(data))

    def take(self):
        out = self.tx
        self.tx = []
        return out


def _role(doc, now=0):
    if doc["role"] == "dispenser":
        return DispenserRole(doc, printer_texts(TEXTS), now)
    if doc["role"] == "caller":
        return CallerRole(doc, now)
    if doc["role"] == "evaluator":
        return EvaluatorRole(doc, now)
    return DisplayRole(doc, now)


class Hall:
    """The hub and every device on one carrier ("serial": the RS485 bus with the real bus
    master; "mqtt": publishes through the MQTT carrier), stepped in 5 ms of virtual time."""

    def __init__(self, carrier, babbler=False):
        # babbler (serial): eval-2 answers every poll, covering it or not.
        self.carrier = carrier
        self.utc0 = at("08:50")
        self.core = RoutingCore(config(), now=self.utc0)
        everyone = HONEST + HOSTILE
        self.ms = 0
        self.crashes = []
        if carrier == "mqtt":
            self.hub = HubMqtt(self.core, everyone, HALL, 0)
            self.role = self.hub.role
        else:
            self.line = Line()
            self.hub = HubRuntime(self.core, everyone, self.line, 0)
            self.role = self.hub.role
            self.master = self.hub.master
        self.devices = {}
        self.links = {}
        for doc in HONEST:
            node = DeviceNode(doc["bus_address"], _role(doc), doc["role"], 0,
                              mastered=carrier != "mqtt")
            self.devices[doc["id"]] = node
            if carrier == "mqtt":
                self.links[doc["id"]] = MqttCarrier(node, HALL, doc["id"])
        if babbler:
            doc = HOSTILE[2]
            node = self.devices[doc["id"]] = DeviceNode(doc["bus_address"], _role(doc), doc["role"], 0)
            babble(node)
        self.printed = []
        self.screens = []
        self.printer = VirtualPrinter()

    def utc(self):
        return self.utc0 + self.ms // 1000

    def guarded(self, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:               # the hub must never raise: count and go on
            self.crashes.append("%s: %s" % (type(exc).__name__, exc))
            return None

    def run(self, ms, step=5):
        end = self.ms + ms
        while self.ms < end:
            self.ms += step
            utc = self.utc()
            if self.carrier == "mqtt":
                out = self.guarded(self.hub.step, self.ms, utc) or ()
                for topic, payload, qos in out:
                    device = topic.split("/")[2]
                    for ident, link in self.links.items():
                        if device in (ident, "all"):
                            link.incoming(topic, payload, self.ms, utc)
                for ident, link in self.links.items():
                    for topic, payload, qos in link.outgoing(self.ms, utc):
                        self.guarded(self.hub.deliver, topic, payload, self.ms, utc, False)
            else:
                for node in self.devices.values():
                    wire = node.transmit(self.ms, utc)
                    if wire:
                        self.line.rx.extend(wire)
                self.guarded(self.hub.step, self.ms * 1000, self.ms, utc)
                for wire in self.line.take():
                    for node in self.devices.values():
                        node.feed(wire, self.ms, utc)
            for node in self.devices.values():
                self._hardware(node)

    def _hardware(self, node):
        if node.role_name == "dispenser":
            for action in node.hardware:
                if action[0] in ("print", "query"):
                    self.printer.write(action[1], self.ms)
                if action[0] == "print":
                    self.printed.append(action[1])
            data = self.printer.read(self.ms)
            if data:
                node.role.printer_bytes(data, self.ms)
        elif node.role_name == "display":
            self.screens += [a[1] for a in node.hardware if a[0] == "screen"]
        node.hardware = []

    def honest_service(self, k):
        # One citizen through window 1: a ticket, the call, the service, a rating.
        disp = self.devices["disp-1"].role
        caller = self.devices["caller-1"].role
        evaluator = self.devices["eval-1"].role
        if k == 0:
            caller.login("S1", self.ms)
            self.run(400)
            for _ in range(3):                   # three who wait all along: a storm's targets
                disp.key(0, self.ms)
                self.run(400)
        disp.key(0, self.ms)
        self.run(400)
        caller.key(0, self.ms)                   # next
        self.run(400)
        caller.key(2, self.ms)                   # start
        self.run(400)
        caller.key(3, self.ms)                   # finish
        self.run(400)
        evaluator.key(k % 3, self.ms)
        self.run(400)

    def inject(self, item):
        # One hostile message: ("mqtt", topic, payload, retain) or ("serial", bytes).
        if item[0] == "mqtt":
            self.guarded(self.hub.deliver, item[1], item[2], self.ms, self.utc(), item[3])
        else:
            self.line.rx.extend(item[1])
            self.guarded(self.hub.step, self.ms * 1000, self.ms, self.utc())

    def books(self):
        # What the hall's records say: the day's figures (less the counts of refused requests,
        # which a storm of refused requests rightly raises), who waits, every window.
        core = self.core
        d = core.day_summary()
        for key in ("refused", "rating_rejects", "journal_lost"):
            d.pop(key)
        d["waiting"] = sorted(waiting_tickets(core))
        d["windows"] = [core.window_view(w) for w in range(core.cfg.window_count())]
        d["next_number"] = list(core.next_number)
        return d

    def faults(self):
        return sum(self.role.faults.values())


def _value(ftype_name, rng):
    return rng.choice(BAD)


def _valid(name, names, types, rng, hostile_doc):
    # A message of this type that decodes, aimed at what is not the sender's own.
    msg = {"type": name}
    for field, ftype in zip(names, types):
        if field == "window":
            msg[field] = rng.choice((1, 3, 0, 255, 9))
        elif field == "ticket":
            msg[field] = rng.choice(("A%03d" % rng.randrange(1, 30), "B001", "Z999", "A0", ""))
        elif field == "service":
            msg[field] = rng.choice(("Z", "", "AAA", "a"))
        elif field in ("kind",):
            msg[field] = rng.choice((3, 7, 255))
        elif field == "level":
            msg[field] = rng.choice((0, 1, 9, 255))
        elif field == "result":
            msg[field] = rng.choice((1, 2, 3, 200))
        elif field == "reasons":
            msg[field] = [rng.randrange(256) for _ in range(rng.randrange(4))]
        elif field == "items":
            msg[field] = ["x"]
        elif field == "req":
            msg[field] = rng.randrange(0x10000)
        else:
            kind = types[names.index(field)]
            msg[field] = "" if kind == 5 else 0
    try:
        encode_payload(msg)
    except ProtocolError:
        return None
    return msg


def _broken(name, names, types, rng):
    # A message of this type that must not decode: every field right but one.
    if not names:
        return None
    msg = _valid(name, names, types, rng, None)
    if msg is None:
        return None
    msg[rng.choice(names)] = _value(None, rng)
    if rng.random() < 0.3 and names:
        del msg[rng.choice(names)]
    try:
        encode_payload(msg)
        return None
    except ProtocolError:
        return msg
    except Exception:
        return msg


def _json(msg, rng):
    body = {k: v for k, v in msg.items() if k != "type"}
    r = rng.random()
    if r < 0.1:
        body["_seq"] = rng.choice((-1, 256, "1", None, 2 ** 40))
    elif r < 0.2:
        body["_ack"] = rng.choice((1, "yes", None))
    elif r < 0.25:
        body["_v"] = rng.choice((99, "1", -1, True))
    else:
        body["_seq"] = rng.randrange(256)
        body["_ack"] = True
    try:
        return json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return b"{}"


def hostile_messages(carrier, count, seed=1):
    """`count` hostile messages for one carrier, deterministic for a seed."""
    rng = random.Random(seed)
    honest = [d["id"] for d in HONEST]
    honest_addr = [d["bus_address"] for d in HONEST]
    hostile_addr = [d["bus_address"] for d in HOSTILE] + [0, 1, 99, 200, 0xFF]
    made = 0
    while made < count:
        type_id, name, names, types = rng.choice(TYPES)
        r = rng.random()
        if carrier == "mqtt":
            item = _mqtt_one(rng, r, type_id, name, names, types, honest)
        else:
            item = _serial_one(rng, r, type_id, name, names, types, honest_addr, hostile_addr)
        if item is not None:
            made += 1
            yield item


def _mqtt_one(rng, r, type_id, name, names, types, honest):
    retain = rng.random() < 0.1
    if r < 0.35:                                    # a hostile account's own topic, decoding
        doc = rng.choice(HOSTILE)
        msg = _valid(name, names, types, rng, doc)
        if msg is None:
            return None
        return ("mqtt", "qms/%s/%s/up/%s" % (HALL, doc["id"], name), _json(msg, rng), retain)
    sender = rng.choice(honest + [d["id"] for d in HOSTILE] + STRANGERS)
    direction = rng.choice(("up", "up", "up", "down", "sideways"))
    topic = "qms/%s/%s/%s/%s" % (rng.choice((HALL, HALL, "other-hall")), sender, direction,
                                 rng.choice((name, name, "unknown", "", "a/b")))
    if r < 0.7:
        msg = _broken(name, names, types, rng)
        if msg is None:
            return None
        payload = _json(msg, rng)
    elif r < 0.75:
        payload = b"\xff\xfe" + bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    elif r < 0.8:
        payload = b"[" * rng.choice((100, 5000, 100000))
    elif r < 0.85:
        payload = rng.choice((b"null", b"1", b'"x"', b"[]", b"{", b"", b'{"a":'))
    elif r < 0.9:
        payload = b'{"pad": "' + b"x" * rng.choice((1100, 5000)) + b'"}'
    elif r < 0.95:                                  # a retained publish or a will as an event
        topic = "qms/%s/%s/status" % (HALL, rng.choice(honest + STRANGERS))
        payload = rng.choice((b'{"online": "yes"}', b"{}", b'{"online": false, "x": 1}',
                              b"\xff", b'{"online": true}' + b" " * 300))
    else:
        if sender in honest:
            return None
        topic = "qms/%s/%s/up/%s" % (HALL, sender, name)
        msg = _valid(name, names, types, rng, None)
        if msg is None:
            return None
        payload = _json(msg, rng)
    return ("mqtt", topic, payload, retain)


def _serial_one(rng, r, type_id, name, names, types, honest_addr, hostile_addr):
    seq = rng.randrange(256)
    flags = rng.choice((0, 1))
    if r < 0.35:                                    # a hostile device's frame, decoding
        msg = _valid(name, names, types, rng, None)
        if msg is None:
            return None
        tid, payload = encode_payload(msg)
        frame = encode_frame(0, rng.choice(hostile_addr), seq, flags, tid, payload)
    elif r < 0.6:                                   # random payload bytes, a valid frame
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
        src = rng.choice(hostile_addr)
        frame = encode_frame(rng.choice((0, 0, 0xFF, 17)), src, seq, flags,
                             rng.choice((type_id, rng.randrange(256))), payload)
        if src in honest_addr:
            return None
    elif r < 0.8:                                   # an honest device's frame, damaged
        msg = _valid(name, names, types, rng, None)
        if msg is None:
            return None
        tid, payload = encode_payload(msg)
        frame = bytearray(encode_frame(0, rng.choice(honest_addr), seq, flags, tid, payload))
        frame[rng.randrange(len(frame) - 1)] ^= 1 << rng.randrange(8)
    elif r < 0.9:
        frame = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    else:
        frame = b"\x00" + b"\x07" * rng.randrange(300) + b"\x00"
    return ("serial", b"\x00" + bytes(frame))


def storm(carrier, count, seed=1, services=6):
    """The honest service with `count` hostile messages among it, and without them. Returns a
    dict of figures; `lost` counts what differs in the books or the tickets printed."""
    calm = Hall(carrier)
    rough = Hall(carrier)
    messages = hostile_messages(carrier, count, seed)
    per = max(1, count // services)
    tried = 0
    for k in range(services):
        for item in messages:
            rough.inject(item)
            tried += 1
            if tried % 50 == 0:                 # the storm takes time; the calm hall's too
                rough.run(5)
                calm.run(5)
            if tried % per == 0:
                break
        for hall in (calm, rough):
            hall.run(60000)                     # the storm passes; a minute for the buckets
            hall.honest_service(k)
    for item in messages:                       # (what is left, if count is not a multiple)
        rough.inject(item)
        tried += 1
    for hall in (calm, rough):
        hall.run(2000)
    a, b = calm.books(), rough.books()
    lost = sum(1 for key in a if a[key] != b[key])
    lost += abs(len(calm.printed) - len(rough.printed))
    return {"hostile_messages_tried": tried, "hub_crashes": len(rough.crashes) + rough.faults(),
            "crash_examples": rough.crashes[:3] + sorted(rough.role.faults)[:3],
            "honest_tickets_lost": lost, "books_calm": a, "books_rough": b,
            "printed": len(rough.printed)}
