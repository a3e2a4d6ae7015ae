# Link reliability: acks, retransmission with backoff, give-up, de-duplication, wrap-around.
from protocol.link import Link, DELIVERED, GAVE_UP, ACK
from protocol.crc import crc16
from protocol.errors import QueueFull
from samples import PRNG

HEARTBEAT = 0x03
TICKET_REQ = 0x10


def deliver(packets, receiver, now, drop=None, delivered=None):
    # Hand packets to receiver as a carrier would; drop(packet) -> True loses it.
    for p in packets:
        if drop is not None and drop(p):
            continue
        digest = crc16(bytes((p.dst, p.seq, p.flags, p.type_id)) + p.payload, 0, 4 + len(p.payload))
        src = receiver.peer
        if receiver.link.receive(src, p.dst, p.seq, p.flags, p.type_id, p.payload, digest, now):
            if delivered is not None:
                delivered(bytes(p.payload))


class End:
    def __init__(self, address, peer, **kw):
        self.link = Link(address, **kw)
        self.peer = peer


def test_ack_completes_delivery():
    dev, hub = End(5, 0), End(0, 5)
    seq = dev.link.send(0, TICKET_REQ, b"one", True, 0)
    got = []
    deliver(dev.link.poll(0), hub, 1, delivered=got.append)
    deliver(hub.link.poll(2), dev, 3)
    assert got == [b"one"]
    assert dev.link.take_events() == [(DELIVERED, 0, seq, TICKET_REQ, b"one", 0)]
    assert dev.link.in_flight() == 0 and dev.link.next_due(10) is None


def test_lost_ack_means_retransmit_and_duplicate_is_dropped():
    dev, hub = End(5, 0, rto_ms=100), End(0, 5)
    dev.link.send(0, TICKET_REQ, b"A", True, 0)
    got = []
    deliver(dev.link.poll(0), hub, 0, delivered=got.append)
    hub.link.poll(1)                       # the ack is lost
    assert dev.link.poll(99) == []         # not yet due
    again = dev.link.poll(100)
    assert len(again) == 1 and again[0].payload == b"A"
    deliver(again, hub, 101, delivered=got.append)
    deliver(hub.link.poll(102), dev, 103)
    assert got == [b"A"]
    assert hub.link.stats["duplicates"] == 1
    assert [e[0] for e in dev.link.take_events()] == [DELIVERED]


def test_backoff_doubles_then_gives_up_and_reports():
    dev = Link(5, rto_ms=100, max_tries=4)
    dev.send(0, TICKET_REQ, b"x", True, 0)
    sent_at = []
    for now in range(0, 5000, 10):
        if dev.poll(now):
            sent_at.append(now)
    assert sent_at == [0, 100, 300, 700]
    events = dev.take_events()
    assert events == [(GAVE_UP, 0, 0, TICKET_REQ, b"x", 0)]
    assert dev.stats["give_ups"] == 1 and dev.stats["retries"] == 3
    assert dev.in_flight() == 0


def test_window_limits_flight_and_queue_is_bounded():
    dev = Link(5)
    for i in range(Link.QUEUE_MAX):
        dev.send(0, TICKET_REQ, bytes((i,)), True, 0)
    assert len(dev.poll(0)) == Link.WINDOW
    try:
        dev.send(0, TICKET_REQ, b"overflow", True, 0)
    except QueueFull:
        pass
    else:
        raise AssertionError("queue grew past its bound")
    dev.send(0, HEARTBEAT, b"\x00\x00\x00\x01", False, 0)   # best-effort still goes


def test_nak_ends_delivery_with_its_code():
    dev, hub = End(5, 0), End(0, 5)
    seq = dev.link.send(0, 0x7E, b"", True, 0)
    dev.link.poll(0)
    hub.link.reject(5, seq, 1)
    deliver(hub.link.poll(1), dev, 2)
    assert dev.link.take_events() == [(GAVE_UP, 0, seq, 0x7E, b"", 1)]


def test_lossy_link_delivers_everything_once_across_wraparound():
    rng = PRNG(2026)
    dev, hub = End(5, 0, first_seq=250, max_tries=12), End(0, 5)
    total = 700                              # wraps the 8-bit sequence more than twice
    sent = 0
    counts = bytearray(total)     # times each message was handed to the hub (heap-friendly)
    now = 0
    lose = lambda p: rng.chance(20)
    gave_up = 0
    def count(payload):
        counts[int(payload)] += 1

    while sent < total or dev.link.in_flight():
        while sent < total and dev.link.in_flight() < Link.QUEUE_MAX:
            dev.link.send(0, TICKET_REQ, b"%d" % sent, True, now)
            sent += 1
        deliver(dev.link.poll(now), hub, now, drop=lose, delivered=count)
        deliver(hub.link.poll(now), dev, now, drop=lose)
        now += 50
        assert now < 10000000
        for event in dev.link.take_events():
            gave_up += event[0] == GAVE_UP
    assert gave_up == 0
    assert counts == bytearray(b"\x01" * total)
    assert hub.link.stats["duplicates"] > 0


def test_rebooted_sender_is_not_mistaken_for_a_duplicate():
    hub = End(0, 5)
    got = []
    first = End(5, 0)
    first.link.send(0, TICKET_REQ, b"before", True, 0)
    deliver(first.link.poll(0), hub, 0, delivered=got.append)
    reborn = End(5, 0)                      # same address, sequence restarts at 0
    reborn.link.send(0, TICKET_REQ, b"after", True, 10)
    deliver(reborn.link.poll(10), hub, 10, delivered=got.append)
    assert got == [b"before", b"after"]


def test_frames_for_other_addresses_are_ignored_but_broadcasts_taken():
    dev = Link(7)
    assert dev.receive(0, 8, 1, 0, HEARTBEAT, b"", 0, 0) is False
    assert dev.receive(0, 0xFF, 2, 0, HEARTBEAT, b"", 0, 0) is True
    assert dev.poll(0) == []                 # best-effort: nothing to ack
    assert dev.receive(0, 7, 3, 1, TICKET_REQ, b"", 0, 0) is True
    acks = dev.poll(0)
    assert [(p.dst, p.type_id, p.payload) for p in acks] == [(0, ACK, b"\x03")]
