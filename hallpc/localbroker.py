"""A Mosquitto of our own on a free loopback port, for tests and benchmarks (and a technician
trying a hall on a laptop): started with a generated configuration, stopped and started again
on the same port to play a broker restart."""
import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def listening(port, seconds):
    # Whether something accepts connections on this loopback port within that long.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class LocalBroker:
    def __init__(self, workdir, extra=None, persist=False, port=None):
        # extra: configuration lines (hallctl broker-config's); anonymous clients otherwise.
        # persist: keep sessions and queued messages across a restart (on disk in workdir).
        if not Path(MOSQUITTO).exists():
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.conf = Path(workdir) / "mosquitto.conf"
        # (as root, Mosquitto would drop to its own user, who cannot read 0600 files)
        store = ("persistence true\npersistence_location %s/\nautosave_interval 1\n"
                 % Path(workdir).resolve()) if persist else "persistence false\n"
        # extra with its own listener (broker-config --listen 127.0.0.1:PORT) names the port
        own = "" if "\nlistener " in "\n" + (extra or "") else \
            "listener %d 127.0.0.1\n" % self.port
        self.conf.write_text("%s%suser %s\n"
                             "max_queued_messages 100000\nset_tcp_nodelay true\n%s\n"
                             % (own, store, getpass.getuser(), extra or "allow_anonymous true"))
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not listening(self.port, 10):
            raise RuntimeError("mosquitto did not start on port %d" % self.port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
