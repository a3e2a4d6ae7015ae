# MQTT wire vectors (protocol/vectors/): topics and JSON text identical on both runtimes.
from protocol.mqtt import topic, to_json, MQTTDecoder, UP, DOWN, ROOT
from samples import vectors


def test_mqtt_topic_and_json_match():
    dec = MQTTDecoder("hall-1")
    count = 0
    for v in vectors():
        parts = v["topic"].split("/")
        assert parts[0] == ROOT
        assert topic(parts[1], parts[2], parts[3], v["message"]["type"]) == v["topic"]
        assert to_json(v["message"], seq=v["seq"], ack=v["ack_req"]) == v["json"], v["name"]
        got = dec.decode(v["topic"], v["json"].encode())
        assert got is not None, (v["name"], dec.reason)
        assert got.msg == v["message"] and got.seq == v["seq"] and got.ack == v["ack_req"]
        assert got.direction in (UP, DOWN)
        count += 1
    assert count >= 70
