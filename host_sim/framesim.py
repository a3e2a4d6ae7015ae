"""The hall at frame level, in virtual time: the real hub (routing core, hub role, node and bus
master, as firmware/hubrun.py runs them on an ESP32) and a real DeviceRuntime for every
dispenser, caller, evaluator and hall display, joined by a model of one RS485 line.

The line model: 10 bits per byte at the configured baud rate, a driver turnaround before each
transmission, a device reaction time before it answers a poll, and collisions: two
transmissions that overlap garble each other. Faults from the scenario corrupt or drop frames
on the line, reboot devices, cut the hub's power (it comes back from its journal) and run
printers out of paper.

Citizens and staff act only through the devices: a citizen presses a dispenser key and reads
the ticket off the printed paper, staff sign in at the caller and press its keys when the board
says so, a served citizen presses the evaluator's keys when they light up. The checker at the
end compares what people saw with the hub's books.

Two shortcuts keep a day fast and change nothing a device or the hub does:
- A frame is handed only to the devices it can affect: its addressee, every device for a
  broadcast, and for a poll the devices in its range that have something to say (a poll
  changes nothing else in a device; tests/test_framesim.py shows it).
- While nobody has anything to say, the unanswered event polls are not simulated one by one;
  the hub resumes at the poll, on the same cycle, that the first device with something to say
  would have answered.
"""
import math
import random
import re

from firmware.drivers import escpos
from firmware.hubrun import HubMqtt, HubRuntime
from firmware.routing.core import RoutingCore
from protocol.codes import PRIORITY, POLL, PAUSED, CANCELLED
from firmware.routing.journal import MemoryStorage
from firmware.routing.config import S_PREFIX
from host_sim import fleet, people
from host_sim.books import Books, DayResult
from host_sim.events import Scheduler
from host_sim.hallday import HallDay, next_arrival, service_for
from host_sim.scenario import draw
from host_sim.printer import BYTES_PER_MS, VirtualPrinter
from firmware.runtime import DeviceRuntime
from protocol.frame import FRAME, StreamDecoder
from protocol.ticks import ticks_diff

HUB_EV, DEV_EV, DOWN_EV, UP_EV, WORLD_EV, MQTT_EV = range(6)
TICKET = re.compile(rb"QMS1\|[^|]*\|[^|]*\|([A-Z]{1,2}\d+)")
NEVER = float("inf")


class Received:
    """The read side of a UART (any / readinto) over bytes the simulation puts in rx."""

    def __init__(self):
        self.rx = bytearray()

    def any(self):
        return len(self.rx)

    def readinto(self, buf):
        n = min(len(buf), len(self.rx))
        buf[:n] = self.rx[:n]
        del self.rx[:n]
        return n


def babble(node):
    # A fault in a device's poll handling: it answers every poll as if the poll named it alone.
    # Its guard for a bus_quiet order, apart from that in the transmit path, is left as it is.
    receive = node.receive

    def babbling(src, dst, seq, flags, type_id, payload, digest, now, utc=0):
        receive(src, dst, seq, flags, type_id, payload, digest, now, utc)
        if type_id == POLL:
            node.granted = 7
    node.receive = babbling


class SimUART(Received):
    """A device's (or the hub's) end of the line: what the runtime reads and writes."""

    def __init__(self, sim, owner):
        super().__init__()
        self.sim = sim
        self.owner = owner

    def write(self, data):
        self.sim.transmit(self.owner, bytes(data))
        return len(data)


