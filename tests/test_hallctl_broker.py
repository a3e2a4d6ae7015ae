"""hallctl broker-config as a technician meets it: run again it keeps every password (a
rotation is asked for by name), it never follows a planted link, never writes secrets into
a directory others may write to, never overwrites its own input, and writes nothing when it
fails. What it writes starts Mosquitto the way Debian's service does (as root, dropping to
the mosquitto user) with no warning. On that broker a device cannot take the hub's client
id to knock it off, and the operator account reads but cannot publish."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from hallpc.localbroker import MOSQUITTO, listening
from test_virtual_boards import CALLER, DISPENSER, EVALUATOR

HALL = "district-1"
HALLCTL = str(Path(sys.executable).parent / "hallctl")


def hall_file(where):
    path = Path(where) / "hall.json"
    path.write_text(json.dumps({"hall": HALL, "devices": [DISPENSER, CALLER, EVALUATOR]}))
    return path


def broker_config(*args):
    return subprocess.run([HALLCTL, "broker-config", *map(str, args)], capture_output=True,
                          text=True)


def snapshot(root):
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink()
                                       else os.readlink(p) if p.is_symlink() else None,
                                       p.stat().st_mode if not p.is_symlink() else None)
            for p in sorted(Path(root).rglob("*"))}


def one_line(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_run_again_it_keeps_every_password_and_rotates_only_what_is_named(tmp_path):
    hall = hall_file(tmp_path)
    out = tmp_path / "broker"
    assert broker_config(hall, "--out", out).returncode == 0
    first = json.loads((out / "credentials.json").read_text())
    again = broker_config(hall, "--out", out)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "credentials.json").read_text()) == first     # nobody locked out
    rotated = broker_config(hall, "--out", out, "--rotate", "caller-1")
    assert rotated.returncode == 0 and "new passwords for caller-1" in rotated.stdout
    now = json.loads((out / "credentials.json").read_text())
    assert now["caller-1"] != first["caller-1"]
    assert {k: v for k, v in now.items() if k != "caller-1"} == \
        {k: v for k, v in first.items() if k != "caller-1"}
    assert not any(p in rotated.stdout + rotated.stderr for p in now.values())
    before = snapshot(tmp_path)
    one_line(broker_config(hall, "--out", out, "--rotate", "nobody"), "--rotate", "nobody")
    assert snapshot(tmp_path) == before
    for name in ("passwd", "acl", "credentials.json"):
        assert oct((out / name).stat().st_mode)[-3:] == "600", name


def test_it_never_follows_a_planted_link(tmp_path):
    hall = hall_file(tmp_path)
    victim = tmp_path / "someone-elses-file"
    victim.write_text("theirs\n")
    for planted in ("credentials.json", "passwd", "acl", "mosquitto.conf"):
        out = tmp_path / ("prepared-" + planted)
        out.mkdir()
        (out / planted).symlink_to(victim)
        before = snapshot(tmp_path)
        one_line(broker_config(hall, "--out", out), planted, "symbolic link")
        assert snapshot(tmp_path) == before and victim.read_text() == "theirs\n"
    link = tmp_path / "link-to-dir"
    link.symlink_to(tmp_path / "prepared-passwd")
    one_line(broker_config(hall, "--out", link), "symbolic link")


def test_it_writes_no_secret_where_others_may_write(tmp_path):
    hall = hall_file(tmp_path)
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o777)
    before = snapshot(tmp_path)
    one_line(broker_config(hall, "--out", out), str(out), "others may write")
    assert snapshot(tmp_path) == before


def test_it_never_overwrites_its_input_nor_writes_on_failure(tmp_path):
    out = tmp_path / "broker"
    out.mkdir()
    hall = out / "acl"                                  # the hall file where the ACL would go
    hall.write_text(json.dumps({"hall": HALL, "devices": [DISPENSER, CALLER]}))
    before = snapshot(tmp_path)
    one_line(broker_config(hall, "--out", out), "acl", "input")
    assert snapshot(tmp_path) == before
    good = hall_file(tmp_path)
    (out / "credentials.json").write_text("{not json")    # damaged: its passwords cannot be kept
    hall.unlink()
    before = snapshot(tmp_path)
    one_line(broker_config(good, "--out", out), "credentials.json", "not valid JSON")
    assert snapshot(tmp_path) == before
    for shape in ('["hub"]', '{"hub": 5}', '{"hub": ""}'):
        (out / "credentials.json").write_text(shape)
        before = snapshot(tmp_path)
        one_line(broker_config(good, "--out", out), "credentials.json", "account: password")
        assert snapshot(tmp_path) == before


def test_it_writes_its_own_files_and_touches_nothing_else(tmp_path):
    hall = hall_file(tmp_path)
    out = tmp_path / "etc-qms"
    out.mkdir()
    (out / "README.local").write_text("the site's notes\n")
    (tmp_path / "other.conf").write_text("listener 8883\n")
    before = snapshot(tmp_path)
    proc = broker_config(hall, "--out", out, "--central", "centre.example:1883")
    assert proc.returncode == 0, proc.stderr
    after = snapshot(tmp_path)
    made = {"etc-qms/" + n for n in ("passwd", "acl", "mosquitto.conf", "credentials.json",
                                     "bridge.conf")}
    assert set(after) - set(before) == made                 # nothing else, no temporaries
    assert {k: v for k, v in after.items() if k not in made} == before


def test_a_file_instead_of_a_directory_is_one_line(tmp_path):
    hall = hall_file(tmp_path)
    one_line(broker_config(hall, "--out", hall), str(hall))
    one_line(broker_config(hall, "--out", hall / "under"), str(hall))
    for bad in ("http", "1883x", "host:0", "host:70000"):
        one_line(broker_config(hall, "--out", tmp_path / "b", "--listen", bad), "--listen")
    assert not (tmp_path / "b").exists()


# ---- the broker it sets up ---------------------------------------------------------------

@pytest.fixture
def debian_broker():
    """Mosquitto started as Debian's service starts it: `mosquitto -c CONF` as root, with no
    `user` line, so it drops to the mosquitto user, including broker-config's file."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed (.ci/run and make install it)")
    # (a place the mosquitto user can reach: pytest's own tmp_path is root's alone)
    work = Path(tempfile.mkdtemp(prefix="qms-broker-", dir="/var/tmp"))
    work.chmod(0o755)
    hall = hall_file(work)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = broker_config(hall, "--out", work / "qms", "--listen", "127.0.0.1:%d" % port)
    assert proc.returncode == 0, proc.stderr
    main = work / "mosquitto.conf"          # Debian's, in short: no listener of its own
    main.write_text("persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n"
                    "log_type notice\ninclude_dir %s\n" % (work / "qms-conf.d"))
    (work / "qms-conf.d").mkdir()
    shutil.copy(work / "qms" / "mosquitto.conf", work / "qms-conf.d" / "qms.conf")
    broker = subprocess.Popen([MOSQUITTO, "-c", str(main)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    up = listening(port, 10)
    creds = json.loads((work / "qms" / "credentials.json").read_text())
    try:
        yield broker, up, port, creds
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def connect(port, user, password, client_id=None, subscribe=()):
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id or user)
    c.username_pw_set(user, password)
    state = {"rc": [], "got": [], "dropped": 0}
    c.on_connect = lambda cl, u, f, reason, p=None: state["rc"].append(reason.is_failure)

    def dropped(cl, u, flags, reason, p=None):
        state["dropped"] += 1
    c.on_disconnect = dropped
    c.on_message = lambda cl, u, m: state["got"].append(m.topic)
    c.connect("127.0.0.1", port)
    for name in subscribe:
        c.subscribe(name, qos=1)
    c.loop_start()
    deadline = time.monotonic() + 5
    while not state["rc"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return c, state


def test_the_broker_starts_as_debian_starts_it_and_holds(debian_broker):
    broker, up, port, creds = debian_broker
    if not up:
        broker.terminate()
        pytest.fail("mosquitto did not start:\n" + broker.communicate(timeout=10)[0])
    hub, hub_state = connect(port, "hub", creds["hub"], "hub-" + HALL,
                             ["qms/%s/+/up/#" % HALL])
    assert hub_state["rc"] == [False]
    # a device taking the hub's client id, again and again, connects as itself
    for _ in range(3):
        thief, thief_state = connect(port, "caller-1", creds["caller-1"], "hub-" + HALL)
        assert thief_state["rc"] == [False]
        thief.publish("qms/%s/caller-1/up/status" % HALL, b"{}", qos=1).wait_for_publish(5)
        time.sleep(0.2)
        thief.loop_stop()
        thief.disconnect()
    assert hub_state["dropped"] == 0                   # the hub was never knocked off
    assert hub_state["got"].count("qms/%s/caller-1/up/status" % HALL) == 3
    # the operator reads the hall's status and publishes nothing
    op, op_state = connect(port, "operator", creds["operator"], None, ["qms/%s/+/status" % HALL])
    assert op_state["rc"] == [False]
    for topic in ("qms/%s/operator/up/call_next" % HALL, "qms/%s/operator/status" % HALL,
                  "qms/%s/caller-1/down/window_state" % HALL):
        op.publish(topic, b"{}", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert not [t for t in hub_state["got"] if "operator" in t]
    for c in (hub, op):
        c.loop_stop()
        c.disconnect()
    broker.terminate()
    log = broker.communicate(timeout=10)[0]
    assert "Warning" not in log and "Error" not in log, log
