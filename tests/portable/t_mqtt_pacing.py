# Retries on MQTT are paced by the connection, not by a timer that runs while nobody can hear:
# while the device's client is offline (it holds the publish, once), its link spends no try;
# once back, retries come one RTO apart; and a hub that (re)connects broadcasts the hall's
# clock at once, so a device that had given up sends what it kept at once too.
from firmware.runtime import DeviceRuntime

HEAPSIZE = "512K"        # a caller runtime; a hub with its routing core

CALLER = {"id": "caller-1", "role": "caller", "hall": "h", "bus_address": 33, "window": 1,
          "transport": "mqtt", "mqtt": {"host": "127.0.0.1"}}


class Client:
    # What DeviceRuntime needs of the MQTT shell: publish(), online().
    def __init__(self):
        self.up = False
        self.sent = []

    def publish(self, topic, payload, qos):
        self.sent.append(topic)

    def online(self):
        return self.up


class Panel:
    def __init__(self):
        self.presses = []
        self.logins = []

    def show(self, action):
        pass


def requests(client):
    return [t for t in client.sent if t.endswith("/call_next")]


def test_no_retries_are_spent_while_the_client_is_offline():
    client = Client()
    panel = Panel()
    rt = DeviceRuntime(CALLER, {}, panel, 0, mqtt=client)
    panel.presses.append(0)                          # next, while the broker is away
    for now in range(0, 60000, 10):
        rt.step(now)
    assert len(requests(client)) == 1                # handed to the client once, kept there
    assert rt.node.link.stats["give_ups"] == 0 and rt.node.link.in_flight() >= 1
    client.up = True
    now = 60000
    rt.step(now)
    assert len(requests(client)) == 1                # the client sends what it kept itself
    rto = rt.node.link.RTO_MS
    while len(requests(client)) == 1 and now < 70000:
        now += 10
        rt.step(now)
    assert 0 < now - 60000 <= rto, now               # then the link retries, an RTO on


def test_a_hub_that_connects_broadcasts_the_clock_at_once():
    from firmware.hubrun import HubMqtt
    from firmware.routing.core import RoutingCore
    from firmware.routing.journal import MemoryStorage
    from hall import at, config
    hub = HubMqtt(RoutingCore(config(), MemoryStorage(), at("09:00")),
                  [dict(CALLER)], "h", 0)
    for ms in range(0, 30000, 100):                  # (its first broadcast goes meanwhile)
        hub.step(ms, at("09:00") + ms // 1000)
    later = 30000
    assert not [p for p in hub.step(later, at("09:00") + 30) if p[0].endswith("/time_sync")]
    hub.connected(later + 10)
    out = hub.step(later + 10, at("09:00") + 30)
    assert [p[0] for p in out if p[0].endswith("/time_sync")] == ["qms/h/all/down/time_sync"]
