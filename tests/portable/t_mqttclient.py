# The device MQTT client, sans-IO, against a scripted broker: connect, subscribe and birth,
# QoS 1 held while offline and sent again after reconnecting, keepalive, backoff with jitter,
# and garbage from the broker counted, never raised.
from firmware.mqttclient import MqttClient, DOWN, UP
from protocol import mqttwire as w


def client(seed=1):
    return MqttClient("caller-1", ["qms/h/caller-1/down/#"], keepalive_s=30,
                      will=("qms/h/caller-1/status", '{"online": false}'),
                      birth=("qms/h/caller-1/status", '{"online": true}'), seed=seed)


def packets(data):
    d = w.Decoder()
    d.feed(data)
    return d.packets()


def up(c, now=0):
    assert c.want_connect(now)
    c.connecting(now)
    hello = packets(c.take(now))
    assert hello[0][0] == w.CONNECT
    c.feed(b"\x20\x02\x00\x00", now)                     # CONNACK, accepted
    return packets(c.take(now))


def test_connect_subscribes_and_announces():
    c = client()
    sent = up(c)
    assert c.state == UP
    kinds = [p[0] for p in sent]
    assert kinds[0] == w.SUBSCRIBE and w.PUBLISH in kinds
    birth = w.parse_publish(sent[1][1], sent[1][2])
    assert birth[0] == "qms/h/caller-1/status" and birth[4] == 1     # retained


def test_qos1_waits_offline_and_goes_after_reconnect():
    c = client()
    up(c)
    c.lost(100)
    assert c.state == DOWN
    c.publish("qms/h/caller-1/up/call_next", b'{"req": 1}', 1, False, 100)
    assert c.take(100) == b""                            # nothing to write while down
    t = 100
    while not c.want_connect(t):
        t += 100
    sent = up(c, t)
    again = [w.parse_publish(f, b) for k, f, b in sent if k == w.PUBLISH]
    assert ("qms/h/caller-1/up/call_next", b'{"req": 1}') in [(p[0], p[1]) for p in again]
    pid = [p[3] for p in again if p[0].endswith("call_next")][0]
    c.feed(w.puback(pid), t)
    assert c.inflight == []


def test_keepalive_pings_and_a_silent_broker_is_noticed():
    c = client()
    up(c)
    c.tick(15000)
    assert c.take(15000) == w.PING
    c.feed(b"\xd0\x00", 15001)                           # PINGRESP
    c.tick(30002)
    assert c.take(30002) == w.PING
    c.tick(60003)                                        # no answer for a keepalive
    assert c.state == DOWN


def test_reconnects_spread_out_and_back_off():
    waits = []
    for seed in range(20):
        c = client(seed)
        up(c)
        c.lost(0)
        waits.append(c.next_attempt)
    assert min(waits) >= 500 and max(waits) <= 1500 and len(set(waits)) > 10
    c = client()
    up(c)
    for k in range(8):
        c.lost(0)
    assert c.backoff == MqttClient.BACKOFF_MAX_MS


def test_garbage_from_the_broker_closes_the_connection_and_never_raises():
    # (each rule on its own: t_mqtt_conformance.py)
    for garbage in (b"\x30\x01\x00", b"\x30\xff\xff\xff\xff\x7f", b"\x30\x04\x00\x09ab"):
        c = client()
        up(c)
        c.feed(garbage, 1)
        assert c.stats["malformed"] == 1 and c.state == DOWN, garbage


def test_what_waits_offline_survives_a_reboot(tmp="/tmp/qms-t-mqttclient.json"):
    try:
        import os
        os.remove(tmp)
    except OSError:
        pass
    c = MqttClient("eval-1", [], store=tmp)
    c.publish("qms/h/eval-1/up/rating", '{"level": 1}', 1, False, 0)     # offline
    again = MqttClient("eval-1", [], store=tmp)                          # power cycle
    assert [i[1] for i in again.inflight] == ["qms/h/eval-1/up/rating"]
    sent = up(again)
    pubs = [w.parse_publish(f, b) for k, f, b in sent if k == w.PUBLISH]
    assert pubs[0][0] == "qms/h/eval-1/up/rating"
    again.feed(w.puback(pubs[0][3]), 1)
    assert MqttClient("eval-1", [], store=tmp).inflight == []            # delivered: forgotten
