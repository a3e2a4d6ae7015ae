# The MQTT carrier: a device and the hub exchange a ticket through (topic, JSON) publishes,
# with the same end-to-end acks and de-duplication as on the serial line; strangers' and
# malformed publishes are counted and dropped.
from firmware.node import DeviceNode
from firmware.hubrun import HubNode
from firmware.roles.dispenser import DispenserRole
from firmware.roles.hub import HubRole
from firmware.routing.core import RoutingCore
from firmware.texts import printer_texts
from protocol.mqttcarrier import MqttCarrier
from hall import at, config
from t_dispenser import TEXTS

HEAPSIZE = "512K"
DISPENSER = {"id": "disp-1", "role": "dispenser", "bus_address": 17, "hall": "district-1",
             "service_keys": [{"service": "A"}]}


def pair():
    core = RoutingCore(config(), now=at("09:00"))
    hub = HubNode(HubRole(core, [DISPENSER]), 0)
    dev = DeviceNode(17, DispenserRole(DISPENSER, printer_texts(TEXTS), 0), "dispenser", 0,
               mastered=False)
    return core, MqttCarrier(hub, "district-1", "hub", {17: "disp-1"}), \
        MqttCarrier(dev, "district-1", "disp-1")


def exchange(a, b, ms, rounds=4, lose=None):
    # Publishes flow a -> b and back; lose(topic) drops one on the way.
    seen = []
    for k in range(rounds):
        for src, dst in ((a, b), (b, a)):
            for where, payload, qos in src.outgoing(ms + k):
                seen.append(where)
                if lose is None or not lose(where):
                    dst.incoming(where, payload, ms + k, at("09:00"))
    return seen


def test_a_ticket_over_mqtt_is_acknowledged_end_to_end():
    core, hub, dev = pair()
    assert hub.subscriptions() == ["qms/district-1/+/up/#", "qms/district-1/+/status"]
    assert "qms/district-1/disp-1/down/#" in dev.subscriptions()
    dev.node.role.key(0, 0)
    seen = exchange(dev, hub, 0)
    assert "qms/district-1/disp-1/up/ticket_request" in seen
    assert "qms/district-1/disp-1/down/ticket_issued" in seen
    assert core.stats.issued[0] == 1
    assert any(a[0] == "print" for a in dev.node.hardware)
    assert dev.node.link.in_flight() == 0 and hub.node.link.in_flight() == 0


def test_a_lost_ack_is_retransmitted_and_the_duplicate_dropped():
    core, hub, dev = pair()
    dev.node.role.key(0, 0)
    lost = []

    def lose_first_ack(where):
        if where.endswith("/down/ack") and not lost:
            lost.append(where)
            return True
        return False
    exchange(dev, hub, 0, lose=lose_first_ack)
    assert lost and dev.node.link.in_flight() == 1          # not acknowledged: still held
    exchange(dev, hub, 1000)                                  # past the retransmission time
    assert dev.node.link.in_flight() == 0
    assert core.stats.issued[0] == 1                         # the repeat issued nothing new
    assert hub.node.link.stats["duplicates"] == 1


def test_strangers_and_garbage_are_counted_and_dropped():
    core, hub, dev = pair()
    bad = [("qms/district-1/mallory/up/ticket_request", '{"req": 1, "service": "A", "kind": 0, '
            '"booking": "", "_seq": 1, "_ack": true}'),
           ("qms/district-1/disp-1/up/ticket_request", "{not json"),
           ("qms/district-1/disp-1/up/ticket_request", '{"req": "x"}'),
           ("qms/district-1/disp-1/up/no_such_message", "{}"),
           ("qms/district-1/disp-1/up/status", "x" * 5000),
           ("qms/other-hall/disp-1/up/status", "{}"),
           ("qms/district-1/disp-1/down/window_state", "{}")]
    for where, payload in bad:
        assert not hub.incoming(where, payload, 0)
    assert core.stats.issued[0] == 0
    assert hub.dropped + sum(hub.decoder.counts.values()) == len(bad)


def test_a_device_that_never_acks_does_not_take_the_hub_down():
    core, hub, dev = pair()
    for k in range(40):
        hub.node.send(17, {"type": "ticket_refused", "req": k, "service": "A", "reason": 1}, 0)
    assert hub.node.overflow == 40 - hub.node.link.PER_DST_MAX  # counted, not raised


def test_birth_and_will_tell_the_hub_who_is_there():
    core, hub, dev = pair()
    assert "qms/district-1/+/status" in hub.subscriptions()
    assert hub.incoming("qms/district-1/disp-1/status", '{"online": true, "_v": 1}', 0, 100)
    row = hub.node.role.status_table()[0]
    assert row["online"] and row["last_seen"] == 100
    hub.incoming("qms/district-1/disp-1/status", '{"online": false, "_v": 1}', 0, 200)
    assert not hub.node.role.status_table()[0]["online"]
    assert hub.incoming("qms/district-1/disp-1/status", "garbage", 0, 300)   # taken, dropped
    assert not hub.node.role.status_table()[0]["online"] and hub.dropped == 1
