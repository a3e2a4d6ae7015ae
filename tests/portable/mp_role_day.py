# A simulated day of traffic for one device role, through its Node (link, frames, codec), with
# the heap in use after gc sampled as it goes. Usage: micropython -m mp_role_day ROLE [ROUNDS]
# Prints "peak N", "growth N" (last sample minus the one after warm-up) and "rounds N".
import gc
import sys

ROLE = sys.argv[1] if len(sys.argv) > 1 else "dispenser"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 600

from firmware.node import DeviceNode  # noqa: E402
from protocol.codec import encode_payload  # noqa: E402
from protocol.frame import encode_frame, StreamDecoder, FRAME  # noqa: E402

CONFIGS = {
    "dispenser": {"id": "disp-1", "role": "dispenser", "hall": "h", "board": "host",
                  "bus_address": 17, "service_keys": [{"service": "A"}, {"service": "B"}]},
    "caller": {"id": "caller-1", "role": "caller", "hall": "h", "board": "host",
               "bus_address": 33, "window": 1, "transfer_services": ["B"]},
    "evaluator": {"id": "eval-1", "role": "evaluator", "hall": "h", "board": "host",
                  "bus_address": 49, "window": 1},
    "display": {"id": "display-1", "role": "display", "hall": "h", "board": "host",
                "bus_address": 65},
}
TEXTS = {"hall": "c4b3", "services": {"A": {"name": "c9e7", "materials": ["c9ed"]}},
         "ahead": "c7b0", "wait": "d4a4", "minutes": "b7d6", "time": "c8a1", "materials": "c7eb"}


def make_role(config, now):
    if ROLE == "dispenser":
        from firmware.roles.dispenser import DispenserRole
        from firmware.texts import printer_texts
        return DispenserRole(config, printer_texts(TEXTS), now)
    if ROLE == "caller":
        from firmware.roles.caller import CallerRole
        return CallerRole(config, now)
    if ROLE == "evaluator":
        from firmware.roles.evaluator import EvaluatorRole
        return EvaluatorRole(config, now)
    from firmware.roles.display import DisplayRole
    return DisplayRole(config, now)


class Hub:
    # The hub's side of the line: acks what needs it and answers as a hub would.
    def __init__(self):
        self.decoder = StreamDecoder()
        self.seq = 0
        self.wire = bytearray()
        self.seen = []

    def frame(self, dst, msg, flags=0):
        type_id, payload = encode_payload(msg)
        self.seq = (self.seq + 1) & 0xFF
        self.wire.extend(b"\x00")
        self.wire.extend(encode_frame(dst, 0, self.seq, flags, type_id, payload))

    def hear(self, data, address):
        dec = self.decoder
        i = 0
        while i < len(data):
            i = dec.feed(data, i, len(data))
            if dec.result == FRAME:
                if dec.flags & 1:
                    self.frame(address, {"type": "ack", "seq": dec.seq})
                msg = dec.message()
                if len(self.seen) < 8:
                    self.seen.append(msg["type"])
                self.answer(msg, address)

    def answer(self, msg, address):
        kind = msg["type"]
        if kind == "ticket_request":
            self.issued = getattr(self, "issued", 0) + 1
            self.frame(address, {"type": "ticket_issued", "req": msg["req"],
                                 "ticket": "A%03d" % (self.issued % 1000), "service": "A",
                                 "kind": 0, "ahead": self.issued % 30, "wait_min": 300,
                                 "wait_max": 600, "issued": 1795392000 + self.issued}, 1)


def main():
    gc.collect()
    config = CONFIGS[ROLE]
    now = 0
    role = make_role(config, now)
    node = DeviceNode(config["bus_address"], role, ROLE, now)
    hub = Hub()
    POLL_ME = encode_frame(0xFF, 0, 0, 0, 0x07, bytes((config["bus_address"], config["bus_address"], 1)))
    samples = []
    peak = 0
    for rnd in range(ROUNDS):
        # one round: a minute of the day
        if ROLE == "dispenser":
            role.key(rnd % 2, now)
        elif ROLE == "caller":
            role.key(rnd % 6, now)
            hub.frame(config["bus_address"], {
                "type": "window_state", "window": 1, "state": 1, "phase": rnd % 3,
                "ticket": "A%03d" % (rnd % 1000), "recalls": rnd % 2, "waiting": rnd % 40,
                "staff": "S1"}, 1)
        elif ROLE == "evaluator":
            hub.frame(config["bus_address"], {
                "type": "rating_request", "window": 1, "ticket": "A%03d" % (rnd % 1000),
                "staff": "S1", "staff_name": "张三", "levels": 5, "timeout_s": 30}, 1)
        else:
            hub.frame(config["bus_address"], {
                "type": "display_update", "window": 1 + rnd % 8, "ticket": "A%03d" % (rnd % 1000),
                "text": "", "voice": 1, "blink": 5}, 1)
            hub.frame(config["bus_address"], {"type": "queue_status", "service": "AB"[rnd % 2],
                                               "waiting": rnd % 50, "open": 3})
        if rnd % 5 == 0:
            hub.frame(0xFF, {"type": "time_sync", "utc": 1795392000 + rnd * 60, "tz_min": 480})
        for step in range(6):                      # ten-second steps through the minute
            hub.wire.extend(POLL_ME)                # the bus master's turn for this device
            if hub.wire:
                node.feed(hub.wire, now)
                hub.wire = bytearray()
            if ROLE == "evaluator" and step == 2:
                role.key(rnd % 5, now)
                if rnd % 5 >= 3:
                    role.key(1, now)
            if hasattr(role, "tick"):
                role.tick(now)
            out = node.transmit(now)
            if out:
                hub.hear(out, config["bus_address"])
            for action in node.hardware:           # the printer answers: all is well
                if action[0] == "query":               # (no confirming command: DLE EOT only,
                    role.printer_bytes(b"\x12", now)   # so nothing else is in the measure)
            node.hardware = []
            now = (now + 10000) & ((1 << 30) - 1)
        if rnd % 20 == 19:
            gc.collect()
            used = gc.mem_alloc()
            samples.append(used)
            if used > peak:
                peak = used
    warm = samples[len(samples) // 4]
    assert hub.seen, "the role sent nothing"
    print("peak", peak)
    print("growth", samples[-1] - warm)
    print("rounds", ROUNDS)
    print("sent", ",".join(hub.seen))


main()
