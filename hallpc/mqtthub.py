"""The hub on a hall PC, on MQTT: the routing core with its journal on disk and the same hub
role, node and link as an ESP32 hub (firmware.hubrun.HubMqtt), with paho-mqtt as the client.
Topics and JSON are protocol/SPEC.md section 3, readable with `mosquitto_sub -v -t 'qms/#'`.

    hub = MqttHub(core, devices, "district-1", "127.0.0.1", 1883)
    hub.start()
    while running:
        hub.pump()          # deliver what came, run the timers, publish what is due
    hub.stop()
"""
import json
import logging
import queue
import socket
import time

import paho.mqtt.client as paho

from firmware.hubrun import HubMqtt
from hallpc.clock import HallClock
from protocol.mqtt import day_topic, hall_status_topic, status_payload, status_topic


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("hallqms")
    except PackageNotFoundError:
        return "dev"


FW = _version()                  # the hub's firmware version in its status: this package's


class MqttHub:
    STATUS_EVERY_S = 10          # the retained hall status for operators, this often

    def __init__(self, core, devices, hall, host, port=1883, user=None, password=None,
                 tls=None, utc0=None, speed=1.0, archive=None, log=None):
        # devices: the hall's device configs (id, role, bus_address, window). speed: hall seconds
        # per real second for the routing core's clock (tests run a day faster). archive: a
        # days.bin path: closed days are kept there as well as published (qms/HALL/hub/day),
        # where hallctl collect stores them for hallctl report.
        self.hall = hall
        self.archive = None
        if archive is not None:
            from firmware.routing.journal import DayArchive, FileStorage
            self.archive = DayArchive(FileStorage(str(archive)), keep=10000)
        core.on_day_closed = self._day_closed
        self.hub = HubMqtt(core, devices, hall, 0)
        self.role = self.hub.role
        self.role.log = logging.getLogger("hallqms.hub").warning
        self.inbox = queue.Queue()
        # A persistent session: what devices send while the hub is away (restarting, or
        # reconnecting after the broker restarted) waits at the broker (SPEC.md 3.5).
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="hub-%s" % hall,
                                  clean_session=False)
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls is not None:
            self.client.tls_set(**tls)
        status = status_topic(hall, "hub")
        self.client.will_set(status, status_payload(False, "hub"), qos=1, retain=True)
        self.client.on_connect = self._connected
        self.client.on_message = self._message
        self.client.on_disconnect = self._disconnected
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.host, self.port = host, port
        self.clock = HallClock(utc0, speed)
        self.connected = False
        self.refused = None              # the broker's reason, when it refused the connection
        self.log = log                   # optional callable(line): the broker came and went
        self.came_up = False             # connected since the last pump (paho's thread sets it)
        self.received = 0
        self.next_status = 0.0

    def _connected(self, client, userdata, flags, reason, properties=None):
        self.connected = not reason.is_failure
        self.came_up = self.connected
        if reason.is_failure:
            self.refused = str(reason)
            if self.log is not None:
                self.log("broker %s:%d refused the hub: %s" % (self.host, self.port, reason))
            return
        if self.log is not None:
            self.log("broker %s:%d connected" % (self.host, self.port))
        sock = client.socket()
        if sock is not None:                 # small messages, at once (paho leaves Nagle on)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for name in self.hub.carrier.subscriptions():
            client.subscribe(name, qos=1)
        client.publish(status_topic(self.hall, "hub"), status_payload(True, "hub"), qos=1,
                       retain=True)

    def _disconnected(self, client, userdata, flags, reason, properties=None):
        if self.connected and self.log is not None:
            self.log("broker %s:%d connection lost (%s): reconnecting" % (self.host, self.port,
                                                                        reason))
        self.connected = False

    def _message(self, client, userdata, message):
        self.inbox.put((message.topic, message.payload, message.retain))

    def now(self):
        _, ms, utc = self.clock.now()
        return ms, utc

    def start(self, wait_s=0):
        # Connect in the background; with wait_s, return once connected (or that long).
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + wait_s
        while not self.connected and time.monotonic() < deadline:
            time.sleep(0.01)

    def pump(self, wait=0.005):
        ms, utc = self.now()
        if self.came_up:
            self.came_up = False
            self.hub.connected(ms)
        try:
            item = self.inbox.get(timeout=wait)
            while True:
                self.hub.deliver(item[0], item[1], ms, utc, item[2])
                self.received += 1
                item = self.inbox.get_nowait()
        except queue.Empty:
            pass
        for topic, payload, qos in self.hub.step(ms, utc):
            self.client.publish(topic, payload, qos=qos)
        if self.connected and time.monotonic() >= self.next_status:
            self.next_status = time.monotonic() + self.STATUS_EVERY_S
            self.publish_status(utc)

    def _day_closed(self, summary):
        if self.archive is not None:
            self.archive.add(summary)
        self.client.publish(day_topic(self.hall), json.dumps(summary, ensure_ascii=False),
                            qos=1)

    def publish_status(self, utc):
        hub = {"id": "hub", "fw": FW, "uptime": self.clock.uptime()}
        doc = self.hub.role.hall_status(utc, hub)
        self.client.publish(hall_status_topic(self.hall), json.dumps(doc), qos=1, retain=True)

    def stats(self):
        return {"received": self.received, "dropped": self.hub.carrier.dropped,
                "retained": self.hub.carrier.retained,
                "rejected": dict(self.hub.carrier.decoder.counts),
                "link": dict(self.hub.node.link.stats)}

    def stop(self):
        self.client.publish(status_topic(self.hall, "hub"), status_payload(False, "hub"), qos=1,
                            retain=True)
        self.client.loop_stop()
        self.client.disconnect()
