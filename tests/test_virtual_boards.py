"""A whole service through virtual boards: every device is the firmware running in its own
MicroPython unix-port process, on pseudo-terminal serial links to the hub on the host."""
import pytest

from conftest import build_mpy
from firmware.routing.core import RoutingCore
from firmware.routing.journal import FileStorage
from hall import config
from t_dispenser import TEXTS
from host_sim.realtime import FakePrinter, HostHub, VirtualBoard

DISPENSER = {"id": "disp-1", "role": "dispenser", "hall": "district-1", "board": "host",
             "bus_address": 17, "service_keys": [{"service": "A"}], "texts": TEXTS,
             "printer": {"confirm": "gs_h"}}             # the host board's virtual printer
CALLER = {"id": "caller-1", "role": "caller", "hall": "district-1", "board": "host",
          "bus_address": 33, "window": 1}
EVALUATOR = {"id": "eval-1", "role": "evaluator", "hall": "district-1", "board": "host",
             "bus_address": 49, "window": 1}
DISPLAY = {"id": "display-1", "role": "display", "hall": "district-1", "board": "host",
           "bus_address": 65}


@pytest.mark.micropython
def test_a_service_from_key_press_to_rating_over_real_serial_links(tmp_path):
    build = build_mpy()
    printer = FakePrinter()
    boards = []
    try:
        dispenser = VirtualBoard(build, tmp_path, DISPENSER, printer=printer)
        caller = VirtualBoard(build, tmp_path, CALLER)
        evaluator = VirtualBoard(build, tmp_path, EVALUATOR)
        display = VirtualBoard(build, tmp_path, DISPLAY)
        boards = [dispenser, caller, evaluator, display]
        journal = FileStorage(str(tmp_path / "journal.bin"))
        cfg = config()
        from hall import at
        core = RoutingCore(cfg, journal, at("09:00"))
        hub = HostHub(core, [DISPENSER, CALLER, EVALUATOR, DISPLAY], boards, utc0=at("09:00"))
        _, _, utc = hub.now()
        core.window_open(utc, 1)
        core.login(utc, 1, "S1")
        pump = hub.pump

        dispenser.press(0)                                   # a citizen takes a ticket
        dispenser.wait_for(lambda i: i[:2] == ["hw", "show"] and i[2] == "ready", 15, pump)
        assert b"A001" in printer.printed and b"QMS1|district-1|" in printer.printed
        assert bytes.fromhex(TEXTS["hall"]) in printer.printed

        caller.press(0)                                      # staff: call next
        caller.wait_for(lambda i: i == ["hw", "board", "请A001号到1号窗口", 5], 15, pump)
        display.wait_for(lambda i: i[:2] == ["hw", "screen"] and i[2] and
                         i[2][0] == "请A001号到1号窗口", 15, pump)
        caller.press(2)                                      # start
        caller.wait_for(lambda i: i == ["hw", "board", "A001 正在办理", 0], 15, pump)
        caller.press(3)                                      # finish
        evaluator.wait_for(lambda i: i == ["hw", "lights", 31], 15, pump)
        evaluator.press(0)                                   # 非常满意
        evaluator.wait_for(lambda i: i[:2] == ["hw", "screen"] and i[2][-1] == "谢谢您的评价", 15, pump)
        for _ in range(200):
            pump()
            if core.day_summary()["staff_ratings"].get("S1"):
                break
            caller.read(0.01)
        assert core.day_summary()["staff_ratings"]["S1"][1] == 1
        assert core.day_summary()["window_served"][0] == 1
        journal.close()
        again = RoutingCore.recover(cfg, FileStorage(str(tmp_path / "journal.bin")), 0)
        assert again.fingerprint() == core.fingerprint()     # the hub's journal has it all
        for _ in range(500):                                 # every device reports its status
            table = {row["id"]: row for row in hub.role.status_table()}
            if all(row["fw"] for row in table.values()):
                break
            pump()
            caller.read(0.01)
        for device in ("disp-1", "caller-1", "eval-1", "display-1"):
            assert table[device]["online"] and table[device]["fw"] == "host", table[device]
            assert table[device]["free_heap"] > 0 and table[device]["reset_cause"] == 1
        assert hub.rejected() == 0      # clean lines: nothing dropped
    finally:
        for board in boards:
            board.close()
        printer.close()


