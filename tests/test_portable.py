"""Runs every portable test module (tests/portable/t_*.py) on CPython and on MicroPython.

Each test function becomes two pytest items: one imported here on CPython, one run by the
real MicroPython unix port under a heap limit (64K, or the module's HEAPSIZE).
"""
import importlib

import pytest

from conftest import PORTABLE, run_micropython


def _cases():
    for path in sorted(PORTABLE.glob("t_*.py")):
        module = importlib.import_module(path.stem)
        heap = getattr(module, "HEAPSIZE", "64K")
        for name in sorted(dir(module)):
            if name.startswith("test_"):
                yield path.stem, name, heap


CASES = list(_cases())


@pytest.mark.parametrize("module,name,heap", CASES, ids=["%s::%s" % c[:2] for c in CASES])
def test_cpython(module, name, heap):
    getattr(importlib.import_module(module), name)()


@pytest.mark.micropython
@pytest.mark.parametrize("module,name,heap", CASES, ids=["%s::%s" % c[:2] for c in CASES])
def test_micropython(module, name, heap):
    out = run_micropython(module="runner", args=(module, name), heapsize=heap)
    assert "PASS %s" % name in out
