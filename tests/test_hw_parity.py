"""The two hardware layers, firmware/hw/esp32.py and firmware/hw/host.py, offer the same names
with the same signatures (the device build calls either without probing), and an RS485 bus UART
drives its transceiver's driver-enable pin for exactly the length of each transmission. GPIO
cannot exist here: `machine` is a recording fake with the interface MicroPython's has."""
import importlib
import inspect
import sys
import types

import pytest


class Recorder:
    def __init__(self):
        self.events = []


def fake_machine(rec):
    m = types.ModuleType("machine")

    class Pin:
        OUT, IN, PULL_UP, PULL_DOWN = 1, 0, 2, 3

        def __init__(self, number, mode=None, pull=None, value=None):
            self.number = number
            if value is not None:
                rec.events.append(("pin", number, value))

        def value(self, v=None):
            if v is not None:
                rec.events.append(("pin", self.number, v))
            return 0

    class UART:
        def __init__(self, uid, **kwargs):
            rec.events.append(("uart", uid, kwargs["baudrate"]))

        def write(self, data):
            rec.events.append(("write", bytes(data)))
            return len(data)

        def flush(self):
            rec.events.append(("flush",))

        def any(self):
            return 0

        def readinto(self, buf):
            return None

        def read(self, n=None):
            return None
    m.Pin, m.UART = Pin, UART
    return m


@pytest.fixture
def esp32(monkeypatch):
    rec = Recorder()
    monkeypatch.setitem(sys.modules, "machine", fake_machine(rec))
    sys.modules.pop("firmware.hw.esp32", None)
    module = importlib.import_module("firmware.hw.esp32")
    yield module, rec
    sys.modules.pop("firmware.hw.esp32", None)


def test_the_bus_transceiver_talks_only_while_we_transmit(esp32):
    hw, rec = esp32
    port = hw.uart({"id": 2, "tx": 17, "rx": 16, "baud": 115200, "de": 4})
    assert rec.events[-1] == ("pin", 4, 0)               # listening from the start
    rec.events.clear()
    assert port.write(b"\x00frame") == 6
    assert rec.events == [("pin", 4, 1), ("write", b"\x00frame"), ("flush",), ("pin", 4, 0)]
    rec.events.clear()
    plain = hw.uart({"id": 1, "tx": 5, "rx": 6, "baud": 9600})   # (a printer: no transceiver)
    plain.write(b"x")
    assert ("pin", 4, 1) not in rec.events and not hasattr(plain, "de")


def test_a_failed_write_still_releases_the_line(esp32):
    hw, rec = esp32
    port = hw.uart({"id": 2, "tx": 17, "rx": 16, "baud": 115200, "de": 4})

    def broken(data):
        raise OSError(5, "EIO")
    port.port.write = broken
    with pytest.raises(OSError):
        port.write(b"x")
    assert rec.events[-1] == ("pin", 4, 0)               # never left driving the bus


def test_both_hardware_layers_offer_the_same_names_and_signatures(esp32):
    hw, _ = esp32
    from firmware.hw import host
    names = ("uart", "keys", "watchdog", "wifi", "reset_cause", "info", "console", "Panel")
    for name in names:
        ours, theirs = getattr(hw, name), getattr(host, name)
        a = list(inspect.signature(ours).parameters)
        b = list(inspect.signature(theirs).parameters)
        assert a == b, (name, a, b)
    for attr in ("presses", "logins", "quit"):
        assert hasattr(host.Panel.__new__(host.Panel), "poll")
        assert attr in inspect.getsource(hw.Panel.__init__)
        assert attr in inspect.getsource(host.Panel.__init__)
    for method in ("poll", "show", "event"):
        assert callable(getattr(hw.Panel, method)) and callable(getattr(host.Panel, method))
