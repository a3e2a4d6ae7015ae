"""Test harness: repository imports, and running code under the real MicroPython unix port.

Portable code is imported by the same paths on a device and here (`import protocol.frame`),
so the repository root goes on sys.path; MicroPython gets it through MICROPYPATH.
"""
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTABLE = ROOT / "tests" / "portable"
for path in (ROOT, ROOT / "tools", PORTABLE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from hallpc import mpybuild  # noqa: E402

DEFAULT_HEAP = "64K"
BUILD = ROOT / "build" / "mpy"


class MicroPythonFailed(AssertionError):
    pass


_built = False


def build_mpy():
    """Device code and portable tests, precompiled once per session (see hallpc.mpybuild)."""
    global _built
    if not _built:
        try:
            mpybuild.build(BUILD, extra_flat=sorted(PORTABLE.glob("*.py")))
        except mpybuild.BuildError as exc:
            raise MicroPythonFailed(str(exc)) from None
        _built = True
    return BUILD


def run_micropython(code=None, module=None, heapsize=DEFAULT_HEAP, timeout=300, args=()):
    """Run code, or a precompiled module (`-m`), under MicroPython with a heap limit.

    Returns stdout. A non-zero exit fails the calling test with MicroPython's own traceback.
    """
    proc = mpybuild.run(build_mpy(), code=textwrap.dedent(code) if code else None, module=module,
                        heapsize=heapsize, args=args, timeout=timeout)
    if proc.returncode != 0:
        raise MicroPythonFailed(
            "MicroPython (heap %s) exited %d\n--- stdout ---\n%s\n--- stderr ---\n%s"
            % (heapsize, proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:]))
    return proc.stdout


@pytest.fixture
def micropython():
    return run_micropython
