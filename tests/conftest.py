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


def micropython_binary():
    """The unix-port binary installed with the test dependencies (next to this Python first)."""
    local = Path(sys.executable).parent / "micropython"
    if local.exists():
        return str(local)
    found = shutil.which("micropython")
    if not found:
        pytest.fail("no `micropython` binary: install the test extras (make test does)")
    return found


class MicroPythonFailed(AssertionError):
    pass


def run_micropython(code=None, script=None, heapsize=DEFAULT_HEAP, timeout=300, args=()):
    """Run code (or a script path) under MicroPython with a heap limit; return its stdout.

    A non-zero exit fails the calling test with MicroPython's own traceback.
    """
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(ROOT), str(PORTABLE), ".frozen"])
    cmd = [micropython_binary(), "-X", "heapsize=%s" % heapsize]
    if code is not None:
        cmd += ["-c", textwrap.dedent(code)]
    else:
        cmd.append(str(script))
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
