# The MQTT carrier for a Node, sans-IO: the node's link packets become (topic, JSON, QoS)
# publishes, and publishes from the broker become the node's received messages. The same link
# reliability (sequence numbers, acks, retransmission, de-duplication) runs over MQTT as over
# a serial line, so a must-deliver message is acknowledged end to end, hub to device, not only
# by the broker. Topics and payloads are SPEC.md section 3.
from protocol.codec import decode_payload, encode_payload
from protocol.crc import crc16
from protocol.errors import ProtocolError
from protocol.link import FLAG_ACK_REQ
from protocol.mqtt import ALL, DOWN, UP, MQTTDecoder, ROOT, to_json, topic
from protocol.schema import BROADCAST, HUB, NAMES, number_of_id


def _text(value):
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode()
        except UnicodeError:
            return None
    return value


def device_subscriptions(hall, device_id):
    # A device hears its own downlink and the hall-wide one.
    return ["%s/%s/%s/%s/#" % (ROOT, hall, device_id, DOWN), "%s/%s/%s/%s/#" % (ROOT, hall, ALL, DOWN)]


class MqttCarrier:
    def __init__(self, node, hall, device_id, devices=None):
        # device_id: this node's id ("hub" for the hub). devices (hub only): address -> id.
        self.node = node
        self.hall = hall
        self.id = device_id
        self.ids = devices or {}
        self.addresses = {}
        for address in self.ids:
            self.addresses[self.ids[address]] = address
        self.decoder = MQTTDecoder(hall)
        self.dropped = 0                  # publishes from strangers or for someone else
        self.retained = 0                 # retained uplinks: old news replayed by the broker

    def subscriptions(self):
        # What to subscribe to: the hub hears every device's uplink, a device its own downlink
        # and the hall-wide one.
        if self.node.is_hub:
            return ["%s/%s/+/%s/#" % (ROOT, self.hall, UP), "%s/%s/+/status" % (ROOT, self.hall)]
        return device_subscriptions(self.hall, self.id)

    def outgoing(self, now, utc=0):
        # [(topic, payload, qos)] for everything the node has to send now. Commands and
        # must-deliver events go at QoS 1; the link still acks and de-duplicates them.
        out = []
        for p in self.node.packets(now, utc):
            msg = decode_payload(p.type_id, p.payload, 0, len(p.payload))
            name = NAMES[number_of_id(p.type_id)]
            ack = bool(p.flags & FLAG_ACK_REQ)
            if self.node.is_hub:
                device = ALL if p.dst == BROADCAST else self.ids.get(p.dst)
                if device is None:
                    continue
                where = topic(self.hall, device, DOWN, name)
            else:
                where = topic(self.hall, self.id, UP, name)
            out.append((where, to_json(msg, p.seq, ack), 1 if ack else 0))
        return out

    def incoming(self, topic_name, payload, now, utc=0, retain=False):
        # One publish from the broker. Returns True when the node took it; anything malformed,
        # from a stranger or meant for someone else is counted and dropped, never raised.
        # retain: the broker kept it and replays it to every new subscriber. Only a status
        # (birth message or will) may be that; a retained request is old news, never an event.
        if self.node.is_hub and self._presence(topic_name, payload, utc):
            return True
        if retain:
            self.retained += 1
            return False
        got = self.decoder.decode(topic_name, payload)
        if got is None:
            return False
        if self.node.is_hub:
            src = self.addresses.get(got.device)
            if got.direction != UP or src is None:
                self.dropped += 1
                return False
            dst = HUB
        else:
            if got.direction != DOWN or got.device not in (self.id, ALL):
                self.dropped += 1
                return False
            src = HUB
            dst = BROADCAST if got.device == ALL else self.node.address
        try:
            type_id, body = encode_payload(got.msg)
        except ProtocolError:
            self.dropped += 1
            return False
        seq = got.seq if got.seq is not None else 0
        self.node.receive(src, dst, seq & 0xFF, FLAG_ACK_REQ if got.ack else 0, type_id, body,
                          crc16(body, 0, len(body)), now, utc)
        return True

    def _presence(self, topic_name, payload, utc):
        # A device's retained birth message or last will (qms/HALL/DEVICE/status): tells the
        # hub at once who is there, without waiting for a status report or a timeout.
        name = _text(topic_name)
        if name is None or not name.endswith("/status"):
            return False
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != ROOT or parts[1] != self.hall:
            return False
        if parts[2] == self.id:
            return True                      # our own birth message, echoed
        address = self.addresses.get(parts[2])
        text = _text(payload)
        if address is None or text is None or len(text) > 256:
            self.dropped += 1
            return True
        import json
        try:
            doc = json.loads(text)
            online = doc["online"]
        except (ValueError, KeyError, TypeError):
            self.dropped += 1
            return True
        if online is True or online is False:
            presence = getattr(self.node.role, "presence", None)
            if presence is not None:
                presence(address, online, utc)
        return True

