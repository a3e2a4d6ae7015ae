# The hub's loop on an ESP32 (or the unix port): one bus UART mastered by protocol.bus, the hub
# role and its node, the routing core's timers once a second. UTC comes from the RTC (set by
# NTP or by hand).
from firmware.node import Endpoint
from protocol.schema import HUB, BROADCAST
from protocol.ticks import ticks_add, ticks_diff
from firmware.roles.hub import HubRole
from protocol.bus import BusMaster

UNIX_FROM_2000 = 946684800     # some MicroPython ports count time from 2000-01-01


def utc_now():
    # UTC seconds since 1970, whichever epoch this port's time.time() counts from (the hub's
    # RTC, set by NTP or by hand). Here, not in firmware.clock: only the hub reads it.
    import time
    return int(time.time()) + (UNIX_FROM_2000 if time.gmtime(0)[0] == 2000 else 0)


class HubNode(Endpoint):
    is_hub = True
    TIME_SYNC_MS = 60000         # the hall's clock broadcast
    PER_DEVICE_MAX = 16          # the hub's must-deliver messages held for any one device

    def __init__(self, role, now, queue_max=None, rto_ms=100, first_seq=0):
        # role: a firmware.roles.hub.HubRole (message(msg, utc, src), clock(utc)).
        # queue_max: must-deliver messages held at once (room for every device).
        Endpoint.__init__(self, HUB, role, "hub", now, rto_ms, first_seq, queue_max,
                          self.PER_DEVICE_MAX)
        self.next_status = ticks_add(now, 500)

    def sync_soon(self, now):
        # Broadcast the hall's clock at the next pass (a device came online).
        self.next_status = now

    def _control(self, src, type_id, payload, now):
        return False                # the hub takes no orders from its devices' link

    def _overflowed(self, type_id, payload):
        pass                        # counted; a device is shown the whole truth when back

    def _link_event(self, event, now):
        pass

    def _due(self, now):
        return self.link.poll(now)

    def _timers(self, now, utc):
        if ticks_diff(now, self.next_status) >= 0:       # the hall's clock, for every device
            self.next_status = ticks_add(now, self.TIME_SYNC_MS)
            self.send(BROADCAST, self.role.clock(utc), now)


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


def open_core(hall, root, utc, keep=100):
    # The routing core with its journal in root (journal.bin, replayed: what a power cut left
    # is recovered, damage stepped over and reported) and its closed days kept in days.bin for
    # hallctl report. The same on an ESP32's flash and in a hall PC's data directory.
    from firmware.routing.core import RoutingCore
    from firmware.routing.journal import DayArchive, FileStorage
    core = RoutingCore.recover(hall, FileStorage(root + "journal.bin"), utc)
    core.on_day_closed = DayArchive(FileStorage(root + "days.bin"), keep).add
    return core


def load_hub_files(root):
    # The hall (hall.json, a HallConfig) and its devices (devices.json) that provisioning
    # wrote beside the hub's config. OSError: missing; ValueError or ConfigError: damaged.
    import json
    from firmware.routing.config import HallConfig
    with open(root + "hall.json") as f:
        hall = HallConfig(json.load(f), root + "hall.json")
    with open(root + "devices.json") as f:
        devices = json.load(f)
    if type(devices) is not list:
        raise ValueError(root + "devices.json: expected a list of device configs")
    for d in devices:
        if type(d) is not dict or "id" not in d or "role" not in d:
            raise ValueError(root + "devices.json: each device needs its id and role")
    return hall, devices


def hub_devices(devices):
    # The hub's devices, each with its link address: a device on the bus has its bus_address;
    # one on MQTT without one gets the lowest address no other device has, in the file's order
    # (on MQTT the topic names the device; the address only numbers its link).
    used = set()
    for d in devices:
        if d.get("bus_address"):
            used.add(d["bus_address"])
    out = []
    free = 1
    for d in devices:
        if not d.get("bus_address"):
            while free in used:
                free += 1
            if free > 253:
                raise ValueError("devices.json: more than 253 devices")
            used.add(free)
            d = dict(d)
            d["bus_address"] = free
        out.append(d)
    return out


