# A device (or the hub) on MQTT: the socket shell around MqttClient and the runtime. The same
# code runs on an ESP32 (after network.WLAN is connected) and on the unix port: both have
# socket and select. The runtime's node speaks the MQTT carrier (protocol/mqttcarrier.py) and
# publishes through this shell; what the broker sends is handed to the runtime.
import select
import socket

from firmware.mqttclient import MqttClient, DOWN, UP
from protocol.mqtt import hall_status_topic, status_payload, status_topic

_AGAIN = (11, 35, 115)    # EAGAIN (Linux, ESP32's lwIP), EAGAIN (BSD), EINPROGRESS


class MqttShell:
    CONNECT_S = 3         # a connect (and TLS handshake) that hangs longer fails (watchdog: 8 s)
    PENDING_MAX = 8192    # bytes the socket has not taken yet; beyond that the link is stuck

    def __init__(self, config, host, port, seed=1, store=None, subscriptions=None, ident=None):
        # store: a file for QoS 1 publishes made while offline (config mqtt.queue_file wins).
        # subscriptions and ident: those of the carrier (protocol.mqttcarrier) this shell serves:
        # a device's own downlink and the hall's, under its id; the hub's, as "hub".
        hall = config["hall"]
        ident = ident or config["id"]
        creds = config.get("mqtt", {})
        status = status_topic(hall, ident)
        if subscriptions is None:
            from protocol.mqttcarrier import device_subscriptions
            subscriptions = device_subscriptions(hall, ident)
        self.client = MqttClient(ident, subscriptions,
                                 keepalive_s=creds.get("keepalive_s", 30),
                                 user=creds.get("user"), password=creds.get("password"),
                                 will=(status, status_payload(False)),
                                 birth=(status, status_payload(True, config["role"])), seed=seed,
                                 store=creds.get("queue_file", store))
        self.addr = socket.getaddrinfo(host, port)[0][-1]
        self.host = host
        self.ca = creds.get("ca")           # the broker's CA certificate (DER file): use TLS
        self.sock = None
        self.poller = None
        self.pending = b""                  # written but not yet taken by the socket
        self.now = 0
        self.was_up = False

    def publish(self, topic, payload, qos):
        # What DeviceRuntime calls: through the client (QoS 1 waits while offline).
        self.client.publish(topic, payload, qos, False, self.now)

    def online(self):
        return self.client.state == UP

    def _tls(self, sock):
        # TLS with the broker's certificate checked against the hall's CA.
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.verify_mode = ssl.CERT_REQUIRED
        with open(self.ca, "rb") as f:
            ctx.load_verify_locations(cadata=f.read())
        return ctx.wrap_socket(sock, server_hostname=self.host)

    def _drop(self, now):
        self._close()
        self.client.lost(now)

    def _close(self):
        self.pending = b""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def pump(self, runtime, now):
        # One pass: connect if it is time, read, run the device, write.
        self.now = now
        client = self.client
        if self.sock is None and client.want_connect(now):
            try:
                sock = socket.socket()
                try:                             # small messages, at once (no Nagle delay)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except (AttributeError, OSError):
                    pass
                sock.settimeout(self.CONNECT_S)   # a silent network: fail, back off, retry
                sock.connect(self.addr)
                if self.ca is not None:
                    sock = self._tls(sock)
                sock.setblocking(False)
                self.sock = sock
                self.poller = select.poll()
                self.poller.register(sock, select.POLLIN)
                client.connecting(now)
            except OSError:
                self._drop(now)
        if self.sock is not None:
            while self.poller.poll(0):
                try:
                    data = self.sock.recv(1024)
                except OSError as exc:
                    if not (exc.args and exc.args[0] in _AGAIN):
                        self._drop(now)          # reset, or the network went away
                    break
                if data is None:                 # (a TLS socket with nothing decrypted yet)
                    break
                if not data:                     # the broker closed the connection
                    self._drop(now)
                    break
                client.feed(data, now)
                if client.state == DOWN:         # the broker broke the protocol: close
                    break
        if client.state == UP and not self.was_up:
            runtime.node.next_status = now       # connected: tell the hub who we are at once
        self.was_up = client.state == UP
        for topic, payload in client.take_received():
            runtime.deliver(topic, payload, now)
        runtime.step(now)
        client.tick(now)
        if client.state == DOWN and self.sock is not None:
            # the client gave up on this connection (no CONNACK, no PINGRESP: a link gone
            # silent, as when an access point reboots and leaves TCP half-open): close it,
            # so that the next pass connects again after the backoff
            self._close()
        self._write(client.take(now), now)

    def _write(self, out, now):
        # Write what the socket takes; keep the rest for the next pass (never block the loop).
        if self.sock is None:
            return
        data = self.pending + out if self.pending else out
        if not data:
            return
        try:
            n = self.sock.send(data)
        except OSError as exc:
            if exc.args and exc.args[0] in _AGAIN:
                n = 0
            else:
                self._drop(now)
                return
        self.pending = data[n or 0:]
        if len(self.pending) > self.PENDING_MAX:
            self._drop(now)                      # the broker stopped reading: start over


class HubShell:
    """The hub on MQTT on a MicroPython board or the unix port: firmware.hubrun.HubMqtt behind
    the same socket shell as a device, with the hall's status retained for operators
    (hallctl status --mqtt) as the hall PC's hub keeps it."""
    STATUS_MS = 10000
    INFLIGHT_MAX = 64           # QoS 1 publishes held: the hub talks to every device

    def __init__(self, hub, config, host, port, seed=1, store=None, watchdog=None):
        self.hub = hub
        self.role = hub.role
        self.node = hub.node
        self.hall = config["hall"]
        self.shell = MqttShell(config, host, port, seed, store,
                               subscriptions=hub.carrier.subscriptions(), ident="hub")
        self.shell.client.INFLIGHT_MAX = self.INFLIGHT_MAX
        self.watchdog = watchdog
        self.next_status = 0

    def deliver(self, topic, payload, now):
        from firmware.hubrun import utc_now
        self.hub.deliver(topic, payload, now, utc_now())

    def step(self, now):
        from firmware.hubrun import utc_now
        from protocol.ticks import ticks_add, ticks_diff
        utc = utc_now()
        shell = self.shell
        if not shell.online():
            self.node.link.hold(now)            # the client keeps it: no retries meanwhile
        for topic, payload, qos in self.hub.step(now, utc):
            shell.publish(topic, payload, qos)
        if shell.online() and ticks_diff(now, self.next_status) >= 0:
            import json
            self.next_status = ticks_add(now, self.STATUS_MS)
            console = self.hub.console
            info = console.info() if console is not None and console.info is not None else {}
            shell.client.publish(hall_status_topic(self.hall),
                                 json.dumps(self.role.hall_status(utc, info)), 1, True, now)
        if self.watchdog is not None:
            self.watchdog.feed()

    async def run(self, period_ms=2):
        import asyncio
        import time
        while True:
            self.shell.pump(self, time.ticks_ms())
            await asyncio.sleep_ms(period_ms)
