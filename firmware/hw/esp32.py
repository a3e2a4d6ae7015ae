# ESP32 hardware built from a board description: machine.UART, key pins, the watchdog, the
# status LED. Imported only on a device (boards say which pins; nothing here is hard-coded).
import machine


def uart(spec):
    kwargs = {"baudrate": spec["baud"], "tx": spec["tx"], "rx": spec["rx"], "rxbuf": 1024}
    port = machine.UART(spec["id"], **kwargs)
    return port


class PinKeys:
    # Direct key pins; raw() returns the bitmask of keys held down.
    def __init__(self, spec):
        pull = machine.Pin.PULL_UP if spec.get("active_low", True) else machine.Pin.PULL_DOWN
        self.pins = [machine.Pin(p, machine.Pin.IN, pull) for p in spec["pins"]]
        self.active = 0 if spec.get("active_low", True) else 1

    def raw(self):
        mask = 0
        for k in range(len(self.pins)):
            if self.pins[k].value() == self.active:
                mask |= 1 << k
        return mask


class MatrixKeys:
    # A key matrix: rows driven, columns pulled up; scanning is firmware.keys.scan_matrix.
    def __init__(self, spec):
        self.rows = [machine.Pin(p, machine.Pin.OUT, value=1) for p in spec["rows"]]
        self.cols = [machine.Pin(p, machine.Pin.IN, machine.Pin.PULL_UP) for p in spec["cols"]]

    def raw(self):
        from firmware.keys import scan_matrix
        return scan_matrix(self.rows, self.cols)


def keys(spec):
    return MatrixKeys(spec["matrix"]) if "matrix" in spec else PinKeys(spec)


def watchdog(timeout_ms=8000):
    return machine.WDT(timeout=timeout_ms)



def reset_cause():
    # machine.reset_cause() -> protocol codes.RESET_CAUSES.
    cause = machine.reset_cause()
    table = {machine.PWRON_RESET: 1, machine.HARD_RESET: 2, machine.WDT_RESET: 3,
             machine.DEEPSLEEP_RESET: 4, machine.SOFT_RESET: 5}
    return table.get(cause, 0)


def info(start_ms, cause):
    import gc
    import time
    gc.collect()
    return {"fw": "1.0", "uptime": time.ticks_diff(time.ticks_ms(), start_ms) // 1000,
            "free_heap": gc.mem_free(), "reset_cause": cause}