class Hub:
    """The hub, whatever carries its frames: the hub role with its registry of devices, the
    hub's link node, and the routing core's timers once a hall second. Every shell builds this
    one (HubRuntime on the bus, HubMqtt on MQTT); a simulator watches it through
    role.observe, never by reaching into it."""

    def __init__(self, core, devices, now, console=None, info=None):
        # console: a stream (any/readinto/write) for hallctl status, or None.
        self.devices = hub_devices(devices)
        self.role = HubRole(core, self.devices)
        self.node = HubNode(self.role, now, queue_max=max(64, 8 * len(self.devices)))
        self.node.peers = set(d["bus_address"] for d in self.devices)
        self.console = HubConsole(console, self.role, info) if console is not None else None
        self.last_second = -1

    def tick(self, utc):
        # Once a hall second: the routing core's timers, and the console's questions.
        if utc != self.last_second:
            self.last_second = utc
            contained(self.role, self.role.tick, utc)
            if self.console is not None:
                contained(self.role, self.console.poll, utc)


class HubRuntime(Hub):
    """The hub on the RS485 bus: protocol.bus.BusMaster polls the devices. `bus` is one line
    (write / any / readinto), or a list of point-to-point lines that each hear every
    transmission (each gets its own frame decoder). timing: BusMaster's reply_us, gap_us,
    turnaround_us, police."""

    def __init__(self, core, devices, bus, now, watchdog=None, baud=115200, console=None,
                 info=None, **timing):
        Hub.__init__(self, core, devices, now, console, info)
        self.master = BusMaster(self.node, [d["bus_address"] for d in self.devices], baud=baud,
                                **timing)
        self.master.on_out_of_turn = self.role.out_of_turn
        self.lines = bus if type(bus) is list else [bus]
        self.decoders = [None]                     # (the first line: the node's own decoder)
        if len(self.lines) > 1:
            from protocol.frame import StreamDecoder
            self.decoders += [StreamDecoder() for _ in self.lines[1:]]
        self.bus = self.lines[0]
        self.watchdog = watchdog
        self.buf = bytearray(256)

    def step(self, us, ms, utc):
        role = self.role
        for k in range(len(self.lines)):
            line = self.lines[k]
            while line.any():
                n = line.readinto(self.buf)
                if not n:
                    break
                contained(role, self.master.received, memoryview(self.buf)[:n], us, ms, utc,
                          self.decoders[k])
        self.tick(utc)
        out = contained(role, self.master.step, us, ms, utc)
        if out:
            for line in self.lines:
                line.write(out)
        if self.watchdog is not None:
            self.watchdog.feed()

    def rejected(self):
        # Frames the hub's decoders refused (damaged, cut short, not a frame).
        n = self.node.decoder.rejected()
        for dec in self.decoders[1:]:
            n += dec.rejected()
        return n

    async def run(self, period_ms=1):
        import asyncio
        import time
        while True:
            self.step(time.ticks_us(), time.ticks_ms(), utc_now())
            await asyncio.sleep_ms(period_ms)


class HubMqtt(Hub):
    """The hub on MQTT, sans-IO: deliver() takes each publish from the broker, step() returns
    the publishes to make [(topic, payload, qos)]. The same hub role, node and link as on the
    serial bus; only the carrier differs (protocol.mqttcarrier)."""

    def __init__(self, core, devices, hall, now, console=None, info=None):
        from protocol.mqttcarrier import MqttCarrier
        Hub.__init__(self, core, devices, now, console, info)
        ids = {}
        for d in self.devices:
            ids[d["bus_address"]] = d["id"]
        self.carrier = MqttCarrier(self.node, hall, "hub", ids)

    def connected(self, ms):
        # The broker connection came (back): send the hall's clock to every device now, so
        # each hears the hub at once and sends what it kept for it while the hub was away.
        self.node.sync_soon(ms)

    def deliver(self, topic, payload, ms, utc, retain=False):
        return contained(self.role, self.carrier.incoming, topic, payload, ms, utc, retain)

    def step(self, ms, utc):
        self.tick(utc)
        return contained(self.role, self.carrier.outgoing, ms, utc) or []

    def rejected(self):
        return self.carrier.decoder.rejected()