class SimPrinter(Received):
    """The dispenser's ESC/POS printer: the virtual printer (host_sim/printer.py) on the
    simulation's clock, so a status answers at once and a ticket is confirmed once printed; its
    roll can end, before a ticket or in the middle of one (a fault of the scenario). A citizen
    holds a ticket once it is printed to its cut."""

    def __init__(self, sim, device):
        super().__init__()
        self.sim = sim
        self.device = device
        self.model = VirtualPrinter()
        self.seen = 0                # bytes of model.printed already looked through
        self.printed = []            # ticket names, in print order
        self.stopped = False         # the roll ended with a ticket half printed

    @property
    def paper_out(self):
        return self.model.out_of_paper()

    def run_out(self, after):
        if self.model.paper is None:
            self.model.paper = after     # bytes it can still print

    def refill(self):
        self.model.paper = None
        self.stopped = False

    def _ms(self):
        return self.sim.now // 1000

    def write(self, data):
        self.model.write(data, self._ms())
        self._pump()
        return len(data)

    def any(self):
        self._pump()
        return len(self.rx)

    def _pump(self):
        now = self._ms()
        replies = self.model.read(now)
        if replies:
            self.rx.extend(replies)
            self.sim.wake(self.device, self.sim.now + 1000)
        if self.model.out_of_paper() and self.model.buffer and not self.stopped:
            self.stopped = True          # a ticket that will not come out whole
            self.sim.report["paper_outs"] += 1
        done = self.model.printed
        while True:
            cut = done.find(escpos.CUT, self.seen)
            if cut < 0:
                break
            found = TICKET.findall(bytes(done[self.seen:cut]))   # (the last: a ticket cut
            self.seen = cut + len(escpos.CUT)                     # off by the roll's end is
            if found:                                             # no ticket)
                self.printed.append(found[-1].decode())
                self.sim.printed(self.device, found[-1].decode())
        if self.model.busy():        # still printing: look again when the buffer is through
            left_ms = len(self.model.buffer) // BYTES_PER_MS + 1
            self.sim.wake(self.device, self.sim.now + left_ms * 1000)


class SimPanel:
    """Keys pressed by people and everything the device shows, handed to the simulation."""

    def __init__(self, sim, device):
        self.sim = sim
        self.device = device
        self.presses = []
        self.logins = []

    def show(self, action):
        self.sim.shown(self.device, action)


