"""Compiling device code with mpy-cross, and running it on the MicroPython unix port.

Tests, benchmarks and (later) `hallctl bundle` share this: a device gets .mpy files, and a
64K heap cannot hold MicroPython's compiler and our modules at once, so code that runs under
the unix port is precompiled exactly as a device's copy is.
"""
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hallpc import fold, joined

ROOT = Path(__file__).resolve().parents[1]
DEVICE_TREES = ("protocol", "firmware")
HOST_ARCH = {"x86_64": "x64", "amd64": "x64", "i686": "x86", "i386": "x86"}
ESP32_ARCH = "xtensawin"


class BuildError(Exception):
    pass


def _tool(name):
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise BuildError("no `%s` found: install the test extras (`make install`)" % name)
    return found


def mpy_cross():
    return _tool("mpy-cross")


def micropython():
    return _tool("micropython")


def host_arch():
    return HOST_ARCH.get(platform.machine().lower(), "")


def compile_file(source, target, arch=None):
    """Compile one .py to .mpy for arch (default: this host's native emitter). The routing
    core compiles as a device loads it: joined with its rooms (hallpc.joined)."""
    arch = host_arch() if arch is None else arch
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if _is_core(source):
            text = joined.join(ROOT)
        else:
            rel = _relative(source)
            text = fold.fold(Path(source).read_text(encoding="utf-8"),
                             private=rel not in fold.PUBLIC)
    except (joined.JoinError, fold.FoldError) as exc:
        raise BuildError("%s: %s" % (source, exc)) from None
    with tempfile.TemporaryDirectory() as work:
        built = Path(work) / Path(source).name        # (the name the .mpy's tracebacks give)
        built.write_text(text, encoding="utf-8")
        cmd = [mpy_cross()] + (["-march=" + arch] if arch else [])
        cmd += ["-o", str(target), "-s", built.name, str(built)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip().replace(str(built), str(source))
        raise BuildError("mpy-cross %s: %s" % (source, out))


def _is_core(source):
    return Path(source).resolve() == (ROOT / joined.CORE).resolve()


def _relative(source):
    # source's path in the repository ("" for a file outside it).
    path = Path(source).resolve()
    return path.relative_to(ROOT.resolve()).as_posix() if path.is_relative_to(ROOT.resolve()) \
        else ""


def device_sources(root=ROOT):
    """Every source file of device code (the routing core's rooms included)."""
    return sorted(p for tree in DEVICE_TREES for p in (root / tree).rglob("*.py"))


def device_modules(root=ROOT):
    """The source of each module a device loads: the routing core's rooms are in its core."""
    rooms = {root / path for path in joined.rooms(root)}
    return [p for p in device_sources(root) if p not in rooms]


def _inputs(source):
    # The files a module's .mpy is built from: its source, the codes folded into it and this
    # build itself (and, for the routing core, its rooms and the joiner).
    made = [Path(source), ROOT / "protocol" / "codes.py", Path(__file__), Path(fold.__file__)]
    if _is_core(source):
        return made + [Path(joined.__file__)] + [ROOT / path for path in joined.rooms(ROOT)]
    return made


def build(out, extra_flat=(), arch=None):
    """Precompile device trees into out/ (mirroring paths) and extra_flat files into out/ itself.

    Only files whose source is newer than their .mpy are compiled; stale .mpy files are removed.
    """
    out = Path(out)
    jobs = [(src, out / src.relative_to(ROOT).with_suffix(".mpy")) for src in device_modules()]
    jobs += [(Path(src), out / (Path(src).stem + ".mpy")) for src in extra_flat]
    wanted = {target for _, target in jobs}
    if out.exists():
        for stale in out.rglob("*.mpy"):
            if stale not in wanted:
                stale.unlink()
    for source, target in jobs:
        if not target.exists() or \
                target.stat().st_mtime < max(p.stat().st_mtime for p in _inputs(source)):
            compile_file(source, target, arch)
    return out


def run(path, code=None, module=None, heapsize="64K", args=(), timeout=300, env=None):
    """Run code or a module (-m) under the unix port with path as MICROPYPATH."""
    environ = dict(os.environ if env is None else env)
    environ["MICROPYPATH"] = os.pathsep.join([str(path), ".frozen"])
    environ["QMS_ROOT"] = str(ROOT)
    cmd = [micropython(), "-X", "heapsize=%s" % heapsize]
    cmd += ["-c", code] if code is not None else ["-m", module]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                          env=environ, cwd=ROOT)
