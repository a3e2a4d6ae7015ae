"""`hallctl demo`: a dispenser and the hub over a noisy serial line, in virtual time.

Real protocol code end to end (frame codec, stream decoder, link reliability) on a line that
drops and corrupts bytes at seeded rates, so a technician can watch retransmission,
resynchronisation and de-duplication at work. The simulated hall (hallsim) supersedes it.
"""
import random

from protocol.codec import decode_payload, encode_payload
from protocol.frame import FRAME, REJECTED, StreamDecoder, encode_frame
from protocol.link import Link, GAVE_UP
from protocol.schema import HUB

from hallctl.frame_cmd import message_json
from hallpc.errors import CommandError

DISPENSER = 0x11


class Node:
    def __init__(self, name, address):
        self.name = name
        self.link = Link(address, rto_ms=60)
        self.decoder = StreamDecoder()
        self.inbox = []

    def transmit(self, now):
        packets = self.link.poll(now)
        if not packets:
            return b""
        return b"\x00" + b"".join(bytes(encode_frame(p.dst, self.link.address, p.seq, p.flags,
                                                     p.type_id, p.payload)) for p in packets)

    def receive(self, data, now, out):
        dec = self.decoder
        i = 0
        while i < len(data):
            i = dec.feed(data, i, len(data))
            if dec.result == FRAME:
                payload = dec.payload()
                if self.link.receive(dec.src, dec.dst, dec.seq, dec.flags, dec.type_id, payload,
                                     dec.crc, now):
                    msg = decode_payload(dec.type_id, payload, 0, len(payload))
                    self.inbox.append(msg)
                    out("%6d ms  %-9s got  %s" % (now, self.name, message_json(msg)))
            elif dec.result == REJECTED:
                out("%6d ms  %-9s drop (%s)" % (now, self.name, dec.reason))


def noisy(data, rng, loss, corrupt):
    out = bytearray()
    for b in data:
        if rng.random() < loss:
            continue
        out.append(b ^ (1 << rng.randrange(8)) if rng.random() < corrupt else b)
    return bytes(out)


def run(tickets=5, seed=7, loss=0.01, corrupt=0.01, out=print):
    rng = random.Random(seed)
    dispenser, hub = Node("dispenser", DISPENSER), Node("hub", HUB)
    number = 0
    for req in range(1, tickets + 1):
        type_id, payload = encode_payload({"type": "ticket_request", "req": req, "service": "A",
                                           "kind": 0, "booking": ""})
        dispenser.link.send(HUB, type_id, payload, True, req * 1000)
    for now in range(0, tickets * 1000 + 5000, 10):
        for sender, receiver in ((dispenser, hub), (hub, dispenser)):
            wire = sender.transmit(now)
            if wire:
                receiver.receive(noisy(wire, rng, loss, corrupt), now, out)
        for msg in hub.inbox:                          # the hub issues a ticket per request
            number += 1
            type_id, payload = encode_payload({
                "type": "ticket_issued", "req": msg["req"], "ticket": "A%03d" % number,
                "service": "A", "kind": 0, "ahead": number - 1, "wait_min": 3 * (number - 1),
                "wait_max": 5 * number, "issued": 1795341600 + now // 1000})
            hub.link.send(DISPENSER, type_id, payload, True, now)
        hub.inbox.clear()
        for node in (dispenser, hub):
            for event in node.link.take_events():
                if event[0] == GAVE_UP:
                    out("%6d ms  %-9s GAVE UP on seq %d" % (now, node.name, event[2]))
    for node in (dispenser, hub):
        out("%-9s link %s, decoder rejected %s" % (node.name, node.link.stats,
                                                   {k: v for k, v in node.decoder.counts.items() if v}))
    return dispenser, hub


class Demo:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--tickets", type=int, default=5)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--loss", type=float, default=0.01, help="share of bytes lost")
        parser.add_argument("--corrupt", type=float, default=0.01, help="share of bytes corrupted")

    @staticmethod
    def run(args, stdin, stdout):
        if not 1 <= args.tickets <= 1000:
            raise CommandError("--tickets: expected 1..1000, got %d" % args.tickets)
        for option, share in (("--loss", args.loss), ("--corrupt", args.corrupt)):
            if not 0 <= share <= 0.5:
                raise CommandError("%s: expected a share of bytes 0..0.5, got %g"
                                   % (option, share))
        run(args.tickets, args.seed, args.loss, args.corrupt, out=lambda line: stdout.write(line + "\n"))
        return 0
