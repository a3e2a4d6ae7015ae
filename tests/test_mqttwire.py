"""MQTT 3.1.1 packets (protocol/mqttwire.py): round trips, streams cut anywhere, and bytes from
outside that never make the decoder raise. (tests/test_mqtt_broker.py checks them against a
real Mosquitto.)"""
from hypothesis import given, settings, strategies as st

from protocol import mqttwire as w

topics = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FFF, blacklist_characters="#+"),
                 min_size=1, max_size=60)


@given(topics, st.binary(max_size=1500), st.integers(0, 1), st.booleans(), st.integers(1, 65535),
       st.lists(st.integers(1, 50), max_size=6))
def test_publish_round_trips_through_a_stream_cut_anywhere(topic, payload, qos, retain, pid, cuts):
    data = w.publish(topic, payload, qos, retain, pid) + w.PING
    d = w.Decoder()
    at = 0
    for cut in cuts:
        d.feed(data[at:at + cut])
        at += cut
    d.feed(data[at:])
    got = d.packets()
    assert [p[0] for p in got] == [w.PUBLISH, w.PINGREQ]
    assert w.parse_publish(got[0][1], got[0][2]) == (topic, payload, qos, pid if qos else 0,
                                                     1 if retain else 0)


@settings(max_examples=500)
@given(st.binary(max_size=600))
def test_bytes_from_outside_never_raise(data):
    d = w.Decoder(max_packet=256)
    d.feed(data)
    for kind, flags, body in d.packets():
        if kind == w.PUBLISH:
            w.parse_publish(flags, body)


def test_oversized_packets_are_skipped_and_the_stream_goes_on():
    d = w.Decoder(max_packet=100)
    big = w.publish("a/b", b"x" * 500)
    d.feed(big[:50])
    d.feed(big[50:] + w.PING)
    assert d.oversized == 1 and [p[0] for p in d.packets()] == [w.PINGREQ]


@settings(max_examples=400)
@given(st.lists(st.one_of(st.binary(max_size=80),
                          st.sampled_from([b"\x20\x02\x00\x00", b"\x20\x02\x01\x00",
                                           b"\x90\x04\x00\x01\x01\x01", b"\xd0\x00",
                                           b"\x40\x02\x00\x01", b"\x32",
                                           b"\x33\x83\x10\x00\x01a\x00\x07"])),
                max_size=12))
def test_bytes_from_a_broker_never_make_the_client_raise(chunks):
    # Whatever a broker (or whoever sits on the path) sends: the client counts, closes or
    # carries on, and never raises; once down it stays down until it connects again.
    from firmware.mqttclient import DOWN, UP, MqttClient
    c = MqttClient("caller-1", ["qms/h/caller-1/down/#"], keepalive_s=30,
                   birth=("qms/h/caller-1/status", "{}"))
    c.connecting(0)
    c.take(0)
    for k, chunk in enumerate(chunks):
        c.feed(chunk, k)
        c.tick(k)
        c.take(k)
        assert c.state in (DOWN, UP) or c.stats["connects"] == 0
        if c.state == DOWN:
            assert c.take_received() == []
            break
