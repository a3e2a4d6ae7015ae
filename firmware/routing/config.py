# Hall configuration for the routing core: services, windows and the hall's rules, validated
# once when built (a bad key is named with the reason) and kept compact for a small heap.
# Times of day are "HH:MM" in the hall's local time; durations are seconds unless named _min.
from array import array
from protocol.compat import const


class ConfigError(Exception):
    # A configuration the core cannot run with; the message names the key and the reason.
    pass


DEFAULT_RULES = {
    "tz_offset_min": 480,          # the hall's offset from UTC (China: +8 h)
    "recall_timeout_s": 60,        # a called ticket not started is recalled after this
    "recall_limit": 2,             # recalls before the ticket becomes a no-show
    "rating_window_s": 120,        # a rating counts only this long after finish
    "rating_levels": 5,            # 5 (非常满意..非常不满意) or 4
    "reason_required_from": 4,     # a rating of this level or worse needs a reason code
    "idle_alert_s": 120,           # an open window idle this long while people wait: alert
    "waiting_per_window_alert": 8, # people waiting per open window over this: open another
    "appointment_early_min": 30,   # check-in allowed this early before the slot
    "appointment_late_min": 15,    # and this late after it; later check-ins become walk-ins
    "appointment_grace_min": 5,    # an appointment is due this long before its slot
    "closing_time": "17:00",       # windows that stop calling before this with people waiting are recorded
}


HALL_KEYS = ("hall", "services", "windows", "rules", "staff")
SERVICE_KEYS = ("prefix", "name", "open", "last_ticket", "close", "quota", "service_min",
                "limit_min", "max_wait_min", "materials")
WINDOW_KEYS = ("number", "services", "backup", "evaluator")


def _err(where, key, reason):
    return ConfigError("%s%s: %s" % (where, key, reason))


def _int(where, key, value, lo, hi):
    if type(value) is not int or value < lo or value > hi:
        raise _err(where, key, "expected a whole number %d..%d, got %r" % (lo, hi, value))
    return value


def _clock(where, key, value):
    # "HH:MM" -> seconds since local midnight.
    ok = type(value) is str and len(value) == 5 and value[2] == ":"
    if ok:
        try:
            hours, minutes = int(value[:2]), int(value[3:])
        except ValueError:
            ok = False
    if not ok or not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        raise _err(where, key, "expected a time of day HH:MM, got %r" % (value,))
    return (hours * 60 + minutes) * 60


_ONES = {}  # type: dict


def _weights(weights):
    # Unweighted windows (the usual case) share one all-ones bytes object per length.
    if all(w == 1 for w in weights):
        ones = _ONES.get(len(weights))
        if ones is None:
            ones = _ONES[len(weights)] = bytes(weights)
        return ones
    return bytes(weights)


# The fields of a service tuple (HallConfig.services[k][S_...]).
S_PREFIX = const(0)
S_NAME = const(1)
S_OPEN = const(2)           # seconds since local midnight
S_LAST = const(3)           # the last ticket
S_CLOSE = const(4)
S_QUOTA = const(5)          # tickets a day
S_MEAN = const(6)           # the expected service time, seconds
S_LIMIT = const(7)          # over this long at the window: an alert
S_MAX_WAIT = const(8)       # the longest wait the hall promises
S_MATERIALS = const(9)


