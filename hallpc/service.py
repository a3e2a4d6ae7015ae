"""The hub as a service on the hall PC (hallctl hub): the same hub as an ESP32's, its journal and
day archive in a data directory, on the bus through a USB-RS485 adapter or on the hall's MQTT
broker. It recovers from its journal at start, logs one line per notable event to stderr (for
journald), keeps the hall's status in DATA/status.json (hallctl status --data) and, on MQTT,
retained on the broker, and on SIGTERM or SIGINT stops between two passes: every operation is
already synced to the journal, the status says it stopped, and on MQTT it leaves an orderly
offline status.

    service = HubService(hall, devices, data, log)      # the journal replayed, the lock held
    service.serve(SerialHub(...) or MqttHub(...), stop=lambda: stopping)
"""
import fcntl
import json
import os
import time

from firmware.hubrun import open_core
from protocol.codenames import ALERT_KINDS, REFUSE_REASONS

STATUS_FILE = "status.json"
LOCK_FILE = "hub.lock"
OURS = ("journal.bin", "journal.bin.prev", "journal.bin.new", "days.bin", "days.bin.prev",
        "days.bin.new", STATUS_FILE, STATUS_FILE + ".new", LOCK_FILE)


class DataError(Exception):
    """The data directory cannot be used (held by another hub, not writable)."""


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("hallqms")
    except PackageNotFoundError:
        return "dev"


class HubService:
    STATUS_EVERY_S = 5

    def __init__(self, hall, devices, data, log, utc=None, keep=10000):
        # hall: a HallConfig; devices: the hall's device configs (no hub, no secrets); data: the
        # data directory (made by the caller); log: callable(line).
        self.hall = hall
        self.data = str(data).rstrip("/") + "/"
        self.log = log
        self.lock = self._lock()
        self.core = open_core(hall, self.data, utc if utc is not None else int(time.time()),
                              keep)
        damage = self.core.damage()
        if damage["lost"] or damage["from_previous"]:
            log("journal: %d records could not be read (%d bytes in %d places); the hub goes "
                "on from what it could read, the damaged file set aside beside it"
                % (damage["lost"], damage["bytes"], damage["regions"]))
        self.devices = devices
        self.started = time.monotonic()
        self.online = {}
        self.next_status = 0.0
        self.fw = _version()

    def _lock(self):
        # One hub per data directory: a second would interleave its journal with ours.
        path = self.data + LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DataError("%s: cannot open: %s" % (path, exc.strerror)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DataError("%s: another hub is running on this data directory"
                            % self.data.rstrip("/")) from None
        os.ftruncate(fd, 0)
        os.write(fd, b"%d\n" % os.getpid())
        return fd

    def watch(self, role):
        # The lines journald keeps: alerts as the hall's displays get them, refused tickets,
        # devices coming and going (watch_devices), faults the hub caught (role.log).
        role.log = self.log
        def observe(now, outputs):
            for o in outputs:
                if o[0] == "refused":
                    self.log("refused: a ticket for %s (%s)" % (o[1], _name(REFUSE_REASONS, o[2])))
        role.observe = observe

        def alert(kind, window, subject, value):
            self.log("alert: %s%s%s%s" % (
                _name(ALERT_KINDS, kind), " at window %d" % window if window else "",
                " (%s)" % subject if subject else "", ", value %d" % value if value else ""))
        role.on_alert = alert
        for dev in role.devices.values():
            self.online[dev.id] = dev.online

    def watch_devices(self, role):
        for dev in role.devices.values():
            if dev.online != self.online.get(dev.id):
                self.online[dev.id] = dev.online
                self.log("device %s (%s%s) %s" % (dev.id, dev.role, " at window %d" % dev.window
                                                  if dev.window else "",
                                                  "online" if dev.online else "offline"))

    def hub_info(self, stopped=False):
        info = {"id": "hub", "fw": self.fw, "uptime": int(time.monotonic() - self.started),
                "pid": os.getpid()}
        if stopped:
            info["stopped"] = True
        return info

    def write_status(self, role, utc, stopped=False):
        # DATA/status.json, replaced whole: hallctl status --data reads the hall from it.
        doc = role.hall_status(utc, self.hub_info(stopped))
        tmp = self.data + STATUS_FILE + ".new"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.data + STATUS_FILE)

    def serve(self, hub, stop, idle_s=0.0005):
        """Run the hub's passes until stop() is true. hub: a hallpc SerialHub or MqttHub
        (pump(), now(), role)."""
        role = hub.role
        self.watch(role)
        self.log("hub: hall %s, %d devices, %d waiting, journal %s" % (
            self.hall.hall, len(self.devices), sum(role.core.waiting(k) for k in
                                                   range(self.hall.service_count())),
            self.data + "journal.bin"))
        last = -1
        while not stop():
            hub.pump()
            utc = hub.now()[-1]
            if utc != last:
                last = utc
                self.watch_devices(role)
            if time.monotonic() >= self.next_status:
                self.next_status = time.monotonic() + self.STATUS_EVERY_S
                self.write_status(role, utc)
            if idle_s:
                time.sleep(idle_s)
        self.write_status(role, hub.now()[-1], stopped=True)

    def close(self):
        self.core.storage.close()
        os.close(self.lock)


def _name(table, code):
    return table[code] if 0 <= code < len(table) and table[code] else str(code)
