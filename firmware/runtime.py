# The device runtime: reads the UARTs and keys, feeds the node and its role, writes what they
# produce, and carries out hardware actions. step() is one synchronous pass (so tests can
# drive it); run() loops it under asyncio and feeds the watchdog only while passes complete.
from firmware.keys import KeyScanner, PRESS
from firmware.node import DeviceNode
from firmware.drivers.dfplayer import VoicePlayer


def make_role(config, now):
    role = config["role"]
    if role == "dispenser":
        from firmware.roles.dispenser import DispenserRole
        from firmware.texts import printer_texts
        return DispenserRole(config, printer_texts(config["texts"]), now)
    if role == "caller":
        from firmware.roles.caller import CallerRole
        return CallerRole(config, now)
    if role == "evaluator":
        from firmware.roles.evaluator import EvaluatorRole
        return EvaluatorRole(config, now)
    if role == "display":
        from firmware.roles.display import DisplayRole
        return DisplayRole(config, now)
    raise ValueError("role %s does not run on a device runtime" % role)


class DeviceRuntime:
    def __init__(self, config, uarts, panel, now, keys=None, watchdog=None, info=None, first_seq=0,
                 mqtt=None):
        # uarts: name -> object with write/any/readinto ("bus" unless on MQTT); panel: shows
        # actions (and, on a host board, delivers key presses); keys: raw-bitmask reader or
        # None; mqtt: a client with publish(topic, payload, qos) when the device is on MQTT
        # (the shell hands each publish it receives to deliver()).
        self.config = config
        self.uarts = uarts
        self.panel = panel
        self.keys = keys
        self.scanner = KeyScanner(16) if keys is not None else None
        self.watchdog = watchdog
        self.role = make_role(config, now)
        from firmware.devconfig import link_address
        self.node = DeviceNode(link_address(config), self.role, config["role"], now, info=info,
                               first_seq=first_seq, mastered=mqtt is None)
        self.mqtt = mqtt
        self.carrier = None
        if mqtt is not None:
            from protocol.mqttcarrier import MqttCarrier
            self.carrier = MqttCarrier(self.node, config["hall"], config["id"])
        self.voice = VoicePlayer() if "voice" in uarts else None
        self.buf = bytearray(256)
        self.passes = 0

    def deliver(self, topic, payload, now):
        # A publish from the broker (MQTT devices).
        return self.carrier.incoming(topic, payload, now)

    def step(self, now):
        bus = self.uarts.get("bus")
        if bus is not None:
            self.node.pump(bus, self.buf, now)
        self._printer(now)                      # (its follow-ups go out in this same pass)
        self._keys(now)
        if hasattr(self.role, "tick"):
            self.role.tick(now)
        if self.carrier is not None:
            if not self.mqtt.online():
                self.node.link.hold(now)        # the client keeps it: no retries meanwhile
            for topic, payload, qos in self.carrier.outgoing(now):
                self.mqtt.publish(topic, payload, qos)
        else:
            out = self.node.transmit(now)
            if out:
                bus.write(out)
        for action in self.node.hardware:
            self._perform(action, now)
        self.node.hardware = []
        if self.voice is not None:
            self.voice.tick(now)
            self._flush_voice()
        self.passes += 1
        if self.watchdog is not None:
            self.watchdog.feed()                # only reached when the pass completed

    def _keys(self, now):
        if self.scanner is not None:
            for event, key in self.scanner.scan(self.keys.raw(), now):
                if event == PRESS:
                    self.role.key(key, now)
            self.scanner.take()
        presses = self.panel.presses
        if presses:
            for key in presses:
                self.role.key(key, now)
            presses.clear()
        logins = self.panel.logins
        if logins:
            login = getattr(self.role, "login", None)    # (a caller's card reader)
            for staff in logins:
                if login is not None:
                    login(staff, now)
            logins.clear()

    def _printer(self, now):
        printer = self.uarts.get("printer")
        if printer is None:
            return
        while printer.any():
            n = printer.readinto(self.buf)
            if not n:
                break
            self.role.printer_bytes(memoryview(self.buf)[:n], now)

    def _perform(self, action, now):
        kind = action[0]
        if kind == "print" and "printer" in self.uarts:
            self.uarts["printer"].write(action[1])
        elif kind == "query" and "printer" in self.uarts:
            self.uarts["printer"].write(action[1])
        elif kind == "voice" and self.voice is not None:
            self.voice.play(action[1], now)
            self._flush_voice()
        if kind == "status":
            self.node.next_status = now         # the printer changed: report at once
        self.panel.show(action if kind != "print" else ("print", len(action[1])))

    def _flush_voice(self):
        for frame in self.voice.out:
            self.uarts["voice"].write(frame)
        self.voice.out = []

    def next_wake(self, now):
        # Milliseconds until step() has work of its own (nothing arriving meanwhile).
        if self.role.out or self.node.hardware:
            return 0
        wait = self.node.next_wake(now)
        if self.voice is not None and self.voice.playing and wait > 50:
            wait = 50
        return wait

    async def run(self, period_ms=5):
        # The device's one loop, on either carrier (MicroPython only: tests drive step() with
        # their own time). On MQTT the shell reads the socket, runs step() and writes.
        import asyncio
        import time
        panel = self.panel
        shell = self.mqtt
        online = None
        while not panel.quit:
            panel.poll()
            if shell is None:
                self.step(time.ticks_ms())
            else:
                shell.pump(self, time.ticks_ms())
                if shell.online() != online:
                    online = shell.online()
                    panel.event("mqtt", online)
            await asyncio.sleep_ms(period_ms if shell is None else 2)
