# Board descriptions (boards/*.json): which pins, UARTs, keys and display a board has.
# validate() checks one against its chip's rules and raises BoardError naming the file, the
# key and the reason, so a bad board is refused by hallctl before a device is touched.
# Code never hard-codes a pin: roles get their hardware built from these descriptions.

# Per chip: GPIOs that exist, pins reserved (flash, PSRAM, USB console), input-only pins,
# and the UARTs an application may use (UART0 is the REPL console).
CHIPS = {
    "esp32": {"pins": tuple(p for p in range(40) if p not in (20, 24, 28, 29, 30, 31)),
              "reserved": (6, 7, 8, 9, 10, 11), "input_only": (34, 35, 36, 37, 38, 39),
              "uarts": (1, 2)},
    "esp32c3": {"pins": tuple(range(22)), "reserved": (11, 12, 13, 14, 15, 16, 17, 18, 19),
                "input_only": (), "uarts": (1,)},
    "esp32s3": {"pins": tuple(range(22)) + tuple(range(26, 49)),
                "reserved": (19, 20, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37),
                "input_only": (), "uarts": (1, 2)},
    "host": None,                       # a virtual board: no pins to check
}
UART_NAMES = ("bus", "printer", "voice")
PRINTER_CONFIRMS = ("none", "gs_r", "gs_h")
DISPLAYS = {"max7219": ("din", "clk", "cs"), "ssd1306": ("sda", "scl"), "virtual": ()}
NO_DRIVER = {"hub12": "HUB12 LED panels have no driver in this firmware: build the board "
                      "from MAX7219 modules (max7219) or an SSD1306 screen"}
KNOWN = ("board", "mcu", "description", "uarts", "keys", "key_lights", "display", "status_led")


class BoardError(Exception):
    pass


class _Check:
    def __init__(self, source, chip):
        self.source = source
        self.chip = chip
        self.used = {}

    def fail(self, key, reason):
        raise BoardError("%s: %s: %s" % (self.source, key, reason))

    def number(self, key, value, lo, hi):
        if type(value) is not int or not lo <= value <= hi:
            self.fail(key, "expected a whole number %d..%d, got %r" % (lo, hi, value))
        return value

    def pin(self, key, value, output=True):
        chip = self.chip
        if chip is None:
            return value
        if type(value) is not int or value not in chip["pins"]:
            self.fail(key, "GPIO %r does not exist on this chip" % (value,))
        if value in chip["reserved"]:
            self.fail(key, "GPIO %d is reserved (flash, PSRAM or the USB console)" % value)
        if output and value in chip["input_only"]:
            self.fail(key, "GPIO %d is input-only" % value)
        if value in self.used:
            self.fail(key, "GPIO %d is already used by %s" % (value, self.used[value]))
        self.used[value] = key
        return value


def validate(board, source="board"):
    # Check a board description (a dict from JSON); returns it unchanged or raises BoardError.
    if not isinstance(board, dict):
        raise BoardError("%s: expected a JSON object" % source)
    for key in board:
        if key not in KNOWN:
            raise BoardError("%s: %s: unknown key" % (source, key))
    name = board.get("board")
    if type(name) is not str or not name:
        raise BoardError("%s: board: expected the board's name" % source)
    mcu = board.get("mcu")
    if mcu not in CHIPS:
        raise BoardError("%s: mcu: expected one of %s, got %r" % (source, ", ".join(sorted(CHIPS)), mcu))
    check = _Check(source, CHIPS[mcu])
    uarts = board.get("uarts")
    if not isinstance(uarts, dict) or "bus" not in uarts:
        check.fail("uarts", "expected a table with at least the bus UART")
    ids = {}
    for uname in uarts:
        where = "uarts." + uname
        if uname not in UART_NAMES:
            check.fail(where, "unknown UART (expected %s)" % ", ".join(UART_NAMES))
        u = uarts[uname]
        if not isinstance(u, dict):
            check.fail(where, "expected a table")
        uid = check.number(where + ".id", u.get("id"), 0, 2)
        if check.chip is not None and uid not in check.chip["uarts"]:
            check.fail(where + ".id", "UART%d is not free on this chip (use %s)"
                       % (uid, " or ".join(str(i) for i in check.chip["uarts"])))
        if uid in ids:
            check.fail(where + ".id", "UART%d is already used by %s" % (uid, ids[uid]))
        ids[uid] = where
        check.number(where + ".baud", u.get("baud"), 1200, 2000000)
        for key in u:
            if key not in ("id", "tx", "rx", "de", "baud") and not (
                    uname == "printer" and key in ("confirm", "font")):
                check.fail(where + "." + key, "unknown key")
        if uname == "printer":
            # confirm: the command the printer answers only once a ticket has printed (GS ( H,
            # GS r) or none; font: what its Chinese font covers (GBK, or all of GB18030)
            if u.get("confirm", "none") not in PRINTER_CONFIRMS:
                check.fail(where + ".confirm", "expected one of %s" % ", ".join(PRINTER_CONFIRMS))
            if u.get("font", "gbk") not in ("gbk", "gb18030"):
                check.fail(where + ".font", "expected gbk or gb18030")
        if check.chip is not None:
            check.pin(where + ".tx", u.get("tx"))
            check.pin(where + ".rx", u.get("rx"), output=False)
            if "de" in u:
                check.pin(where + ".de", u["de"])
    keys = board.get("keys")
    if keys is not None:
        if not isinstance(keys, dict):
            check.fail("keys", "expected a table")
        if "pins" in keys:
            if not isinstance(keys["pins"], list) or not keys["pins"]:
                check.fail("keys.pins", "expected a list of GPIOs")
            for k, p in enumerate(keys["pins"]):
                check.pin("keys.pins[%d]" % k, p, output=False)
        elif "matrix" in keys:
            m = keys["matrix"]
            if not isinstance(m, dict) or not m.get("rows") or not m.get("cols"):
                check.fail("keys.matrix", "expected rows and cols lists")
            for k, p in enumerate(m["rows"]):
                check.pin("keys.matrix.rows[%d]" % k, p)
            for k, p in enumerate(m["cols"]):
                check.pin("keys.matrix.cols[%d]" % k, p, output=False)
        elif "virtual" in keys:
            check.number("keys.virtual", keys["virtual"], 1, 64)
        else:
            check.fail("keys", "expected pins, matrix or virtual")
    lights = board.get("key_lights")
    if lights is not None:
        check.pin("key_lights.ws2812", lights.get("ws2812") if isinstance(lights, dict) else None)
        check.number("key_lights.count", lights.get("count"), 1, 64)
    display = board.get("display")
    if display is not None:
        if isinstance(display, dict) and display.get("kind") in NO_DRIVER:
            check.fail("display.kind", NO_DRIVER[display["kind"]])
        if not isinstance(display, dict) or display.get("kind") not in DISPLAYS:
            check.fail("display.kind", "expected one of %s" % ", ".join(sorted(DISPLAYS)))
        check.number("display.width", display.get("width"), 8, 1024)
        check.number("display.height", display.get("height"), 8, 512)
        pins = display.get("pins", {})
        for pname in DISPLAYS[display["kind"]]:
            if check.chip is not None:
                check.pin("display.pins." + pname, pins.get(pname))
    if "status_led" in board:
        check.pin("status_led", board["status_led"])
    return board


def load(path):
    # Read and validate a file; the error names the file when it is not valid JSON.
    from firmware.jsonfile import load as load_json
    return load_json(path, BoardError, validate)
