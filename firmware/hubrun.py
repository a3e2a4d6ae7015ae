# The hub's loop on an ESP32 (or the unix port): one bus UART, the hub role and its node, the
# routing core's timers once a second. UTC comes from the RTC (set by NTP or by hand).
from firmware.node import Node
from firmware.roles.hub import HubRole

UNIX_FROM_2000 = 946684800     # MicroPython's ESP32 epoch is 2000-01-01


class HubRuntime:
    def __init__(self, core, devices, bus, now, watchdog=None):
        self.role = HubRole(core, devices)
        self.node = Node(0, self.role, "hub", now)
        self.bus = bus
        self.watchdog = watchdog
        self.buf = bytearray(256)
        self.last_second = -1

    def step(self, now, utc):
        self.node.pump(self.bus, self.buf, now, utc)
        if utc != self.last_second:
            self.last_second = utc
            self.role.tick(utc)
        out = self.node.transmit(now, utc)
        if out:
            self.bus.write(out)
        if self.watchdog is not None:
            self.watchdog.feed()

    async def run(self, period_ms=5):
        import asyncio
        import time
        while True:
            self.step(time.ticks_ms(), time.time() + UNIX_FROM_2000)
            await asyncio.sleep_ms(period_ms)
