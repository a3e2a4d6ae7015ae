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
        hub = HostHub(core, [DISPENSER, CALLER, EVALUATOR, DISPLAY], boards)
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
            if core.stats.staff_ratings.get("S1"):
                break
            caller.read(0.01)
        assert core.stats.staff_ratings["S1"][1] == 1
        assert core.stats.window_served[0] == 1
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
        assert sum(d.rejected() for d in hub.decoders) == 0      # clean lines: nothing dropped
    finally:
        for board in boards:
            board.close()
        printer.close()
