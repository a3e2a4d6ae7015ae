"""The hub on a hall PC on the RS485 bus: the same hub as an ESP32's (firmware.hubrun.HubRuntime,
the bus master, the hub role and the routing core), its line a USB-RS485 adapter through
pyserial. pump() is one pass of the hub's loop."""
from firmware.hubrun import HubRuntime
from hallpc.clock import HallClock


class SerialLine:
    """A pyserial port with the face the hub's runtime reads: any(), readinto(), write()."""

    def __init__(self, port):
        self.port = port

    def any(self):
        return self.port.in_waiting

    def readinto(self, buf):
        data = self.port.read(min(len(buf), self.port.in_waiting))
        buf[:len(data)] = data
        return len(data)

    def write(self, data):
        return self.port.write(data)


class SerialHub:
    def __init__(self, core, devices, ports, utc0=None, speed=1.0, baud=115200, console=None,
                 info=None, **timing):
        # ports: one pyserial port (the bus), or several point-to-point lines that each hear
        # every transmission. timing: the bus master's reply_us, gap_us, turnaround_us, police.
        self.clock = HallClock(utc0, speed)
        lines = [SerialLine(p) for p in ports] if isinstance(ports, list) else SerialLine(ports)
        self.hub = HubRuntime(core, devices, lines, 0, baud=baud, console=console, info=info,
                              **timing)
        self.role = self.hub.role

    def now(self):
        return self.clock.now()

    def pump(self):
        us, ms, utc = self.clock.now()
        self.hub.step(us, ms, utc)

    def rejected(self):
        return self.hub.rejected()
