"""hallctl flash --port PORT --board BOARD --config DEVICE_CONFIG [--image MICROPYTHON.bin]

What a technician runs at the bench. In order, stopping at the first problem:
1. The board file and the device's config are validated and the bundle is built (the same
   files `hallctl bundle` writes). A bad one is refused with the file, the key and the reason
   before the device is touched.
2. With --image, esptool writes that MicroPython image to the chip named by the board (and
   erases the flash first with --erase); esptool checks what it wrote by MD5. A chip that is
   not the board's is refused ("wrong board").
3. mpremote enters the device's raw REPL, checks that the device is the board's chip, and
   compares every file already there with the bundle by SHA-256: only files that differ are
   copied, files of ours that the bundle no longer has are removed (a stale .py would shadow
   its .mpy), and manifest.json goes last, so a device cut off mid-way has no manifest.
4. Every file is hashed on the device and compared with the manifest.
Progress bars go to stderr; the summary goes to stdout. config.json is copied (the device
needs its secrets) but nothing of it is shown.
"""
import ast
import contextlib
import hashlib
import sys
import tempfile
from pathlib import Path

from hallctl import bundle
from hallpc.errors import CommandError
from hallctl.status import open_port

# Where each chip's MicroPython image starts in flash (the second-stage bootloader's place).
IMAGE_OFFSET = {"esp32": 0x1000, "esp32s2": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0,
                "esp32c6": 0x0}
OURS = ("firmware", "protocol")        # directories flash owns: anything else there is stale
CHUNK = 1024

# Runs on the device, in one round trip: ({path: hex SHA-256}, [directories]) for the named
# files that exist and for everything under the named directories. Nothing else is read.
HASH_TREE = """
import os, hashlib, binascii
def _h(p):
    h = hashlib.sha256(); b = bytearray(512); m = memoryview(b)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n: break
            h.update(m[:n])
    return binascii.hexlify(h.digest()).decode()
def _walk(d):
    try: it = list(os.ilistdir(d))
    except OSError: return
    _dirs.append(d)
    for e in it:
        p = d + '/' + e[0]
        if e[1] & 0x4000: _walk(p)
        else: _out[p] = _h(p)
_out = {}
_dirs = []
for _p in %r:
    try: _out[_p] = _h(_p)
    except OSError: pass
for _d in %r:
    _walk(_d)
print(repr((_out, _dirs)))
"""


def chip_of(platform, machine):
    """The chip a MicroPython names in sys.implementation._machine ("Generic ESP32S3 module
    with ESP32S3"): 'esp32s3', 'esp32', or 'host' for the unix port."""
    if platform != "esp32":
        return "host" if platform in ("linux", "darwin") else platform
    tail = machine.rsplit("with", 1)[-1].strip().lower().replace("-", "")
    return tail if tail.startswith("esp32") else "esp32"


def write_image(port, mcu, image, baud, erase, stdout):
    """esptool: write a MicroPython image to a chip in its ROM bootloader, verified by MD5."""
    if mcu not in IMAGE_OFFSET:
        raise CommandError("--image: the board's mcu %r has no flash image (it is not an ESP32)"
                           % mcu)
    path = Path(image)
    try:
        head = path.read_bytes()[:1]
    except OSError as exc:
        raise CommandError("%s: %s" % (image, exc.strerror)) from None
    if head != b"\xe9":
        raise CommandError("%s: not an ESP32 firmware image (no 0xE9 magic byte)" % image)
    open_port(port).close()                      # no such port / busy: one clear line
    import esptool
    common = ["--chip", mcu, "--port", port, "--baud", str(baud)]
    argv = common + ["write-flash", "-z"] + (["--erase-all"] if erase else []) \
        + [hex(IMAGE_OFFSET[mcu]), str(path)]
    with contextlib.redirect_stdout(sys.stderr):     # esptool's own progress bars
        try:
            esptool.main(argv)
        except esptool.FatalError as exc:
            text = str(exc)
            if "wrong chip" in text.lower() or "wrong --chip" in text.lower():
                raise CommandError("%s: wrong board: %s" % (port, text.splitlines()[0])) \
                    from None
            raise CommandError("%s: esptool: %s" % (port, text.splitlines()[0])) from None
        except SystemExit as exc:
            if exc.code:
                raise CommandError("%s: esptool stopped (exit %s)" % (port, exc.code)) \
                    from None
    stdout.write("%s: MicroPython image %s written at %#x and verified by esptool\n"
                 % (port, path.name, IMAGE_OFFSET[mcu]))


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def last_line(exc):
    text = str(getattr(exc, "error_output", "") or exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


class Device:
    """A MicroPython device's raw REPL through mpremote's transport."""

    def __init__(self, port, baud=115200, timeout=5.0):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport
        open_port(port, baud).close()            # no such port / busy: one clear line
        self.port = port
        try:
            self.transport = SerialTransport(port, baudrate=baud, timeout=2)
            self.transport.enter_raw_repl(soft_reset=False, timeout_overall=timeout)
        except TransportError:
            raise CommandError("%s: no MicroPython REPL answered (is the board running "
                               "MicroPython? press its reset button and try again)" % port) \
                from None

    def close(self):
        try:
            self.transport.exit_raw_repl()
        finally:
            self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        # Closed whatever happened; what the device or the line failed at is one line.
        from mpremote.transport import TransportError
        with contextlib.suppress(Exception):
            self.close()
        if isinstance(exc, (OSError, TransportError)):
            raise CommandError("%s: the device failed: %s" % (self.port, last_line(exc))) \
                from None
        return False

    def chip(self):
        return chip_of(*self.transport.eval("(__import__('sys').platform, getattr(__import__("
                                            "'sys').implementation, '_machine', ''))"))

    def hashes(self, names, roots=()):
        """({path: SHA-256 hex}, [dirs]) of the named files and everything under roots."""
        got = self.transport.exec(HASH_TREE % (list(names), list(roots)))
        return ast.literal_eval(got.decode().strip())

    def differing(self, files, roots=()):
        """The names in files (name -> SHA-256 hex) missing or different on the device."""
        got, _ = self.hashes([name for name in files if "/" not in name], roots)
        return sorted(name for name in files if got.get(name) != files[name])

    def mkdir(self, path):
        self.transport.fs_mkdir(path)

    def remove(self, path):
        self.transport.fs_rmfile(path)

    def write(self, path, data, progress):
        self.transport.fs_writefile(path, data, chunk_size=CHUNK, progress_callback=progress)

    def reset(self):
        # Start the firmware: a hard reset on a board; the unix port has none.
        self.transport.exec_raw_no_follow("import machine\nmachine.reset()")


def plan(files, on_device, have):
    """(to write, to remove, dirs to make) to turn what is on the device (files, and the
    directories `have`) into the bundle."""
    write = [name for name in files if on_device.get(name) != files[name]]
    write.sort(key=lambda name: name == "manifest.json")        # the manifest last
    remove = sorted(name for name in on_device if name not in files
                    and name.split("/", 1)[0] in OURS)
    have = set(have)
    dirs = sorted({str(Path(name).parent) for name in files if "/" in name})
    need = []
    for d in dirs:
        parts = d.split("/")
        for k in range(1, len(parts) + 1):
            prefix = "/".join(parts[:k])
            if prefix not in have and prefix not in need:
                need.append(prefix)
    return write, remove, need


def progress_bar(total):
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
    console = Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   console=console, disable=not console.is_terminal)
    return bar, bar.add_task("copying", total=total)