@pytest.mark.micropython
def test_the_unix_port_hub_refuses_what_it_cannot_run_in_one_line(tmp_path):
    # The hub as a technician starts it on the unix port: without a carrier, without its
    # provisioned files beside the config, or with them damaged: a line and exit 2.
    import json
    import os
    import subprocess
    from hallpc import mpybuild
    from host_sim.realtime import VirtualCable
    build = build_mpy()
    hub_dir = tmp_path / "hub"
    hub_dir.mkdir()
    (hub_dir / "config.json").write_text(json.dumps({"id": "hub-1", "role": "hub",
                                                     "hall": "district-1", "board": "host"}))
    cable = VirtualCable()

    def hub(*args):
        return subprocess.run([mpybuild.micropython(), "-X", "heapsize=512K", "-m",
                               "firmware.main", str(hub_dir / "config.json")] + list(args),
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, MICROPYPATH=str(build) + ":.frozen"))
    try:
        for args, message in (
                (("printer=" + cable.a_path,), "qms: hub-1 needs its carrier: bus=PTY or "
                                               "mqtt=HOST:PORT\n"),
                (("mqtt=127.0.0.1:1883",), "qms: %s/: cannot read the hub's hall.json and "
                                           "devices.json there" % hub_dir),
                (("bus=" + cable.a_path, "lights=" + cable.a_path), "qms: lights=%s: unknown "
                                                                   "argument" % cable.a_path),
                (("bus=" + cable.a_path,), "qms: %s/: cannot read the hub's hall.json and "
                                           "devices.json there" % hub_dir)):
            proc = hub(*args)
            assert proc.returncode == 2 and proc.stdout.startswith(message), proc.stdout
            assert "Traceback" not in proc.stdout + proc.stderr
        (hub_dir / "hall.json").write_text('{"services": [}')
        (hub_dir / "devices.json").write_text("[]")
        proc = hub("bus=" + cable.a_path)
        assert proc.returncode == 2 and proc.stdout.startswith("qms: ")
        assert "Traceback" not in proc.stdout + proc.stderr
    finally:
        cable.close()


@pytest.mark.micropython
def test_hallsim_boards_gives_a_newcomer_ports_to_try_hallctl_on(tmp_path):
    # The README's path without hardware: `hallsim boards` prints a blank board's port (for
    # provision --port and flash) and a running dispenser's (for status and monitor --poll).
    import json
    import re
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path
    bin_dir = Path(sys.executable).parent
    boards = subprocess.Popen([str(bin_dir / "hallsim"), "boards", "--dir", str(tmp_path / "b")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def hallctl(*args):
        return subprocess.run([str(bin_dir / "hallctl")] + [str(a) for a in args],
                              capture_output=True, text=True, timeout=120)
    try:
        lines = []
        while not any("monitor --port" in line for line in lines):
            line = boards.stdout.readline()
            assert line, boards.stderr.read()
            lines.append(line)
        text = "".join(lines)
        blank = re.search(r"blank board: +(\S+)", text).group(1)
        running = re.search(r"hallctl status --port (\S+)", text).group(1)
        watched = hallctl("monitor", "--port", running, "--poll", "--seconds", "3")
        assert watched.returncode == 0 and "17 -> 0  status role=1" in watched.stdout
        status = hallctl("status", "--port", running, "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["role"] == "dispenser"
        hall = Path(__file__).resolve().parents[1] / "tools" / "hallctl" / "hall.example.json"
        doc = json.loads(hall.read_text(encoding="utf-8"))
        for dev in doc["devices"]:
            dev["board"] = "host"
        (tmp_path / "hall.json").write_text(json.dumps(doc, ensure_ascii=False))
        provisioned = hallctl("provision", tmp_path / "hall.json", "caller-1", "--port", blank)
        assert provisioned.returncode == 0, provisioned.stderr
        assert json.loads((tmp_path / "b" / "blank" / "config.json").read_text())["id"] == \
            "caller-1"
    finally:
        boards.send_signal(signal.SIGINT)
        out, err = boards.communicate(timeout=30)
    assert boards.returncode == 0 and out.endswith("boards stopped\n"), err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "hall.json"]   # only its --dir
