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


LATENCY_MS = 16      # a USB serial adapter's latency: FTDI's latency timer is 16 ms by default
LOW_LATENCY_MS = 2   # in low-latency mode (the FTDI driver then sets its timer to 1 ms)


def low_latency(port):
    """Ask the serial driver for its low-latency mode (ASYNC_LOW_LATENCY; Linux's ftdi_sio
    then sets the adapter's latency timer to 1 ms). True if it took it."""
    try:
        port.set_low_latency_mode(True)
    except (ValueError, OSError, NotImplementedError):
        return False
    return True


def adapter_timing(latency_ms):
    # The bus master's windows for a hub behind a USB adapter: a polled device's answer reaches
    # us up to a latency after our poll left and the answer's bytes come in chunks up to a
    # latency apart, so both windows widen by it (an ESP32's own UART needs 3 ms and 1 ms).
    return {"reply_us": 3000 + 2000 * latency_ms, "gap_us": 1000 + 1000 * latency_ms}


class SerialHub:
    def __init__(self, core, devices, ports, utc0=None, speed=1.0, baud=115200, console=None,
                 info=None, **timing):
        # ports: one pyserial port (the bus), or several point-to-point lines that each hear
        # every transmission. timing: the bus master's reply_us, gap_us, turnaround_us, police
        # (adapter_timing for a USB-RS485 adapter).
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
