# The device MQTT client against a scripted broker, one MQTT 3.1.1 rule at a time, on CPython
# and on MicroPython alike: every way a link is lost ends in a closed connection and a new
# attempt within the backoff; every QoS 1 PUBLISH is acknowledged, oversized or not; whatever
# 3.1.1 forbids a server to send closes the connection (MQTT-4.8.0-1) and is never acted on;
# and what the client sends is what 3.1.1 asks (CleanSession 0, DUP only on a resend, the
# birth at QoS 1). The rule numbers are the specification's.
from firmware.mqttclient import MqttClient, DOWN, CONNECTING, UP
from protocol import mqttwire as w

HEAPSIZE = "192K"             # (this file's own tables; the client itself: t_mqttclient.py at 64K)
CONNACK_OK = b"\x20\x02\x00\x00"
SUBS = ["qms/h/caller-1/down/#", "qms/h/all/down/#"]


def client(keepalive=30, seed=1):
    return MqttClient("caller-1", SUBS, keepalive_s=keepalive,
                      will=("qms/h/caller-1/status", '{"online": false}'),
                      birth=("qms/h/caller-1/status", '{"online": true}'), seed=seed)


def packets(data):
    d = w.Decoder(max_packet=1 << 20)
    d.feed(data)
    assert not d.broken, "the client sent a malformed packet"
    return d.packets()


def up(c, now=0):
    # Connect, accept, answer the SUBACK; returns what the client sent after the CONNACK.
    assert c.want_connect(now)
    c.connecting(now)
    hello = packets(c.take(now))
    assert [p[0] for p in hello] == [w.CONNECT]
    c.feed(CONNACK_OK, now)
    sent = packets(c.take(now))
    sub = [p for p in sent if p[0] == w.SUBSCRIBE][0]
    c.feed(bytes((0x90, 2 + len(SUBS))) + sub[2][:2] + b"\x01" * len(SUBS), now)
    assert c.state == UP
    return sent


def back_within_backoff(c, now):
    # Down, and wanting to connect again within 1.5x the backoff it waits.
    assert c.state == DOWN
    wait = c.next_attempt - now
    assert 0 < wait <= MqttClient.BACKOFF_MAX_MS * 3 // 2, wait
    assert not c.want_connect(now)
    assert c.want_connect(c.next_attempt)


# ---- the link ------------------------------------------------------------------------------

def test_no_connack_gives_up_and_tries_again():
    c = client()
    c.connecting(0)
    c.take(0)
    c.tick(MqttClient.CONNACK_MS - 1)
    assert c.state == CONNECTING
    c.tick(MqttClient.CONNACK_MS)
    back_within_backoff(c, MqttClient.CONNACK_MS)


def test_a_silent_broker_is_left_and_tried_again():
    c = client(keepalive=4)
    up(c)
    c.take(0)
    c.tick(2000)
    assert c.take(2000) == w.PING                        # idle for half the keepalive: ask
    c.tick(5999)
    assert c.state == UP
    c.tick(6000)                                         # no PINGRESP for a keepalive
    back_within_backoff(c, 6000)


def test_a_link_that_goes_silent_while_the_device_keeps_sending_is_found():
    # Publishing every second keeps the sending side busy; nothing comes back, so it asks.
    c = client(keepalive=4)
    up(c)
    t = 0
    while c.state == UP and t < 20000:
        t += 1000
        c.publish("qms/h/caller-1/up/status", b"{}", 0, False, t)
        c.tick(t)
        c.take(t)
    assert c.state == DOWN and t <= 8000, t