class SimDevice:
    def __init__(self, sim, config):
        self.sim = sim
        self.config = config
        self.id = config["id"]
        self.address = config["bus_address"]
        self.uart = SimUART(sim, self)
        self.panel = SimPanel(sim, self)
        self.printer = SimPrinter(sim, self) if config["role"] == "dispenser" else None
        self.wake_at = NEVER
        self.gen = 0
        self.boots = 0
        self.babbling = False
        self.boot(sim._ms())

    def babble(self):
        self.babbling = True
        babble(self.runtime.node)

    def boot(self, now_ms):
        uarts = {} if self.sim.mqtt else {"bus": self.uart}
        if self.printer is not None:
            uarts["printer"] = self.printer
        self.boots += 1
        self.started = now_ms
        self.uart.rx = bytearray()
        self.runtime = DeviceRuntime(self.config, uarts, self.panel, now_ms, info=self._info,
                                     first_seq=self.sim.rng.randrange(256),
                                     mqtt=self if self.sim.mqtt else None)
        if getattr(self, "babbling", False):
            self.babble()

    def online(self):
        # The device's MQTT client is connected: the broker model is up.
        return self.sim.now >= self.sim.broker_down_until

    def publish(self, topic, payload, qos):
        # The device's MQTT client: to the broker model.
        self.sim.publish(self, topic, payload)

    def _info(self):
        return {"fw": "sim", "uptime": (self.sim.now // 1000 - self.started) // 1000,
                "reset_cause": 1 if self.boots == 1 else 3, "free_heap": 60000}


class Citizen:
    __slots__ = ("service", "kind", "arrived", "ticket", "gone", "rated", "called")

    def __init__(self, service, kind, arrived):
        self.service = service
        self.kind = kind
        self.arrived = arrived
        self.ticket = None
        self.gone = False
        self.rated = False
        self.called = False


class FrameHall:
    """One scenario's day at frame level. run() returns a report dict (see `check`)."""

    REACT_US = 1000            # a device answers a poll this long after it ends
    CHUNK = 8                  # bytes the hub's UART driver hands over at a time
    BROKER_DOWN_US = 10000000  # a broker restart: 10 s without a broker

    def __init__(self, scenario, progress=None, babbler=False):
        # babbler: the last evaluator answers every poll, covering it or not (a fault in its
        # poll handling), to show the bus master naming and quieting it (tools/bench.py faults).
        sc = self.sc = scenario
        hall = sc.hall
        bus = sc.bus
        self.rng = random.Random(sc.seed)
        self.baud = baud = int(bus.get("baud", 115200))
        self.byte_us = 10000000 // baud
        self.reply_us = reply_us = int(bus.get("reply_ms", 3) * 1000)
        self.turnaround_us = 100
        self.corruption = sc.frame_corruption
        self.loss = sc.frame_loss
        self.device_reboots = sc.device_reboots
        self.progress = progress
        dispensers = int(bus.get("dispensers", max(1, len(hall.numbers) // 15)))
        displays = int(bus.get("displays", 1))
        self.now = sc.at(sc.start) * 1000000            # virtual µs (UTC based)
        self.t0 = self.now
        self.events = Scheduler(self.now)
        configs = fleet.devices(hall, dispensers, displays)
        self.configs = configs
        self.mqtt = sc.mqtt                             # None: the RS485 bus
        self.broker_down_until = 0
        self.storage = MemoryStorage()
        self.core = RoutingCore(hall, self.storage, now=sc.at(sc.start))
        self.result = DayResult(sc.name)
        self.books = Books(self.result, self.core)      # the day's record
        self.hub_uart = SimUART(self, None)
        self.hub = self._new_hub()
        self.hub_gen = 0
        self.hub_at = NEVER
        self.hub_down_until = 0
        self.idle_since = None                          # the hub skips unanswered polls
        self.babbler = None
        self.devices = [SimDevice(self, c) for c in configs]
        if babbler:
            self.babbler = [d for d in self.devices if d.config["role"] == "evaluator"][-1]
            self.babbler.babble()
        self.by_address = {d.address: d for d in self.devices}
        self.by_id = {d.id: d for d in self.devices}
        self.dispensers = [d for d in self.devices if d.config["role"] == "dispenser"]
        self.callers = {d.config["window"]: d for d in self.devices if d.config["role"] == "caller"}
        self.evaluators = {d.config["window"]: d for d in self.devices
                           if d.config["role"] == "evaluator"}
        self.decoder = StreamDecoder()
        self._polls = {}                                # poll bytes -> (first, last, resend)
        self.ready = set()                              # devices with something to say
        self.unacked = set()                            # devices awaiting an acknowledgement
        self.on_air = []                                # transmissions on the line: [start, end, garbled]
        # the people
        self.lines = {d.id: [] for d in self.dispensers}   # citizens queuing at each dispenser
        self.busy = {d.id: False for d in self.dispensers}
        self.holders = {}                               # ticket -> Citizen
        self.awaited = {}                               # ticket called before printed -> arrive
        self.staff = {}                                 # window -> dict
        self.report = {"issued_seen": 0, "printed": 0, "calls": [], "ratings_given": 0,
                       "latency_us": [], "refused": 0, "walked_away": 0, "reboots": 0,
                       "called_while_printing": 0,
                       "frames_corrupted": 0, "frames_lost": 0,
                       "collisions": 0, "paper_outs": 0, "broker_restarts": 0,
                       "broker_dropped": 0}
        self.press_at = {}                              # window -> when "next" was pressed
        self.tickets = self.books.tickets               # name -> Ticket
        self.first_calls = self.books.first_calls       # every first call the hub made
        self.keys = {d.id: people.keys(d.config) for d in self.devices
                     if d.config["role"] == "caller"}   # the caller's own key map
        self.opened = {}                                # window -> when staff last opened it

    def _new_hub(self):
        if self.mqtt:
            hub = HubMqtt(self.core, self.configs, self.sc.hall.hall, self._ms())
        else:
            hub = HubRuntime(self.core, self.configs, self.hub_uart, self._ms(), baud=self.baud,
                             reply_us=self.reply_us)
        hub.role.observe = self.books.absorb    # the day's record, from what the core says
        return hub

    # ---- time and events ---------------------------------------------------------------------

    def _ms(self):
        return (self.now // 1000) & ((1 << 30) - 1)

    def _utc(self):
        return self.now // 1000000

    def push(self, at, kind, arg=None):
        self.events.push(at, kind, arg)

    def wake(self, device, at):
        if at < device.wake_at or device.wake_at <= self.now:
            device.wake_at = at
            device.gen += 1
            self.push(at, DEV_EV, (device, device.gen))

    def wake_hub(self, at):
        if at < self.hub_at or self.hub_at <= self.now:
            self.hub_at = at
            self.hub_gen += 1
            self.push(at, HUB_EV, self.hub_gen)

    def world(self, at, fn, *args):
        self.push(at, WORLD_EV, (fn, args))

    # ---- the line ----------------------------------------------------------------------------

    def transmit(self, owner, data):
        start = self.now + self.turnaround_us
        end = start + len(data) * self.byte_us
        entry = [start, end, False]
        for other in self.on_air:
            if other[1] > start and other[0] < end:
                other[2] = entry[2] = True
        self.on_air.append(entry)
        if owner is None:
            self.push(end, DOWN_EV, (data, entry))
        else:
            data = self._faults(data)
            # The hub's UART hears a device's answer as it comes, CHUNK bytes at a time (so the
            # bus master sees the line busy, never a gap, while the answer lasts).
            for at in range(0, len(data), self.CHUNK):
                last = at + self.CHUNK >= len(data)
                self.push(start + min(len(data), at + self.CHUNK) * self.byte_us, UP_EV,
                          (owner, data[at:at + self.CHUNK], entry, last))

    def _air_done(self, entry):
        self.on_air.remove(entry)
        if entry[2]:
            self.report["collisions"] += 1

    def _faults(self, data):
        # Corrupt or drop whole frames on the line at the scenario's rates.
        if not self.corruption and not self.loss:
            return data
        parts = []
        for part in data.split(b"\x00"):
            if part:
                r = self.rng.random()
                if r < self.loss:
                    self.report["frames_lost"] += 1
                    continue
                if r < self.loss + self.corruption:
                    part = bytearray(part)
                    part[self.rng.randrange(len(part))] ^= 1 << self.rng.randrange(8)
                    part = bytes(part).replace(b"\x00", b"\x01")
                    self.report["frames_corrupted"] += 1
            parts.append(part)
        return b"\x00".join(parts)

    def _garble(self, data):
        return bytes(b ^ 0x5A if b else 0x5A for b in data)

    def _down(self, data, entry):
        # The hub's transmission ended: hand each frame to the devices it can affect.
        self._air_done(entry)
        if self.now < self.hub_down_until:
            return
        data = self._garble(data) if entry[2] else self._faults(data)
        targets = set()
        poll = self._polls.get(data) if len(data) == 13 else None
        if poll is not None:                            # a lone poll, seen before
            self._poll_targets(poll, targets)
        else:
            dec = self.decoder
            i = 0
            while i < len(data):
                i = dec.feed(data, i, len(data))
                if dec.result != FRAME:
                    continue
                dst = dec.dst
                if dec.type_id == POLL:
                    payload = dec.payload()
                    poll = (payload[0], payload[1], payload[2])
                    if len(data) == 13:
                        self._polls[data] = poll
                    self._poll_targets(poll, targets)
                elif dst == 0xFF:
                    targets.update(self.devices)
                elif dst in self.by_address:
                    targets.add(self.by_address[dst])
        at = self.now + self.REACT_US
        for dev in sorted(targets, key=_address):      # (a set: in a fixed order)
            dev.uart.rx.extend(data)
            self.wake(dev, at)

    def _poll_targets(self, poll, targets):
        if self.babbler is not None:
            targets.add(self.babbler)
        first, last, resend = poll
        if first == last:
            if first in self.by_address:
                targets.add(self.by_address[first])
            return
        for dev in (self.ready | self.unacked) if resend else self.ready:
            if first <= dev.address <= last:
                targets.add(dev)

    def _up(self, device, data, entry, last):
        if last:
            self._air_done(entry)
        if self.now < self.hub_down_until:
            return
        if entry[2]:
            data = self._garble(data)
        # The hub's UART driver hands the bytes over as they come (as HubRuntime.step would).
        us = self.now & ((1 << 30) - 1)
        master = self.hub.master
        master.received(data, us, self._ms(), self._utc())
        self.wake_hub(self.now + max(master.next_us(us), 50))

    # ---- the hub -----------------------------------------------------------------------------

    def _hub_step(self):
        if self.now < self.hub_down_until:
            self.wake_hub(self.hub_down_until)
            return
        if self.mqtt:
            self._hub_step_mqtt()
            return
        ms = self._ms()
        utc = self._utc()
        hub = self.hub
        master = hub.master
        us = self.now & ((1 << 30) - 1)
        if self.idle_since is not None and not self.ready and not self.hub_uart.rx:
            hub.tick(utc)                                # the core's timers, once a second
            if not self._hub_has_work(ms):
                self._resume_at((utc + 1) * 1000000, poll_end=False)
                return
        hub.step(us, ms, utc)
        if master.state == 1 and master.turn == (0, len(master.addresses) - 1) and \
                not self.ready and not self._hub_has_work(ms):
            # An event poll nobody will answer: skip the ones after it until someone has
            # something to say, or the next second's timers.
            self.idle_since = self.now
            self._resume_at((utc + 1) * 1000000, poll_end=False)
            return
        self.idle_since = None
        self.wake_hub(self.now + max(master.next_us(us), 50))

    def _hub_step_mqtt(self):
        ms = self._ms()
        utc = self._utc()
        for where, payload, qos in self.hub.step(ms, utc):
            self.publish(None, where, payload)
        due = self.hub.node.link.next_due(ms)
        later = (utc + 1) * 1000000
        if due is not None and self.now + max(due, 1) * 1000 < later:
            later = self.now + max(due, 1) * 1000
        self.wake_hub(later)

    # ---- the broker (MQTT halls) -------------------------------------------------------------

    def publish(self, sender, where, payload):
        # Through the broker to the subscribers after its latency; nothing while it restarts.
        if self.now < self.broker_down_until:
            self.report["broker_dropped"] += 1
            return
        mq = self.mqtt
        at = self.now + int((mq["latency_ms"] + self.rng.uniform(0, mq["jitter_ms"])) * 1000)
        if sender is not None:
            self.push(at, MQTT_EV, (None, where, payload))
            return
        device = where.split("/")[2]
        if device == "all":
            for dev in self.devices:
                self.push(at, MQTT_EV, (dev, where, payload))
        elif device in self.by_id:
            self.push(at, MQTT_EV, (self.by_id[device], where, payload))

    def _mqtt_deliver(self, target, where, payload):
        if target is None:
            if self.now < self.hub_down_until:
                return
            self.hub.deliver(where, payload, self._ms(), self._utc())
            self.wake_hub(self.now)
        else:
            target.runtime.deliver(where, payload, self._ms())
            self.wake(target, self.now)

    def _broker_restart(self):
        self.broker_down_until = self.now + self.BROKER_DOWN_US
        self.report["broker_restarts"] += 1

    def _hub_has_work(self, ms):
        hub = self.hub
        return bool(hub.master.queue or hub.master.splits or hub.role.out or
                    hub.node.link.next_due(ms) == 0 or
                    ticks_diff(ms, hub.node.next_status) >= 0)

    def _resume_at(self, t, poll_end=True):
        # The hub idles through unanswered polls; the poll that serves something happening at
        # t is the first one that ends (poll_end) or starts after t, on the same cycle.
        if self.idle_since is None:
            self.wake_hub(t)
            return
        cycle = self.hub.master.cycle_us()
        lead = cycle - self.reply_us if poll_end else 0
        k = max(1, math.ceil((t - lead - self.idle_since) / cycle))
        self.wake_hub(self.idle_since + k * cycle)

    def _hub_restart(self):
        # Power lost: everything the hub knew comes back from its journal, 20 s later.
        down = self.now
        self.hub_down_until = down + 20000000
        self.core = self.books.restart(self.sc.hall, self.storage, down // 1000000)
        self.hub = self._new_hub()
        self.hub_uart.rx = bytearray()
        self.idle_since = None
        self.wake_hub(self.hub_down_until)

    # ---- devices -----------------------------------------------------------------------------

    def _dev_step(self, device):
        ms = self._ms()
        device.runtime.step(ms)
        node = device.runtime.node
        nxt = device.runtime.next_wake(ms)
        self.wake(device, self.now + max(1, nxt) * 1000)
        if self.mqtt:
            return
        if node.wants_turn(ms):
            self.ready.add(device)
            if self.idle_since is not None:
                self._resume_at(self.now)
        else:
            self.ready.discard(device)
        if node.link.in_flight():
            self.unacked.add(device)
        else:
            self.unacked.discard(device)

    def press(self, device, key):
        device.panel.presses.append(key)
        self.wake(device, self.now)

    def key(self, window, action):
        # Staff press the key their caller's key map gives the action.
        caller = self.callers[window]
        self.press(caller, self.keys[caller.id][action])

    def _reboot(self, device):
        device.boot(self._ms())
        self.report["reboots"] += 1
        if device.config["role"] == "caller":
            self.world(self.now + 3000000, self._after_reboot, device)
        self.wake(device, self.now)

    def _after_reboot(self, device):
        # Staff sign in again after their caller restarted.
        window = device.config["window"]
        staff = self.staff.get(window)
        if staff and staff.on:
            device.runtime.role.login(staff.id, self._ms())
            self.wake(device, self.now)

    # ---- what devices show: the people react ------------------------------------------------

    def shown(self, device, action):
        role = device.config["role"]
        kind = action[0]
        if role == "dispenser" and kind == "show":
            what = action[1]
            if what in ("ready", "refused", "offline", "out_of_paper", "printer_fault"):
                if what == "refused":
                    self.report["refused"] += 1
                if what == "out_of_paper" and device.printer.paper_out:
                    self.world(self.now + 120000000, self._refill, device)
                self.busy[device.id] = False
                self.world(self.now + 2000000, self._next_at_dispenser, device)
        elif role == "caller" and kind == "board":
            self._board(device, action[1])
        elif role == "evaluator" and kind == "lights" and action[1]:
            self._asked(device)

    def printed(self, device, name):
        line = self.lines[device.id]
        if line:
            citizen = line.pop(0)
            citizen.ticket = name
            self.holders[name] = citizen
            self.report["printed"] += 1
            arrive = self.awaited.pop(name, None)
            if arrive is not None:                   # their number is already up
                self._walk(citizen, arrive)
                return
            if self.sc.patience_s:
                self.world(self.now + int(self.rng.expovariate(1 / self.sc.patience_s) * 1e6),
                           self._give_up, citizen)

    def _refill(self, device):
        # A clerk loads paper; the dispenser sees it at its next paper check.
        device.printer.refill()
        self.world(self.now + (device.runtime.role.PAPER_CHECK_MS + 1000) * 1000,
                   self._next_at_dispenser, device)

    # ---- citizens ----------------------------------------------------------------------------

    def _arrive(self, prefix):
        sc = self.sc
        self.result.arrivals += 1
        self._next_arrival(prefix, self.now / 1e6)
        kind = PRIORITY if self.rng.random() < sc.priority_share else 0
        citizen = Citizen(prefix, kind, self.now)
        dispenser = min(self.dispensers, key=lambda d: (len(self.lines[d.id]), d.address))
        self.lines[dispenser.id].append(citizen)
        if not self.busy[dispenser.id]:
            self._next_at_dispenser(dispenser)

    def _next_at_dispenser(self, device):
        line = self.lines[device.id]
        if self.busy[device.id] or not line:
            return
        role = device.runtime.role
        if role.printer != escpos.OK or role.pending is not None or role.job is not None:
            return                       # not ready: they wait for the board to say so
        citizen = line[0]
        if self.sc.print_failures and self.rng.random() < self.sc.print_failures:
            device.printer.run_out(self.rng.randrange(0, 600))   # in this ticket or a later one
        self.busy[device.id] = True
        prefixes = [s[S_PREFIX] for s in self.sc.hall.services]
        index = prefixes.index(citizen.service) + (len(prefixes) if citizen.kind else 0)
        self.press(device, index)

    def _give_up(self, citizen):
        if citizen.ticket is not None and not citizen.gone and not citizen.called:
            if self.holders.get(citizen.ticket) is citizen:
                # Nobody tells the hub: it calls the ticket in vain, recalls it and marks a
                # no-show, or it is still waiting at close. The report counts it as gone.
                citizen.gone = True
                ticket = self.tickets.get(citizen.ticket)
                if ticket is not None:
                    ticket.gone = True
                self.report["walked_away"] += 1

    def _next_arrival(self, prefix, t):
        at = next_arrival(self.sc, self.rng, prefix, t)
        if at is not None:
            self.world(int(at * 1e6), self._arrive, prefix)

    # ---- staff -------------------------------------------------------------------------------

    def _shift(self, action, shift):
        window = shift.window
        caller = self.callers[window]
        staff = self.staff.get(window)
        if staff is None:
            staff = self.staff[window] = people.Staff(self, window, shift.staff, self.rng,
                                                      self.sc.react_s)
        role = caller.runtime.role
        ms = self._ms()
        if action in ("start", "back"):
            self.opened[window] = self.now
        if action == "start":
            staff.id = shift.staff
            role.login(shift.staff, ms)
            self.wake(caller, self.now)
            staff.on_duty()
        elif action == "back":
            if role.state == PAUSED:
                self.key(window, "pause")                # (the same key resumes)
            else:
                role.login(shift.staff, ms)              # (the window was closed meanwhile)
                self.wake(caller, self.now)
            staff.on_duty()
        else:
            staff.going("pause" if action == "break" else "close")

    # ---- the staff's world (people.Staff) ---------------------------------------------------

    def later(self, seconds, fn, *args):
        self.world(self.now + int(seconds * 1e6), fn, *args)

    def clock(self):
        return self.now

    def coming(self, ticket, arrive):
        citizen = self.holders.get(ticket)
        if citizen is None:
            # Called while the paper is still printing: they go once it is in their hand
            # (printed), never before; a ticket that is never printed has nobody to come.
            self.awaited[ticket] = arrive
            self.report["called_while_printing"] += 1
        elif not citizen.gone:
            self._walk(citizen, arrive)

    def _walk(self, citizen, arrive):
        citizen.called = True
        self.later(draw(self.rng, self.sc.walk_s), arrive, citizen.ticket)

    def service_s(self, ticket):
        return service_for(self.sc, self.rng, ticket.rstrip("0123456789"))

    def asked(self, window):
        self.press_at[window] = self.now

    def call_seen(self, window, ticket):
        pressed = self.press_at.pop(window, None)
        if pressed is not None:
            self.report["latency_us"].append(self.now - pressed)
        self.report["calls"].append((ticket, window))

    def served(self, window, ticket, started):
        self.result.busy[window] = self.result.busy.get(window, 0) + (self.now - started) / 1e6
        citizen = self.holders.get(ticket)
        if citizen is not None:
            citizen.rated = self.rng.random() >= self.sc.rating_share   # those who will not rate

    def left(self, window):
        self._close_period(window)

    def _close_period(self, window):
        opened = self.opened.pop(window, None)
        if opened is not None:
            self.result.staffed[window] = self.result.staffed.get(window, 0) + \
                (self.now - opened) / 1e6

    def _board(self, caller, text):
        staff = self.staff.get(caller.config["window"])
        if staff is not None:
            staff.board(text)

    def _asked(self, evaluator):
        window = evaluator.config["window"]
        asking = evaluator.runtime.role.asking
        citizen = self.holders.get(asking[0]) if asking else None
        if citizen is None or citizen.rated:
            return
        citizen.rated = True
        level, reason = people.rating(self.rng, self.sc.rating_weights,
                                      evaluator.runtime.role.reason_from)
        entry = (window, self.staff[window].id, citizen.service, level)
        if reason is not None:
            self.world(self.now + 4000000, self.press, evaluator, level - 1)
            self.world(self.now + 6000000, self._rate, evaluator, reason, entry)
        else:
            self.world(self.now + 4000000, self._rate, evaluator, level - 1, entry)

    def _rate(self, evaluator, key, entry):
        # The key that completes a rating: from here on the hub must record it exactly once.
        self.report["ratings_given"] += 1
        self.result.ratings.append(entry)
        self.press(evaluator, key)

    def _sample(self):
        core = self.core
        waiting = sum(core.waiting(s) for s in range(core.cfg.service_count()))
        self.result.queue.append((self._utc() - self.sc.midnight, waiting))
        self.world(self.now + HallDay.SAMPLE_S * 1000000, self._sample)

    # ---- the day -----------------------------------------------------------------------------

    def run(self):
        sc = self.sc
        start = sc.at(sc.start)
        end_us = sc.at(sc.end) * 1000000
        for shift in sc.roster:
            self.world(sc.at(shift.start) * 1000000, self._shift, "start", shift)
            for b_from, b_to in shift.breaks:
                self.world(sc.at(b_from) * 1000000, self._shift, "break", shift)
                self.world(sc.at(b_to) * 1000000, self._shift, "back", shift)
            self.world(sc.at(shift.end) * 1000000, self._shift, "end", shift)
        for prefix in sc.arrivals:
            self._next_arrival(prefix, start)
        for _ in range(sc.hub_restarts):
            self.world(int(self.rng.uniform(start, sc.at(sc.end)) * 1e6), self._hub_restart)
        for _ in range(sc.broker_restarts):
            self.world(int(self.rng.uniform(start, sc.at(sc.end)) * 1e6), self._broker_restart)
        for _ in range(self.device_reboots):
            device = self.rng.choice(self.devices)
            self.world(int(self.rng.uniform(start, sc.at(sc.end)) * 1e6), self._reboot, device)
        for device in self.devices:
            self.wake(device, self.now)
        self.wake_hub(self.now)
        self.world(self.now, self._sample)
        last_progress = 0
        events = self.events
        while events.due(end_us):
            at, kind, arg = events.pop()
            self.now = at
            if kind == WORLD_EV:
                arg[0](*arg[1])
            else:
                self._line(kind, arg)
            if self.progress is not None and at - last_progress > 300000000:
                last_progress = at
                self.progress((at - self.t0) / (end_us - self.t0))
        # Closing time: no one new comes; what is on its way lands (the line runs 30 s more).
        settle = end_us + 30000000
        while events.due(settle):
            at, kind, arg = events.pop()
            self.now = at
            if kind != WORLD_EV:
                self._line(kind, arg)
        self.now = settle
        return self.check()

    def _line(self, kind, arg):
        # One event of the hub, a device or the line.
        if kind == HUB_EV:
            if arg == self.hub_gen:
                self.hub_at = NEVER
                self._hub_step()
        elif kind == DEV_EV:
            device, gen = arg
            if gen == device.gen:
                device.wake_at = NEVER
                self._dev_step(device)
        elif kind == DOWN_EV:
            self._down(*arg)
        elif kind == UP_EV:
            self._up(*arg)
        else:
            self._mqtt_deliver(*arg)

    def check(self):
        # The hall's books against what people saw: nothing lost, nothing twice. Fills
        # self.result (the day's record for the report) and returns the checks.
        core = self.core
        result = self.result
        for window in list(self.opened):                 # staff stop where the day ends
            self._close_period(window)
        for window, staff in self.staff.items():
            if staff.state == "serving":
                result.busy[window] = result.busy.get(window, 0) + (self.now - staff.started) / 1e6
        books = self.books.close_day(self._utc(), result.days.append)
        issued, recorded = books["issued"], books["ratings"]
        result.rating_rejects = books["rating_rejects"]
        printed = set()
        for device in self.dispensers:
            printed.update(device.printer.printed)
        for ticket in self.tickets.values():
            ticket.voided = ticket.name not in printed
        self.books.close()
        result.refused = self.report["refused"]
        calls = [t for t, _ in self.report["calls"]]
        latencies = sorted(self.report["latency_us"])
        m = self.hub.master.stats if not self.mqtt else {"polls": 0, "garbled": 0}
        unprinted = sum(1 for t in result.tickets if t.voided and t.how != CANCELLED)
        checks = {
            "issued": issued, "printed": self.report["printed"],
            "issued_not_printed_nor_voided": unprinted,
            "ratings_given": self.report["ratings_given"], "ratings_recorded": recorded,
            "calls": len(self.first_calls),
            "duplicated_calls": len(self.first_calls) - len(set(self.first_calls)),
            "calls_seen_on_boards": len(set(calls)),
            "walked_away": self.report["walked_away"],
            "walked_away_called": sum(1 for t in result.tickets if t.gone and t.called >= 0),
            "called_while_printing": self.report["called_while_printing"],
            "call_latency_ms_p50": _pct(latencies, 0.5) / 1000,
            "call_latency_ms_p99": _pct(latencies, 0.99) / 1000,
            "device_reboots": self.report["reboots"],
            "frames_corrupted": self.report["frames_corrupted"],
            "frames_lost": self.report["frames_lost"], "collisions": self.report["collisions"],
            "paper_outs": self.report["paper_outs"],
            "broker_restarts": self.report["broker_restarts"],
            "broker_dropped": self.report["broker_dropped"],
            "bus_polls": m["polls"], "bus_garbled_turns": m["garbled"],
            "devices": len(self.devices),
            "devices_online": sum(1 for row in self.hub.role.status_table() if row["online"]),
        }
        checks["numbers_reused"] = len(self.books.reused)
        checks["lost"] = books["lost"]
        checks["problems"] = unprinted + checks["duplicated_calls"] + \
            abs(checks["ratings_given"] - recorded) + checks["numbers_reused"] + abs(books["lost"])
        result.checks = checks
        return checks


def _pct(values, q):
    if not values:
        return 0
    return values[min(len(values) - 1, int(q * len(values)))]


def _address(device):
    return device.address
