"""The routing core as a device loads it: its rooms joined into one module (hallpc.joined),
compiled, loaded from .mpy alone under the unix port, passing the core's own portable tests,
and costing no heap for the rooms."""
import ast
from pathlib import Path

import pytest

from conftest import ROOT, build_mpy, run_micropython
from hallpc import fold, joined, mpybuild

ROOMS = joined.rooms(ROOT)
# The portable tests that import nothing of the host's (they run from .mpy files alone)
DEVICE_TESTS = sorted(p.stem for p in (ROOT / "tests" / "portable").glob("t_*.py")
                      if not any(name in p.read_text() for name in ("host_sim", "hallctl", "hallpc")))
MPY_ONLY = """
import sys
if '' in sys.path:
    sys.path.remove('')          # the .mpy files alone, as a device holds them
"""


def test_the_rooms_are_the_bases_of_the_core_and_the_build_holds_none_of_them():
    assert {"firmware/routing/durable.py", "firmware/routing/windows.py",
            "firmware/routing/timers.py", "firmware/routing/stats.py"} <= set(ROOMS)
    build = build_mpy()
    for room in ROOMS:
        assert not (build / room).with_suffix(".mpy").exists()
    assert (build / "firmware/routing/core.mpy").exists()
    tree = ast.parse(joined.join(ROOT))
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    core = [c for c in classes if c.name == "RoutingCore"][0]
    assert not core.bases                        # one class, no walk through bases
    methods = {n.name for n in core.body if isinstance(n, ast.FunctionDef)}
    assert {"_log", "_replay", "_repeat", "_end_day", "_issue", "choose", "_call_next",
            "_rate", "_tick", "issue", "tick", "is_idle"} <= methods


def test_the_joined_core_is_what_a_device_loads_and_passes_the_cores_tests():
    out = run_micropython(MPY_ONLY + """
import firmware.routing.core as core
print(core.__file__)
print([m for m in sys.modules if m.endswith(('durable', 'windows', 'timers', 'stats'))])
import runner
sys.exit(runner.run('t_routing'))
""", heapsize="256K")
    lines = out.splitlines()
    assert lines[0].endswith("firmware/routing/core.mpy") and lines[1] == "[]"
    assert sum(1 for line in lines if line.startswith("PASS")) >= 20
    assert not any(line.startswith("FAIL") for line in lines)


def test_two_rooms_defining_one_method_are_refused(tmp_path):
    for path in ["firmware/routing/core.py"] + ROOMS:
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((ROOT / path).read_text())
    timers = tmp_path / "firmware/routing/timers.py"
    timers.write_text(timers.read_text() + "\n    def choose(self, w, now):\n        return None\n")
    with pytest.raises(joined.JoinError, match="both define RoutingCore.choose"):
        joined.join(tmp_path)


def test_a_broken_room_fails_the_build_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(joined, "join", lambda root: "def broken(:\n")
    with pytest.raises(mpybuild.BuildError, match="core"):
        mpybuild.compile_file(ROOT / joined.CORE, tmp_path / "core.mpy")


@pytest.mark.parametrize("module", DEVICE_TESTS)
def test_the_device_build_passes_the_portable_tests_without_protocol_codes(module):
    out = run_micropython(MPY_ONLY + """
import runner
failed = runner.run(%r)
print("codes loaded:", 'protocol.codes' in sys.modules)
sys.exit(failed)
""" % module, heapsize="256K")
    assert "codes loaded: False" in out and "FAIL" not in out and "PASS" in out


def test_codes_folded_keep_their_lines_public_or_private():
    text = ("from protocol.codes import (OK, WRONG_STATE,\n    PRINTER_OK as PAPER)\n"
            "x = OK + self.OK\n")
    public = fold.fold(text).split("\n")
    assert public[0] == "OK = const(0); WRONG_STATE = const(2); PAPER = const(1)"
    assert public[2] == "x = OK + self.OK"                # the same line as before
    private = fold.fold(text, private=True).split("\n")
    assert private[0] == "_OK = const(0); _WRONG_STATE = const(2); _PAPER = const(1)"
    assert private[2] == "x = _OK + self.OK"             # an attribute is not a code
    with pytest.raises(fold.FoldError, match="no code NOPE"):
        fold.fold("from protocol.codes import NOPE\n")


def test_only_the_public_modules_codes_are_imported_from_them():
    # A module folded privately keeps no code names: nobody may import one from it.
    from protocol import codes
    names = {n for n in dir(codes) if n.isupper()}
    device = {p.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."): p
              for p in mpybuild.device_sources()}
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if ".venv" in path.parts or "build" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in device and \
                    node.module != "protocol.codes":
                for alias in node.names:
                    rel = device[node.module].relative_to(ROOT).as_posix()
                    if alias.name in names and rel not in fold.PUBLIC:
                        found.append("%s imports %s from %s" % (path.name, alias.name, rel))
    assert found == []


def test_a_change_to_the_build_or_the_codes_rebuilds_every_module():
    # A stale .mpy would hold old code values or an older build's output.
    frame = {p.resolve() for p in mpybuild._inputs(ROOT / "protocol" / "frame.py")}
    assert {(ROOT / "protocol" / "codes.py").resolve(), Path(mpybuild.__file__).resolve()} <= frame
    core = {p.resolve() for p in mpybuild._inputs(ROOT / joined.CORE)}
    assert {(ROOT / room).resolve() for room in ROOMS} <= core


def test_a_broken_module_is_named_by_its_own_path(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def broken(:\n")
    with pytest.raises(mpybuild.BuildError) as caught:
        mpybuild.compile_file(broken, tmp_path / "broken.mpy")
    assert str(caught.value).count(str(broken)) == 2      # the command's and mpy-cross's line