def test_keepalive_zero_still_checks_the_link():
    c = client(keepalive=0)
    sent = packets(w.connect("x", 0))
    assert sent[0][2][8:10] == b"\x00\x00"
    up(c)
    c.take(0)
    c.tick(MqttClient.PROBE_MS // 2)
    assert c.take(MqttClient.PROBE_MS // 2) == w.PING
    c.feed(b"\xd0\x00", MqttClient.PROBE_MS // 2 + 5)
    assert c.ping_sent is None
    c.tick(MqttClient.PROBE_MS)
    c.tick(MqttClient.PROBE_MS * 2)
    assert c.state == DOWN


def test_keepalive_out_of_range_is_refused_when_made():
    for bad in (-1, 65536, 1.5, "30", None):
        try:
            MqttClient("x", [], keepalive_s=bad)
        except ValueError:
            continue
        raise AssertionError("keepalive %r accepted" % (bad,))
    for bad in (-1, 1 << 28):
        try:
            w._length(bad)
        except ValueError:
            continue
        raise AssertionError("length %r accepted" % bad)
    assert bytes(w._length(w.MAX_LENGTH)) == b"\xff\xff\xff\x7f"


def test_a_refused_connack_backs_off_to_the_cap():
    c = client()
    c.connecting(0)
    c.take(0)
    c.feed(b"\x20\x02\x00\x05", 0)                       # not authorised
    assert c.state == DOWN and c.stats["refused"] == 1
    assert c.next_attempt >= MqttClient.BACKOFF_MAX_MS // 2


# ---- QoS 1 ---------------------------------------------------------------------------------

def test_every_qos1_publish_is_acknowledged_oversized_too():
    c = client()
    up(c)
    c.take(0)
    acks = []
    for k in range(25):                                  # more than Mosquitto's 20 in flight
        big = w.publish("qms/h/caller-1/down/notice", b"x" * 3000, 1, False, 100 + k)
        for at in range(0, len(big), 700):               # as TCP cuts it
            c.feed(big[at:at + 700], 1)
        acks.extend(packets(c.take(1)))
    assert acks == [(w.PUBACK, 0, bytes((0, 100 + k))) for k in range(25)]
    assert c.stats["oversized"] == 25 and c.take_received() == []
    long_topic = w.publish("qms/" + "t" * 2500, b"", 1, False, 7)   # the topic alone too big
    c.feed(long_topic, 2)
    assert packets(c.take(2)) == [(w.PUBACK, 0, b"\x00\x07")]
    c.feed(w.publish("qms/h/caller-1/down/x", b"ok", 1, False, 8, dup=True), 3)
    assert packets(c.take(3)) == [(w.PUBACK, 0, b"\x00\x08")]        # DUP: acknowledged too
    assert c.take_received() == [("qms/h/caller-1/down/x", b"ok")]
    assert c.state == UP


def test_offline_publishes_go_first_without_dup_and_resends_with_it():
    c = client()
    up(c)
    c.publish("qms/h/caller-1/up/a", b"1", 1, False, 0)          # sent, never acknowledged
    c.take(0)
    c.lost(10)
    c.publish("qms/h/caller-1/up/b", b"2", 1, False, 20)         # made while offline
    sent = up(c, c.next_attempt)
    pubs = [(w.parse_publish(f, b)[0], f & 0x08) for k, f, b in sent if k == w.PUBLISH]
    assert ("qms/h/caller-1/up/a", 0x08) in pubs                 # a resend: DUP
    assert ("qms/h/caller-1/up/b", 0) in pubs                    # its first time: no DUP
    birth = [(f, b) for k, f, b in sent if k == w.PUBLISH and b"online" in b][0]
    assert (birth[0] >> 1) & 3 == 1 and birth[0] & 1             # QoS 1, retained


def test_the_session_is_persistent():
    c = client()
    c.connecting(0)
    connect = packets(c.take(0))[0][2]
    assert connect[7] & 0x02 == 0                                # CleanSession 0
    assert connect[12:20] == b"caller-1"                         # the device's own id
    c.feed(b"\x20\x02\x00\x00", 0)                               # first time: no session yet
    assert c.stats["session_lost"] == 0
    c.lost(1)
    c.connecting(c.next_attempt)
    c.feed(b"\x20\x02\x01\x00", c.next_attempt)                  # the broker kept it
    assert c.stats["session_lost"] == 0 and c.state == UP
    c.lost(c.next_attempt + 1)
    c.connecting(c.next_attempt)
    c.feed(b"\x20\x02\x00\x00", c.next_attempt)                  # it forgot us: counted
    assert c.stats["session_lost"] == 1


# ---- what a server must not send -----------------------------------------------------------

def _pub(topic, flags=0x32, pid=b"\x00\x01"):
    body = bytes((len(topic) >> 8, len(topic) & 0xFF)) + topic + pid + b"{}"
    return bytes((flags, len(body))) + body


FORBIDDEN = [
    ("a fifth remaining-length byte", b"\x30\xff\xff\xff\xff\x01"),
    ("a CONNACK claiming 268,435,455 bytes", b"\x20\xff\xff\xff\x7f"),
    ("a reserved type 0", b"\x00\x00"),
    ("a reserved type 15", b"\xf0\x00"),
    ("a PUBACK with flags", b"\x42\x02\x00\x01"),
    ("a PUBACK of 3 bytes", b"\x40\x03\x00\x01\x00"),
    ("a PINGRESP of 1 byte", b"\xd0\x01\x00"),
    ("a PINGRESP with flags", b"\xd1\x00"),
    ("a second CONNACK", CONNACK_OK),
    ("a CONNECT", w.connect("x", 30)),
    ("a SUBSCRIBE", w.subscribe(1, [("a", 1)])),
    ("a PINGREQ", w.PING),
    ("a DISCONNECT", w.BYE),
    ("an UNSUBACK never asked for", b"\xb0\x02\x00\x01"),
    ("a PUBREC", b"\x50\x02\x00\x01"),
    ("a PUBREL", b"\x62\x02\x00\x01"),
    ("a PUBCOMP", b"\x70\x02\x00\x01"),
    ("a topic with +", _pub(b"qms/+/x")),
    ("a topic with #", _pub(b"qms/h/#")),
    ("a topic with U+0000", _pub(b"qms/h\x00x")),
    ("an empty topic", _pub(b"")),
    ("DUP at QoS 0", _pub(b"qms/h/x", 0x38, b"")),
    ("packet id 0", _pub(b"qms/h/x", 0x32, b"\x00\x00")),
    ("QoS 2", _pub(b"qms/h/x", 0x34)),
    ("QoS 3", _pub(b"qms/h/x", 0x36)),
    ("an overlong '/'", _pub(b"qms\xc0\xafx")),
    ("an overlong 3-byte form", _pub(b"qms\xe0\x80\xafx")),
    ("a surrogate", _pub(b"qms\xed\xa0\x80x")),
    ("past U+10FFFF", _pub(b"qms\xf4\x90\x80\x80")),
    ("a cut-off sequence", _pub(b"qms\xe4\xb8")),
    ("a lone continuation byte", _pub(b"qms\x80")),
    ("a topic running past the end", b"\x30\x05\x00\x09abc"),
    ("a QoS 1 PUBLISH with no room for its id", b"\x32\x04\x00\x02ab"),
    ("an oversized QoS 1 PUBLISH with no id", b"\x32\x83\x10\x00\x02ab" + b"\x00" * 2046 +
     b"\x00" * 4),
    ("a SUBACK for another packet id", b"\x90\x04\x7f\x7f\x01\x01"),
    ("a SUBACK granting QoS 2", None),
    ("a SUBACK with a code per filter missing", None),
]


def _suback(c, codes):
    return bytes((0x90, 2 + len(codes))) + bytes((c.sub_pid >> 8, c.sub_pid & 0xFF)) + codes


def test_what_a_server_must_not_send_closes_the_connection():
    failed = []
    for name, data in FORBIDDEN:
        c = client()
        if name.startswith("a SUBACK granting"):
            up(c)
            c.lost(0)
            c.connecting(c.next_attempt)
            c.feed(CONNACK_OK, c.next_attempt)
            c.take(c.next_attempt)
            data = _suback(c, b"\x02\x01")
        elif name.startswith("a SUBACK with a code"):
            c.connecting(0)
            c.feed(CONNACK_OK, 0)
            c.take(0)
            data = _suback(c, b"\x01")
        else:
            up(c)
        c.take(0)
        now = c.next_attempt if c.next_attempt > 0 else 1
        c.feed(data + _pub(b"qms/h/caller-1/down/after"), now)
        if c.state != DOWN or c.take_received() or c.stats["malformed"] != 1:
            failed.append(name)
        elif any(p[0] == w.PUBACK for p in packets(c.take(now))):
            failed.append(name + " (acknowledged)")
    assert not failed, failed


def test_before_connack_only_connack():
    for data in (_pub(b"qms/h/caller-1/down/x"), b"\xd0\x00", b"\x40\x02\x00\x01"):
        c = client()
        c.connecting(0)
        c.take(0)
        c.feed(data, 1)
        assert c.state == DOWN and c.take_received() == [], data
    for connack in (b"\x20\x02\x02\x00", b"\x20\x02\x00\x06", b"\x20\x02\x01\x04",
                    b"\x21\x02\x00\x00"):
        c = client()
        c.connecting(0)
        c.take(0)
        c.feed(connack, 1)
        assert c.state == DOWN and c.stats["malformed"] == 1, connack


def test_what_a_server_may_send_is_taken():
    c = client()
    up(c)
    c.take(0)
    for topic in ("qms/h/caller-1/down/窗口", "qms/h/caller-1/down/\U00010000\U0010ffff",
                  "qms/h/caller-1/down/a b"):
        c.feed(w.publish(topic, b"", 1, False, 9), 1)
    assert [t for t, p in c.take_received()] == [
        "qms/h/caller-1/down/窗口", "qms/h/caller-1/down/\U00010000\U0010ffff",
        "qms/h/caller-1/down/a b"]
    c.feed(w.publish("qms/h/caller-1/status", b"{}", 1, True, 10), 2)      # retained
    assert c.take_received() == [] and c.stats["retained"] == 1
    c.feed(b"\x40\x02\x7f\x7f", 3)                      # a PUBACK for nothing: harmless
    assert c.state == UP
    c2 = client()
    c2.connecting(0)
    c2.feed(CONNACK_OK, 0)
    c2.take(0)
    c2.feed(_suback(c2, b"\x80\x00"), 1)                # one refused, one granted at QoS 0
    assert c2.state == UP and c2.stats["sub_refused"] == 1


def test_the_decoder_never_raises_and_marks_the_stream_broken():
    d = w.Decoder(max_packet=64)
    d.feed(b"\x30\xff\xff\xff\xff\x01" + w.PING)
    assert d.broken and d.packets() == []
    d.feed(w.PING)                                      # nothing after it is read
    assert d.packets() == []
    d = w.Decoder(max_packet=64)
    big = w.publish("a/b", b"x" * 200, 1, False, 513)
    for k in range(len(big)):                           # one byte at a time
        d.feed(big[k:k + 1])
    d.feed(w.PING)
    assert d.packets() == [(w.TOO_BIG, 0x02, b"\x02\x01"), (w.PINGREQ, 0, b"")]
    assert d.oversized == 1 and not d.broken
