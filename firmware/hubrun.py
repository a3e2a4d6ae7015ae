# The hub's loop on an ESP32 (or the unix port): one bus UART mastered by protocol.bus, the hub
# role and its node, the routing core's timers once a second. UTC comes from the RTC (set by
# NTP or by hand).
from firmware.node import Node
from firmware.roles.hub import HubRole
from protocol.bus import BusMaster

UNIX_FROM_2000 = 946684800     # some MicroPython ports count time from 2000-01-01


def utc_now():
    # UTC seconds since 1970, whichever epoch this port's time.time() counts from.
    import time
    return int(time.time()) + (UNIX_FROM_2000 if time.gmtime(0)[0] == 2000 else 0)


class HubConsole:
    # The hub's service console: its USB port on an ESP32, a pseudo-terminal on the unix port.
    # The line `qms status` gets the whole hall back as one JSON line (hallctl status --port);
    # anything else is ignored, so the console stays usable for a person too.
    QUERY = b"qms status"

    def __init__(self, stream, role, info=None):
        self.stream = stream
        self.role = role
        self.info = info            # callable -> the hub's own fw, uptime, free heap, reset cause
        self.line = bytearray()
        self.buf = bytearray(64)

    def poll(self, utc):
        stream = self.stream
        while stream.any():
            n = stream.readinto(self.buf)
            if not n:
                break
            for k in range(n):
                b = self.buf[k]
                if b == 10 or b == 13:
                    if bytes(self.line).strip() == self.QUERY:
                        self.answer(utc)
                    self.line = bytearray()
                elif len(self.line) < 32:
                    self.line.append(b)

    def answer(self, utc):
        import json
        hub = self.info() if self.info is not None else {}
        stream = self.stream
        stream.write(json.dumps(self.role.hall_status(utc, hub)).encode())
        stream.write(b"\n")


def contained(role, fn, *args):
    # Run one step of a shell's loop; an error in it is counted and logged once, and the loop
    # goes on (on an ESP32 an escaped error would end main.py and reset the board).
    try:
        return fn(*args)
    except Exception as exc:
        role.fault("hub", getattr(fn, "__name__", "step"), exc)
        return None


class HubRuntime:
    def __init__(self, core, devices, bus, now, watchdog=None, baud=115200, reply_us=3000,
                 console=None, info=None):
        # console: a stream (any/readinto/write) for hallctl status, or None.
        self.role = HubRole(core, devices)
        self.console = HubConsole(console, self.role, info) if console is not None else None
        self.node = Node(0, self.role, "hub", now, queue_max=max(64, 8 * len(devices)))
        self.master = BusMaster(self.node, [d["bus_address"] for d in devices], baud=baud,
                                reply_us=reply_us)
        self.master.on_out_of_turn = self.role.out_of_turn
        self.node.peers = set(d["bus_address"] for d in devices)
        self.bus = bus
        self.watchdog = watchdog
        self.buf = bytearray(256)
        self.last_second = -1

    def step(self, us, ms, utc):
        bus = self.bus
        role = self.role
        while bus.any():
            n = bus.readinto(self.buf)
            if not n:
                break
            contained(role, self.master.received, memoryview(self.buf)[:n], us, ms, utc)
        if utc != self.last_second:
            self.last_second = utc
            contained(role, role.tick, utc)
            if self.console is not None:
                contained(role, self.console.poll, utc)
        out = contained(role, self.master.step, us, ms, utc)
        if out:
            bus.write(out)
        if self.watchdog is not None:
            self.watchdog.feed()

    async def run(self, period_ms=1):
        import asyncio
        import time
        while True:
            self.step(time.ticks_us(), time.ticks_ms(), utc_now())
            await asyncio.sleep_ms(period_ms)


class HubMqtt:
    """The hub on MQTT, sans-IO: deliver() takes each publish from the broker, step() returns
    the publishes to make [(topic, payload, qos)]. The same hub role, node and link as on the
    serial bus; only the carrier differs (protocol.mqttcarrier)."""

    def __init__(self, core, devices, hall, now):
        from protocol.mqttcarrier import MqttCarrier
        self.role = HubRole(core, devices)
        self.node = Node(0, self.role, "hub", now, queue_max=max(64, 8 * len(devices)))
        ids = {}
        for d in devices:
            ids[d["bus_address"]] = d["id"]
        self.carrier = MqttCarrier(self.node, hall, "hub", ids)
        self.last_second = -1

    def connected(self, ms):
        # The broker connection came (back): send the hall's clock to every device now, so
        # each hears the hub at once and sends what it kept for it while the hub was away.
        self.node.next_status = ms

    def deliver(self, topic, payload, ms, utc, retain=False):
        return contained(self.role, self.carrier.incoming, topic, payload, ms, utc, retain)

    def step(self, ms, utc):
        if utc != self.last_second:
            self.last_second = utc
            contained(self.role, self.role.tick, utc)
        return contained(self.role, self.carrier.outgoing, ms, utc) or []