def copy(device, out, manifest):
    """Bring the device to the bundle in out/; returns (written, removed, unchanged, bytes)."""
    files = dict(manifest["files"])
    files["manifest.json"] = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    on_device, have = device.hashes([name for name in files if "/" not in name], OURS)
    write, remove, dirs = plan(files, on_device, have)
    for name in remove:
        device.remove(name)
    for d in dirs:
        device.mkdir(d)
    total = sum((out / name).stat().st_size for name in write)
    bar, task = progress_bar(total)
    done = 0
    with bar:
        for name in write:
            data = (out / name).read_bytes()
            bar.update(task, description=name)
            device.write(name, data, lambda n, size, base=done: bar.update(task, completed=base + n))
            done += len(data)
    wrong = device.differing(files, OURS)
    if wrong:
        raise CommandError("%s: %d files differ from the bundle after copying, first %s: "
                           "flash again" % (device.port, len(wrong), wrong[0]))
    return len(write), len(remove), len(files) - len(write), total


class Flash:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--port", required=True, help="the device's serial port")
        bundle.add_source_arguments(parser)
        parser.add_argument("--image", help="first write this MicroPython firmware image with "
                                            "esptool (the board must be in its bootloader)")
        parser.add_argument("--erase", action="store_true", help="with --image: erase the "
                                                                  "whole flash first")
        parser.add_argument("--only-image", action="store_true",
                            help="with --image: stop after the image (copy files later)")
        parser.add_argument("--image-baud", type=int, default=460800)
        parser.add_argument("--baud", type=int, default=115200, help="the REPL's baud rate")
        parser.add_argument("--no-reset", action="store_true",
                            help="leave the device in its REPL instead of starting the firmware")

    @staticmethod
    def run(args, stdin, stdout):
        if (args.erase or args.only_image) and not args.image:
            raise CommandError("--erase and --only-image need --image")
        with tempfile.TemporaryDirectory(prefix="qms-flash-") as tmp:
            out = Path(tmp) / "bundle"
            from rich.console import Console
            with Console(stderr=True).status("validating and compiling the bundle"):
                manifest = bundle.make(bundle.board_file(args.board), args.config, out)
            if args.image:
                write_image(args.port, manifest["mcu"], args.image, args.image_baud, args.erase,
                            stdout)
                if args.only_image:
                    return 0
            with Device(args.port, args.baud) as device:
                chip = device.chip()
                if chip != manifest["mcu"]:
                    raise CommandError("%s: wrong board: the device is %s, the board %s is %s"
                                       % (args.port, chip, manifest["board"], manifest["mcu"]))
                written, removed, unchanged, size = copy(device, out, manifest)
                if not args.no_reset and chip != "host":
                    device.reset()
        stdout.write("%s (%s on %s): %s written (%d bytes), %d unchanged, %d stale removed; "
                     "all %d verified by SHA-256\n"
                     % (manifest["device"], manifest["role"], manifest["board"],
                        plural(written, "file"), size, unchanged, removed, written + unchanged))
        return 0
