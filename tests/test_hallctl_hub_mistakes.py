"""hallctl hub's mistakes as a technician makes them: each is one line on stderr naming the file
or option and the reason, exit 2, no traceback, and no data directory made; a damaged journal is
said in the log and the hub goes on; it never touches a file in its data directory but its own."""
import json
import signal

import pytest

from hallrig import HALLCTL, HubProcess, hall_file, hallctl
from hallpc.localbroker import LocalBroker
from host_sim.realtime import VirtualBus


@pytest.fixture
def bus():
    b = VirtualBus()
    yield b
    b.close()


def _refused(tmp_path, args, message):
    data = tmp_path / "data"
    proc = hallctl("hub", *args, timeout=60)
    assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("hallctl: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not data.exists(), args


def test_every_mistake_is_one_line_and_nothing_is_made(tmp_path, bus):
    hall = hall_file(tmp_path)
    port = bus.port()
    data = tmp_path / "data"
    broken = tmp_path / "broken.json"
    broken.write_text('{"hall": ')
    bare = tmp_path / "bare.json"
    doc = json.loads(hall.read_text(encoding="utf-8"))
    del doc["routing"]
    bare.write_text(json.dumps(doc), encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for args, message in (
            ((tmp_path / "none.json", "--data", data, "--bus", port), "cannot read"),
            ((broken, "--data", data, "--bus", port), "not valid JSON"),
            ((bare, "--data", data, "--bus", port), "routing: expected the hub's hall"),
            ((hall, "--data", data, "--mqtt", "127.0.0.1:1"), "which hub hallctl hub (on MQTT) "
                                                              "cannot reach"),
            ((hall, "--data", data, "--bus", tmp_path / "ttyNONE"), "no such port"),
            ((hall, "--data", data, "--bus", port, "--baud", "0"), "--baud: expected"),
            ((hall, "--data", data, "--bus", port, "--latency-ms", "-1"), "--latency-ms: expected"),
            ((hall, "--data", data, "--bus", port, "--credentials", tmp_path),
             "--credentials: only with --mqtt"),
            ((hall, "--data", data, "--bus", port, "--ca", a_file), "--ca: only with --mqtt"),
            ((hall, "--data", a_file, "--bus", port), "not a directory"),
            ((hall, "--data", data), "one of the arguments --bus --mqtt is required"),
            ((hall, "--data", data, "--bus", port, "--mqtt", "h"), "not allowed with"),
    ):
        _refused(tmp_path, args, message)
    (tmp_path / "m").mkdir()
    mqtt_hall = hall_file(tmp_path / "m", mqtt=True)
    for args, message in (
            ((mqtt_hall, "--data", data, "--mqtt", "127.0.0.1:http"), "--mqtt: '127.0.0.1:http'"),
            ((mqtt_hall, "--data", data, "--mqtt", "no-such-host.invalid"), "no such host"),
            ((mqtt_hall, "--data", data, "--mqtt", "127.0.0.1", "--baud", "9600"),
             "--baud: only with --bus"),
            ((mqtt_hall, "--data", data, "--mqtt", "127.0.0.1", "--latency-ms", "2"),
             "--latency-ms: only with --bus"),
            ((mqtt_hall, "--data", data, "--mqtt", "127.0.0.1", "--credentials", tmp_path / "x"),
             "credentials.json: cannot read"),
            ((mqtt_hall, "--data", data, "--mqtt", "127.0.0.1", "--ca", tmp_path / "x.pem"),
             "--ca: %s: no such file" % (tmp_path / "x.pem")),
    ):
        _refused(tmp_path, args, message)


def test_a_broker_that_refuses_the_hub_is_one_line(tmp_path):
    broker = LocalBroker(tmp_path, extra="allow_anonymous false\n")
    try:
        hall = hall_file(tmp_path, mqtt=True)
        proc = hallctl("hub", hall, "--data", tmp_path / "data", "--mqtt",
                       "127.0.0.1:%d" % broker.port, timeout=60,
                       env={"QMS_MQTT_PASSWORD": "wrong-sekrit"})
        assert proc.returncode == 2 and "refused the hub" in proc.stderr.splitlines()[-1]
        assert proc.stderr.splitlines()[-1].startswith("hallctl: --mqtt: 127.0.0.1:%d"
                                                       % broker.port)
        assert "wrong-sekrit" not in proc.stderr and "Traceback" not in proc.stderr
    finally:
        broker.stop()


def test_a_damaged_journal_is_said_and_the_hub_goes_on(tmp_path, bus):
    import time
    from firmware.routing.config import HallConfig
    from firmware.routing.core import RoutingCore
    from firmware.routing.journal import FileStorage
    hall = hall_file(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    journal = data / "journal.bin"
    cfg = HallConfig(json.loads(hall.read_text(encoding="utf-8"))["routing"])
    core = RoutingCore(cfg, FileStorage(str(journal)), int(time.time()))
    for _ in range(4):                                  # four tickets the hub acknowledged
        core.issue(int(time.time()), "A", 0)
    core.storage.close()
    raw = bytearray(journal.read_bytes())
    raw[len(raw) * 3 // 4] ^= 0xFF                      # one record damaged on the disk
    journal.write_bytes(bytes(raw))
    (data / "operator-notes.txt").write_text("keep me")
    args = [str(a) for a in (HALLCTL, "hub", hall, "--data", data, "--bus", bus.port())]
    hub = HubProcess(args, tmp_path / "hub.log")
    try:
        hub.wait_log("records could not be read")
        hub.wait_log("7 devices, 3 waiting")              # the others read, and still waiting
        assert hub.stop(signal.SIGTERM) == 0
    finally:
        if hub.proc.poll() is None:
            hub.kill()
    assert (data / "operator-notes.txt").read_text() == "keep me"
    assert "Traceback" not in hub.text()
    names = sorted(p.name for p in data.iterdir())
    assert [n for n in names if not n.startswith("journal.bin.damaged")] == [
        "hub.lock", "journal.bin", "operator-notes.txt", "status.json"], names


def test_the_shipped_systemd_unit_runs_the_hub_as_documented():
    # The unit's command line is one hallctl accepts, its data directory is the one systemd
    # makes for it, and systemd itself finds nothing wrong but the program not being installed.
    import configparser
    import shlex
    import shutil
    import subprocess
    from pathlib import Path
    from hallctl.cli import build_parser
    unit = Path(__file__).resolve().parents[1] / "tools" / "systemd" / "qms-hub.service"
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(unit.read_text())
    argv = shlex.split(parser["Service"]["ExecStart"])
    assert argv[0].endswith("/hallctl") and argv[1] == "hub"
    args = build_parser().parse_args(argv[1:])
    assert args.data == "/var/lib/" + parser["Service"]["StateDirectory"]
    assert parser["Service"]["KillSignal"] == "SIGTERM"
    assert parser["Service"]["RestartPreventExitStatus"] == "2"   # a user's mistake: no loop
    if shutil.which("systemd-analyze"):
        proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                              text=True, timeout=60)
        complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                      if line.strip() and "is not executable" not in line]
        assert complaints == [], complaints