class HallConfig:
    # services: list of tuples (prefix, name, open_s, last_ticket_s, close_s, quota,
    #           service_s, limit_s, max_wait_s, materials), fields S_* above
    # windows: number -> index; per index: services (bytes of service indexes), weights (bytes),
    #          backup window index or 0xFF, evaluator device or None
    def __init__(self, doc, source="config"):
        if not isinstance(doc, dict):
            raise ConfigError("%s: expected a table of settings" % source)
        unknown = [k for k in doc if k not in HALL_KEYS]
        if unknown:
            raise ConfigError("%s: %s: unknown key" % (source, unknown[0]))
        self.hall = doc.get("hall", "hall")
        rules = dict(DEFAULT_RULES)
        given = doc.get("rules", {})
        if not isinstance(given, dict):
            raise ConfigError("%s: rules: expected a table" % source)
        for key in given:
            if key not in DEFAULT_RULES:
                raise ConfigError("%s: rules.%s: unknown rule" % (source, key))
            rules[key] = given[key]
        where = source + ": rules."
        self.tz_offset_s = _int(where, "tz_offset_min", rules["tz_offset_min"], -720, 840) * 60
        self.recall_timeout_s = _int(where, "recall_timeout_s", rules["recall_timeout_s"], 5, 3600)
        self.recall_limit = _int(where, "recall_limit", rules["recall_limit"], 0, 10)
        self.rating_window_s = _int(where, "rating_window_s", rules["rating_window_s"], 5, 3600)
        self.rating_levels = _int(where, "rating_levels", rules["rating_levels"], 4, 5)
        self.reason_required_from = _int(where, "reason_required_from",
                                         rules["reason_required_from"], 2, 5)
        self.idle_alert_s = _int(where, "idle_alert_s", rules["idle_alert_s"], 10, 7200)
        self.waiting_per_window_alert = _int(where, "waiting_per_window_alert",
                                             rules["waiting_per_window_alert"], 1, 1000)
        self.appointment_early_s = _int(where, "appointment_early_min",
                                        rules["appointment_early_min"], 0, 600) * 60
        self.appointment_late_s = _int(where, "appointment_late_min",
                                       rules["appointment_late_min"], 0, 600) * 60
        self.appointment_grace_s = _int(where, "appointment_grace_min",
                                        rules["appointment_grace_min"], 0, 120) * 60
        self.closing_s = _clock(where, "closing_time", rules["closing_time"])

        services = doc.get("services")
        if not isinstance(services, list) or not services or len(services) > 64:
            raise ConfigError("%s: services: expected a list of 1..64 services" % source)
        self.services = []
        for k, svc in enumerate(services):
            self.services.append(self._service("%s: services[%d]." % (source, k), svc))
        windows = doc.get("windows")
        if not isinstance(windows, list) or not windows or len(windows) > 250:
            raise ConfigError("%s: windows: expected a list of 1..250 windows" % source)
        self._index = bytearray(256)      # window number -> index + 1 (a dict costs ~2 KB more)
        self.numbers = array("B")
        self.window_services = []
        self.window_weights = []
        self.backup = array("B")
        self.evaluator = []
        backups = []
        for k, win in enumerate(windows):
            self._window("%s: windows[%d]." % (source, k), win, backups)
        for k, (where, backup) in enumerate(backups):
            if backup is None:
                self.backup.append(0xFF)
            elif self.window(backup) < 0 or backup == self.numbers[k]:
                raise _err(where, "backup", "no other window %r" % (backup,))
            else:
                self.backup.append(self.window(backup))
        staff = doc.get("staff", {})
        if not isinstance(staff, dict):
            raise ConfigError("%s: staff: expected a table of id = name" % source)
        self.staff = {}
        for sid in staff:
            if type(sid) is not str or type(staff[sid]) is not str or not sid:
                raise ConfigError("%s: staff.%s: expected a name" % (source, sid))
            self.staff[sid] = staff[sid]

    def _service(self, where, svc):
        if not isinstance(svc, dict):
            raise ConfigError(where[:-1] + ": expected a table")
        for key in svc:
            if key not in SERVICE_KEYS:
                raise _err(where, key, "unknown key")
        prefix = svc.get("prefix")
        if type(prefix) is not str or not 1 <= len(prefix) <= 2 or \
                any(not "A" <= ch <= "Z" for ch in prefix):
            raise _err(where, "prefix", "expected one or two capital letters, got %r" % (prefix,))
        if self.service(prefix) >= 0:
            raise _err(where, "prefix", "%s is used by another service" % prefix)
        name = svc.get("name", prefix)
        if type(name) is not str:
            raise _err(where, "name", "expected text")
        open_s = _clock(where, "open", svc.get("open", "08:30"))
        close_s = _clock(where, "close", svc.get("close", "17:00"))
        last_s = _clock(where, "last_ticket", svc.get("last_ticket", svc.get("close", "17:00")))
        if not open_s < close_s or not open_s <= last_s <= close_s:
            raise _err(where, "open", "needs open <= last_ticket <= close and open < close")
        quota = _int(where, "quota", svc.get("quota", 9999), 1, 9999)
        service_s = _int(where, "service_min", svc.get("service_min", 10), 1, 600) * 60
        limit_s = _int(where, "limit_min", svc.get("limit_min", 30), 1, 1440) * 60
        max_wait_s = _int(where, "max_wait_min", svc.get("max_wait_min", 30), 1, 1440) * 60
        materials = svc.get("materials", [])
        if not isinstance(materials, list) or any(type(m) is not str for m in materials):
            raise _err(where, "materials", "expected a list of texts")
        return (prefix, name, open_s, last_s, close_s, quota, service_s, limit_s, max_wait_s,
                tuple(materials))

    def _window(self, where, win, backups):
        if not isinstance(win, dict):
            raise ConfigError(where[:-1] + ": expected a table")
        for key in win:
            if key not in WINDOW_KEYS:
                raise _err(where, key, "unknown key")
        number = _int(where, "number", win.get("number"), 1, 250)
        if self._index[number]:
            raise _err(where, "number", "window %d appears twice" % number)
        services = win.get("services")
        if not isinstance(services, list) or not services:
            raise _err(where, "services", "expected a list of service prefixes")
        indexes = []                      # a list: MicroPython has no `int in bytearray`
        weights = []
        for entry in services:
            prefix, weight = (entry, 1) if type(entry) is str else (entry[0], entry[1]) \
                if isinstance(entry, list) and len(entry) == 2 else (None, None)
            if self.service(prefix) < 0:
                raise _err(where, "services", "no service %r" % (entry,))
            if self.service(prefix) in indexes:
                raise _err(where, "services", "%s listed twice" % prefix)
            indexes.append(self.service(prefix))
            weights.append(_int(where, "services weight", weight, 1, 100))
        evaluator = win.get("evaluator")
        if evaluator is not None and type(evaluator) is not str:
            raise _err(where, "evaluator", "expected a device id")
        self._index[number] = len(self.numbers) + 1
        self.numbers.append(number)
        self.window_services.append(bytes(indexes))
        self.window_weights.append(_weights(weights))
        self.evaluator.append(evaluator)
        backups.append((where, win.get("backup")))

    def service(self, prefix):
        # The index of the service with this prefix, or -1 (a scan: cheaper than a dict's KB).
        for k in range(len(self.services)):
            if self.services[k][S_PREFIX] == prefix:
                return k
        return -1

    def window(self, number):
        # The index of window `number`, or -1.
        if type(number) is not int or not 0 <= number < 256:
            return -1
        return self._index[number] - 1

    def service_count(self):
        return len(self.services)

    def window_count(self):
        return len(self.numbers)
