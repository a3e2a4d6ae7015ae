"""Device code builds as a device needs it: mpy-cross for the ESP32's own architecture, and a
type check against micropython-esp32-stubs, so an API the ESP32 port lacks is caught here."""
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from conftest import ROOT
from hallpc import mpybuild

DEVICE_SOURCES = mpybuild.device_sources()
# Stub modules whose own stubs mypy faults; our code is still checked against them.
STUB_ERRORS_IGNORED = ("_mpy_shed.*", "vfs", "machine", "network")


@pytest.mark.parametrize("source", DEVICE_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiles_for_esp32_with_mpy_cross(source, tmp_path):
    mpybuild.compile_file(source, tmp_path / "out.mpy", arch=mpybuild.ESP32_ARCH)
    assert (tmp_path / "out.mpy").read_bytes()[:1] == b"M"      # an .mpy header


def esp32_stub_dir(tmp_path):
    """A typeshed-shaped folder holding only the MicroPython ESP32 and stdlib stubs."""
    stubs = tmp_path / "stubs"
    for name in ("micropython-esp32-stubs", "micropython-stdlib-stubs"):
        dist = distribution(name)
        for file in dist.files or ():
            if file.suffix == ".pyi" or file.name == "VERSIONS":
                target = stubs / file
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    target.symlink_to(Path(dist.locate_file(file)).resolve())
    return stubs


def run_mypy(tmp_path, files):
    stubs = esp32_stub_dir(tmp_path)
    assert (stubs / "machine.pyi").exists() and (stubs / "stdlib" / "VERSIONS").exists()
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\ncustom_typeshed_dir = {0}\nmypy_path = {0}\nno_site_packages = True\n"
        "python_version = 3.11\ncache_dir = {1}\n[mypy-{2}]\nignore_errors = True\n".format(
            stubs, tmp_path / "cache", ",".join(STUB_ERRORS_IGNORED)))
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config)] + files,
                          capture_output=True, text=True, cwd=ROOT)


def test_device_code_type_checks_against_esp32_stubs(tmp_path):
    proc = run_mypy(tmp_path, [str(p.relative_to(ROOT)) for p in DEVICE_SOURCES])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_type_check_catches_an_api_the_esp32_lacks(tmp_path):
    # The check above is only worth something if it fails on code the ESP32 cannot run.
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nimport machine\ntime.monotonic()\nmachine.UART(1).readline_async()\n")
    proc = run_mypy(tmp_path, [str(bad)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Module has no attribute "monotonic"' in proc.stdout
    assert '"UART" has no attribute "readline_async"' in proc.stdout
