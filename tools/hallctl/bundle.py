"""hallctl bundle --board BOARD --config DEVICE_CONFIG --out DIR: exactly what `flash` copies
to a device, for offline use: the firmware and protocol packages precompiled with mpy-cross for
the board's chip, boot.py and main.py, the board file and the device's config, and
manifest.json with every file's SHA-256. The board and the config are validated first; a bad
one is refused with the file, the key and the reason. Secrets stay in config.json (the device
needs them) and never appear in the manifest or on the screen.
"""
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from firmware import boards, devconfig
from hallpc import mpybuild
from hallpc.errors import CommandError
from hallpc.files import check_dir, make_dir, write_atomic

ARCH = {"esp32": "xtensawin", "esp32s3": "xtensawin", "esp32s2": "xtensawin",
        "esp32c3": "rv32imc", "esp32c6": "rv32imc"}
HOST_ONLY = ("firmware/hw/host.py",)               # the unix port's virtual board
HUB_ONLY = ("firmware/routing/", "firmware/roles/hub.py", "firmware/hubrun.py")
BOOT = "# qms: boot.py (hallctl bundle)\n"
MAIN = "# qms: main.py (hallctl bundle)\nfrom firmware.main import device_main\ndevice_main()\n"


BOARDS = mpybuild.ROOT / "boards"


def board_file(name):
    path = Path(name)
    if not path.suffix and not path.exists():
        path = BOARDS / (name + ".json")
    return path


def make(board_path, config_path, out):
    # Validate, compile and lay out the bundle; returns the manifest.
    try:
        board = boards.load(str(board_path))
    except boards.BoardError as exc:
        raise CommandError(str(exc)) from None
    try:
        config = devconfig.load(str(config_path))
    except devconfig.ConfigError as exc:
        raise CommandError(str(exc)) from None
    if config.get("board") not in (None, board["board"]):
        raise CommandError("%s: board: the config is for %s, not %s"
                           % (config_path, config["board"], board["board"]))
    arch = mpybuild.host_arch() if board.get("mcu") == "host" else ARCH.get(board.get("mcu"))
    if arch is None:
        raise CommandError("%s: mcu: no MicroPython build for %r" % (board_path, board.get("mcu")))
    out = Path(out)
    replaces = _replaceable(out, [board_path, config_path])
    make_dir(out.parent)
    check_dir(out.parent)
    work = Path(tempfile.mkdtemp(prefix="." + out.name + ".", dir=str(out.parent)))
    try:
        manifest = _build(board, config, arch, work)
        work.chmod(0o755)
        if replaces:                     # the previous bundle goes only once this one is whole
            old = Path(tempfile.mkdtemp(prefix="." + out.name + ".old.", dir=str(out.parent)))
            os.rename(out, old / "bundle")
            os.rename(work, out)
            shutil.rmtree(old)
        else:
            if out.exists():
                out.rmdir()              # (empty: checked)
            os.rename(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _replaceable(out, inputs):
    # Whether `out` is a previous bundle to replace (True), or absent or empty (False). Any
    # other directory, a file, a link, or one holding an input is refused before any work.
    if out.is_symlink():
        raise CommandError("%s: a symbolic link: refusing to follow it" % out)
    if not out.exists():
        return False
    if not out.is_dir():
        raise CommandError("%s: exists and is not a directory" % out)
    for given in inputs:
        if Path(given).resolve().is_relative_to(out.resolve()):
            raise CommandError("%s: holds %s, an input: refusing to replace it" % (out, given))
    held = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file() or p.is_symlink())
    if not held and not any(out.iterdir()):
        return False
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        ours = set(manifest["files"]) | {"manifest.json"}
        assert isinstance(manifest["device"], str)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise CommandError("%s: not empty and not a bundle (no manifest.json of ours): "
                           "refusing to replace it" % out) from None
    strangers = [name for name in held if name not in ours]
    if strangers:
        raise CommandError("%s: a bundle, but it also holds %s, not the bundle's: refusing "
                           "to replace it" % (out, ", ".join(strangers[:3]) +
                                              (", ..." if len(strangers) > 3 else "")))
    return True


def _build(board, config, arch, out):
    hub = config["role"] == "hub"
    for source in mpybuild.device_modules():
        rel = source.relative_to(mpybuild.ROOT).as_posix()
        if (rel in HOST_ONLY and board["mcu"] != "host") or (not hub and rel.startswith(HUB_ONLY)):
            continue
        target = out / Path(rel).with_suffix(".mpy")
        try:
            mpybuild.compile_file(source, target, arch)
        except mpybuild.BuildError as exc:
            raise CommandError(str(exc)) from None
    (out / "boot.py").write_text(BOOT)
    (out / "main.py").write_text(MAIN)
    (out / "board.json").write_text(json.dumps(board, ensure_ascii=False, indent=1))
    write_atomic(out / "config.json", json.dumps(config, ensure_ascii=False), 0o600)  # secrets
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            files[path.relative_to(out).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {"device": config["id"], "role": config["role"], "board": board["board"],
                "mcu": board["mcu"], "arch": arch, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def add_source_arguments(parser):
    # What a bundle is made of; bundle and flash take the same two options.
    parser.add_argument("--board", required=True, help="a board name (boards/NAME.json) or file")
    parser.add_argument("--config", required=True, help="the device's config.json")


class Bundle:
    @staticmethod
    def add_arguments(parser):
        add_source_arguments(parser)
        parser.add_argument("--out", required=True, help="the directory to write: new, empty, or a bundle "
                                                          "written before (replaced whole)")

    @staticmethod
    def run(args, stdin, stdout):
        manifest = make(board_file(args.board), args.config, args.out)
        size = sum((Path(args.out) / name).stat().st_size for name in manifest["files"])
        stdout.write("%s (%s on %s, %s): %d files, %d bytes in %s; manifest.json has their "
                     "SHA-256\n" % (manifest["device"], manifest["role"], manifest["board"],
                                    manifest["arch"], len(manifest["files"]), size, args.out))
        return 0
