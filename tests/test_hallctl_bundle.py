"""hallctl bundle: what flash would copy, validated first, with a manifest of hashes."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from t_dispenser import TEXTS

HALLCTL = str(Path(sys.executable).parent / "hallctl")
DISPENSER = {"id": "disp-1", "role": "dispenser", "hall": "district-1",
             "board": "esp32-devkitc-dispenser", "bus_address": 17,
             "service_keys": [{"service": "A"}], "texts": TEXTS, "wifi": {"ssid": "hall", "psk": "sekrit-psk"}}


def bundle(tmp_path, config, board="esp32-devkitc-dispenser"):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "bundle"
    proc = subprocess.run([HALLCTL, "bundle", "--board", board, "--config", str(path),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    return proc, out, path


def test_a_dispenser_bundle_is_what_the_device_needs_and_its_manifest_is_true(tmp_path):
    proc, out, _ = bundle(tmp_path, DISPENSER)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["arch"] == "xtensawin" and manifest["role"] == "dispenser"
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == set(manifest["files"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert {"boot.py", "main.py", "config.json", "board.json", "firmware/node.mpy",
            "firmware/roles/dispenser.mpy", "protocol/frame.mpy"} <= set(manifest["files"])
    assert not any(n.startswith("firmware/routing/") or n == "firmware/hw/host.mpy"
                   for n in manifest["files"])                 # neither the hub's nor the host's
    mpy = (out / "protocol/fast.mpy").read_bytes()                # (the file with viper code)
    assert mpy[:2] == b"M\x06" and mpy[2] >> 2 == 10             # .mpy v6 for xtensawin
    assert "sekrit" not in proc.stdout + (out / "manifest.json").read_text()
    assert json.loads((out / "config.json").read_text())["wifi"]["psk"] == "sekrit-psk"


def test_a_hub_bundle_carries_the_routing_core(tmp_path):
    hub = {"id": "hub-1", "role": "hub", "hall": "district-1", "board": "esp32-devkitc-dispenser",
           "bus_address": 0}
    proc, out, _ = bundle(tmp_path, hub)
    assert proc.returncode == 0, proc.stderr
    assert "firmware/routing/core.mpy" in json.loads((out / "manifest.json").read_text())["files"]


@pytest.mark.parametrize("change,board,message", [
    ({"bus_address": 300}, "esp32-devkitc-dispenser", "bus_address"),
    ({"role": "janitor"}, "esp32-devkitc-dispenser", "role"),
    ({"board": "esp32-s3-caller"}, "esp32-devkitc-dispenser",
     "board: the config is for esp32-s3-caller, not esp32-devkitc-dispenser"),
    ({}, "no-such-board", "no-such-board.json: cannot read"),
])
def test_a_bad_board_or_config_is_refused_before_anything_is_written(tmp_path, change, board,
                                                                      message):
    proc, out, path = bundle(tmp_path, dict(DISPENSER, **change), board)
    assert proc.returncode == 2 and not out.exists()
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("hallctl: ") and message in err, err


def test_a_bundle_replaces_only_a_bundle_of_its_own_and_whole(tmp_path):
    proc, out, _ = bundle(tmp_path, DISPENSER)
    assert proc.returncode == 0, proc.stderr
    assert oct((out / "config.json").stat().st_mode)[-3:] == "600"     # the Wi-Fi PSK
    first = json.loads((out / "manifest.json").read_text())
    again, out, _ = bundle(tmp_path, dict(DISPENSER, bus_address=18))   # a bundle: replaced
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "config.json").read_text())["bus_address"] == 18
    assert json.loads((out / "manifest.json").read_text())["files"].keys() == first["files"].keys()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no leftovers
    (out / "notes.txt").write_text("mine\n")              # a technician's file in it
    refused, out, _ = bundle(tmp_path, DISPENSER)
    assert refused.returncode == 2 and "notes.txt" in refused.stderr
    assert (out / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize("where", [".", "elsewhere", "a-file", "a-file/under", "a-link"])
def test_bundle_out_never_destroys_what_is_there(tmp_path, where):
    work = tmp_path / "work"
    work.mkdir()
    (work / "hall.json").write_text("{}")                 # what a technician keeps there
    (work / "disp-1.json").write_text(json.dumps(DISPENSER))
    (work / "elsewhere").mkdir()
    (work / "elsewhere" / "photo.jpg").write_bytes(b"\xff\xd8")
    (work / "a-file").write_text("data")
    (work / "a-link").symlink_to(work / "elsewhere")
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    proc = subprocess.run([HALLCTL, "bundle", "--board", "esp32-devkitc-dispenser",
                           "--config", str(work / "disp-1.json"), "--out", where],
                          capture_output=True, text=True, timeout=300, cwd=work)
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before
    assert not [p for p in work.iterdir() if p.name.startswith(".")]
