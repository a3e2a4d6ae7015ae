# ESP32 hardware built from a board description: machine.UART, key pins, the watchdog, the
# status LED. Imported only on a device (boards say which pins; nothing here is hard-coded).
import machine

FW = "1.0"                      # the firmware version a device reports in its status


def uart(spec):
    kwargs = {"baudrate": spec["baud"], "tx": spec["tx"], "rx": spec["rx"], "rxbuf": 1024}
    port = machine.UART(spec["id"], **kwargs)
    if "de" in spec:            # an RS485 transceiver's driver enable (DE and /RE tied)
        return Rs485(port, machine.Pin(spec["de"], machine.Pin.OUT, value=0))
    return port


class Rs485:
    # A UART behind a half-duplex RS485 transceiver: its driver is enabled for exactly as long
    # as a transmission lasts (flush() returns once the last stop bit is out), so the line is
    # free for the next device's answer as soon as we are done. Receiving needs nothing.
    def __init__(self, port, de):
        self.port = port
        self.de = de

    def any(self):
        return self.port.any()

    def read(self, n=None):
        return self.port.read() if n is None else self.port.read(n)

    def readinto(self, buf):
        return self.port.readinto(buf)

    def write(self, data):
        self.de.value(1)
        try:
            n = self.port.write(data)
            self.port.flush()
        finally:
            self.de.value(0)
        return n


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


def wifi(cfg, timeout_ms=20000):
    # Join the hall's Wi-Fi (config "wifi": ssid, psk); returns the WLAN interface. The MQTT
    # client reconnects by itself, so a slow access point only delays the first connect.
    import network
    import time
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected() and cfg.get("ssid"):
        wlan.connect(cfg["ssid"], cfg.get("psk", ""))
        start = time.ticks_ms()
        while not wlan.isconnected() and time.ticks_diff(time.ticks_ms(), start) < timeout_ms:
            time.sleep_ms(100)
    return wlan


def watchdog(timeout_ms=8000):
    return machine.WDT(timeout=timeout_ms)



def console(path=None):
    # The hub's service console: the USB port (a host board's is a pseudo-terminal, `path`).
    return Console()


class Console:
    # The USB console as a stream the hub's service console reads without blocking.
    def __init__(self):
        import select
        import sys
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.stdin = sys.stdin
        self.stdout = sys.stdout

    def any(self):
        return 1 if self.poller.poll(0) else 0

    def readinto(self, buf):
        ch = self.stdin.read(1)                   # one character: never waits for more
        if not ch:
            return 0
        buf[0] = ord(ch) & 0xFF
        return 1

    def write(self, data):
        self.stdout.write(data.decode())


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
    return {"fw": FW, "uptime": time.ticks_diff(time.ticks_ms(), start_ms) // 1000,
            "free_heap": gc.mem_free(), "reset_cause": cause}


class _Max7219:
    # A chain of MAX7219 modules on a software SPI bus.
    def __init__(self, display):
        from firmware.drivers.ledboard import max7219_init
        pins = display["pins"]
        self.spi = machine.SoftSPI(baudrate=2000000, sck=machine.Pin(pins["clk"]),
                                   mosi=machine.Pin(pins["din"]))
        self.cs = machine.Pin(pins["cs"], machine.Pin.OUT, value=1)
        self.width, self.height = display["width"], display["height"]
        for transfer in max7219_init(self.width * self.height // 64):
            self.write(transfer)

    def write(self, data):
        self.cs.value(0)
        self.spi.write(data)
        self.cs.value(1)

    def frame(self, frame):
        from firmware.drivers.ledboard import max7219_writes
        for transfer in max7219_writes(frame, self.width, self.height):
            self.write(transfer)


class LedBoardOutput:
    # A window's one-line LED board: "board" actions, blinking and scrolling on its own clock.
    def __init__(self, display, glyphs):
        from firmware.drivers.ledboard import LedBoard
        self.panel = _Max7219(display)
        self.board = LedBoard(glyphs, display["width"], display["height"])

    def show(self, action, now):
        if action[0] == "board":
            self.board.show(action[1], action[2], now)

    def poll(self, now):
        frame = self.board.tick(now)
        if frame is not None:
            self.panel.frame(frame)


class HallBoardOutput:
    # The hall display's board of modules: "screen" actions, several lines of text.
    def __init__(self, display, glyphs):
        from firmware.drivers.textscreen import TextScreen
        self.panel = _Max7219(display)
        self.screen = TextScreen(glyphs, display["width"], display["height"])

    def show(self, action, now):
        if action[0] == "screen":
            self.screen.show(action[1], now)

    def poll(self, now):
        if self.screen.tick(now) is not None:
            self.panel.frame(self.screen.columns())


class Ssd1306Output:
    # A small I2C OLED (the evaluator's): "screen" actions as SSD1306 pages.
    ADDRESS = 0x3C

    def __init__(self, display, glyphs):
        from firmware.drivers.textscreen import TextScreen, SSD1306_INIT
        pins = display["pins"]
        self.i2c = machine.SoftI2C(scl=machine.Pin(pins["scl"]), sda=machine.Pin(pins["sda"]))
        self.screen = TextScreen(glyphs, display["width"], display["height"])
        self._commands(SSD1306_INIT)

    def _commands(self, commands):
        for command in commands:
            self.i2c.writeto(self.ADDRESS, bytes((0x00, command)))

    def show(self, action, now):
        if action[0] == "screen":
            self.screen.show(action[1], now)

    def poll(self, now):
        from firmware.drivers.textscreen import SSD1306_WINDOW
        pages = self.screen.tick(now)
        if pages is not None:
            self._commands(SSD1306_WINDOW)
            self.i2c.writeto(self.ADDRESS, b"\x40" + pages)


def display_output(display, glyphs):
    # The output for a board's display, chosen by its description.
    if display is None:
        return None
    if display["kind"] == "ssd1306":
        return Ssd1306Output(display, glyphs)
    if display["kind"] == "max7219":
        return HallBoardOutput(display, glyphs) if display["height"] > 16 \
            else LedBoardOutput(display, glyphs)
    return None


class Panel:
    # Carries out a role's display actions on the board's parts: its display (see
    # display_output), the key lights (WS2812) and the status LED. Glyphs come from the device
    # config (prepared at provisioning).
    def __init__(self, board, config):
        self.presses = []           # (a host board's keys; an ESP32's come from keys())
        self.logins = []            # staff sign-ins from a card reader (none on these boards)
        self.quit = False
        self.display = display_output(board.get("display"), config.get("glyphs", {}))
        self.lights = None
        lights = board.get("key_lights")
        if lights is not None:
            import neopixel
            self.lights = neopixel.NeoPixel(machine.Pin(lights["ws2812"]), lights["count"])
        self.led = machine.Pin(board["status_led"], machine.Pin.OUT) if "status_led" in board else None

    def show(self, action):
        import time
        kind = action[0]
        if self.display is not None:
            self.display.show(action, time.ticks_ms())
        if kind == "lights" and self.lights is not None:
            for k in range(len(self.lights)):
                self.lights[k] = (0, 40, 0) if action[1] & (1 << k) else (0, 0, 0)
            self.lights.write()
        elif kind == "show" and self.led is not None:
            self.led.value(0 if action[1] in ("out_of_paper", "printer_fault", "offline") else 1)

    def event(self, *items):
        print(items)                # (the USB console)

    def poll(self):
        # Called every pass: push what changed on the display.
        if self.display is not None:
            import time
            self.display.poll(time.ticks_ms())
