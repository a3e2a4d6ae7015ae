"""Scenario files (TOML) for the simulated hall, validated when loaded: a bad one is refused
with the file, the key and the reason. The format is documented in host_sim/SCENARIOS.md."""
import calendar
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from firmware.routing.config import ConfigError, HallConfig, S_PREFIX, S_MEAN
from hallpc import keys

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
DEFAULT = SCENARIOS / "district.toml"
KNOWN = ("scenario", "hall", "arrivals", "service_times", "roster", "patience", "ratings",
         "faults", "bus", "mqtt", "people")
WALK_S = (10, 30)                   # [people] defaults, seconds (the same at every level)
REACT_S = (1, 4)
FAULTS = ("hub_restarts", "print_failures", "frame_corruption", "frame_loss", "device_reboots",
          "broker_restarts")
SECTION_KEYS = {"scenario": ("name", "date", "start", "end", "seed"),
                "roster": ("window", "staff", "from", "to", "breaks"),
                "ratings": ("share", "levels"),
                "patience": ("mean_min",),
                "people": ("walk_s", "react_s"),
                "faults": FAULTS}
SERVICE_TIME_KEYS = ("mean_min", "cv")


class ScenarioError(Exception):
    pass


@dataclass
class Shift:
    window: int
    staff: str
    start: int                      # seconds since local midnight
    end: int
    breaks: list = field(default_factory=list)      # [(start, end)]


@dataclass
class Scenario:
    name: str
    source: str
    hall: HallConfig
    midnight: int                   # UTC seconds of the simulated day's local midnight
    start: int
    end: int
    seed: int
    arrivals: dict                  # prefix -> [(from seconds, per hour)]
    priority_share: float
    service_times: dict             # prefix -> (mean seconds, cv)
    roster: list
    patience_s: float | None
    rating_share: float
    rating_weights: list
    hub_restarts: int = 0           # hub power losses at random moments (recovered from the journal)
    print_failures: float = 0.0     # share of tickets the printer fails on (voided, taken again)
    frame_corruption: float = 0.0   # share of frames with a flipped bit on the line
    frame_loss: float = 0.0         # share of frames lost on the line
    device_reboots: int = 0         # devices that restart at random moments
    bus: dict = field(default_factory=dict)   # baud, reply_ms, dispensers, displays
    mqtt: dict | None = None        # latency_ms, jitter_ms: the devices are on MQTT, not the bus
    broker_restarts: int = 0        # the broker restarts (10 s without it) at random moments
    walk_s: tuple = WALK_S          # a called citizen's walk to the window: uniform (low, high)
    react_s: tuple = REACT_S        # staff noticing their board: uniform (low, high)

    def at(self, seconds):
        return self.midnight + seconds


def _clock(where, value):
    if not (isinstance(value, str) and len(value) == 5 and value[2] == ":"
            and value[:2].isdigit() and value[3:].isdigit()
            and int(value[:2]) <= 24 and int(value[3:]) < 60):
        raise ScenarioError("%s: expected a time of day HH:MM, got %r" % (where, value))
    return int(value[:2]) * 3600 + int(value[3:]) * 60


def _number(where, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ScenarioError("%s: expected a number %s..%s, got %r" % (where, lo, hi, value))
    return value


def hhmm(seconds):
    """A time of day, HH:MM, from seconds since midnight."""
    return "%02d:%02d" % (seconds // 3600, seconds // 60 % 60)


def load(path=None, seed=None):
    path = Path(path) if path is not None else DEFAULT
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError("%s: cannot read (%s)" % (path, exc.strerror)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError("%s: not UTF-8 text (byte %d); save the scenario as UTF-8"
                            % (path, exc.start)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("%s: not valid TOML (%s)" % (path, exc)) from None
    return parse(doc, str(path), seed)


def parse(doc, source="scenario.toml", seed=None):
    def where(key):
        return "%s: %s" % (source, key)

    def check_keys(name, table, known):
        if not isinstance(table, dict):
            raise ScenarioError("%s: expected a table" % where(name))
        found = keys.first_unknown(table, known)
        if found:
            raise ScenarioError("%s: %s" % (where("%s.%s" % (name, found[0])), found[1]))

    found = keys.first_unknown(doc, KNOWN, what="section")
    if found:
        raise ScenarioError("%s: %s" % (where(found[0]), found[1]))
    for section, known in SECTION_KEYS.items():
        if section == "roster":
            shifts = doc.get("roster", [])
            if not isinstance(shifts, list):
                raise ScenarioError("%s: expected [[roster]] shifts" % where("roster"))
            for k, shift in enumerate(shifts):
                check_keys("roster[%d]" % k, shift, known)
        elif section in doc:
            check_keys(section, doc[section], known)
    for prefix, spec in doc.get("service_times", {}).items():
        if isinstance(spec, dict):
            check_keys("service_times." + prefix, spec, SERVICE_TIME_KEYS)
    found = keys.routing(doc.get("hall"))
    if found:
        raise ScenarioError("%s: %s" % (where("hall." + found[0]), found[1]))
    meta = doc.get("scenario", {})
    name = meta.get("name", Path(source).stem)
    date = meta.get("date", "2026-11-23")
    try:
        year, month, day = (int(p) for p in date.split("-"))
        local_midnight = calendar.timegm((year, month, day, 0, 0, 0))
    except (ValueError, AttributeError):
        raise ScenarioError("%s: expected YYYY-MM-DD, got %r" % (where("scenario.date"), date)) from None
    try:
        hall = HallConfig(doc.get("hall"), source + ": hall")
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from None
    midnight = local_midnight - hall.tz_offset_s
    start = _clock(where("scenario.start"), meta.get("start", "08:00"))
    end = _clock(where("scenario.end"), meta.get("end", "18:00"))
    if end <= start:
        raise ScenarioError("%s: the day must end after it starts" % where("scenario.end"))
    prefixes = [s[S_PREFIX] for s in hall.services]

    arrivals = {}
    priority_share = 0.0
    for key, value in doc.get("arrivals", {}).items():
        if key == "priority_share":
            priority_share = _number(where("arrivals.priority_share"), value, 0, 1)
            continue
        if key not in prefixes:
            raise ScenarioError("%s: no service %s in the hall" % (where("arrivals." + key), key))
        if not isinstance(value, list) or not value:
            raise ScenarioError("%s: expected [[\"HH:MM\", people an hour], ...]" % where("arrivals." + key))
        steps = []
        for k, step in enumerate(value):
            w = where("arrivals.%s[%d]" % (key, k))
            if not isinstance(step, list) or len(step) != 2:
                raise ScenarioError("%s: expected [\"HH:MM\", people an hour]" % w)
            steps.append((_clock(w, step[0]), _number(w, step[1], 0, 10000)))
        if [s[0] for s in steps] != sorted(s[0] for s in steps):
            raise ScenarioError("%s: times must increase" % where("arrivals." + key))
        arrivals[key] = steps
    if not arrivals:
        raise ScenarioError("%s: at least one service needs arrivals" % where("arrivals"))

    service_times = {}
    for prefix in prefixes:
        spec = doc.get("service_times", {}).get(prefix)
        default_mean = hall.services[prefixes.index(prefix)][S_MEAN]
        if spec is None:
            service_times[prefix] = (default_mean, 1.0)
            continue
        w = where("service_times." + prefix)
        if not isinstance(spec, dict):
            raise ScenarioError("%s: expected {mean_min = M, cv = C}" % w)
        mean = _number(w + ".mean_min", spec.get("mean_min", default_mean / 60), 0.1, 600) * 60
        service_times[prefix] = (mean, _number(w + ".cv", spec.get("cv", 1.0), 0.05, 3))
    for key in doc.get("service_times", {}):
        if key not in prefixes:
            raise ScenarioError("%s: no service %s in the hall" % (where("service_times." + key), key))

    roster = []
    for k, shift in enumerate(doc.get("roster", [])):
        w = "roster[%d]" % k
        number = shift.get("window")
        if hall.window(number) < 0:
            raise ScenarioError("%s: no window %r in the hall" % (where(w + ".window"), number))
        staff = shift.get("staff")
        if staff not in hall.staff:
            raise ScenarioError("%s: no staff %r in hall.staff" % (where(w + ".staff"), staff))
        s_from = _clock(where(w + ".from"), shift.get("from", "08:30"))
        s_to = _clock(where(w + ".to"), shift.get("to", "17:00"))
        if s_to <= s_from:
            raise ScenarioError("%s: the shift must end after it starts (%s to %s)" % (
                where(w + ".to"), hhmm(s_from), hhmm(s_to)))
        for k2, other in enumerate(roster):
            if other.start < s_to and s_from < other.end and \
                    (other.window == number or other.staff == staff):
                raise ScenarioError("%s: overlaps roster[%d] (%s at window %d, %s to %s)" % (
                    where(w), k2, other.staff, other.window, hhmm(other.start),
                    hhmm(other.end)))
        breaks = []
        for b, pair in enumerate(shift.get("breaks", [])):
            bw = where("%s.breaks[%d]" % (w, b))
            if not isinstance(pair, list) or len(pair) != 2:
                raise ScenarioError("%s: expected [\"HH:MM\", \"HH:MM\"]" % bw)
            b_from, b_to = _clock(bw, pair[0]), _clock(bw, pair[1])
            if not s_from <= b_from < b_to <= s_to:
                raise ScenarioError("%s: a break must lie inside the shift" % bw)
            breaks.append((b_from, b_to))
        roster.append(Shift(number, staff, s_from, s_to, breaks))
    if not roster:
        raise ScenarioError("%s: nobody works: add [[roster]] shifts" % where("roster"))

    patience = doc.get("patience", {})
    patience_s = None
    if "mean_min" in patience:
        patience_s = _number(where("patience.mean_min"), patience["mean_min"], 1, 1440) * 60
    ratings = doc.get("ratings", {})
    share = _number(where("ratings.share"), ratings.get("share", 0.8), 0, 1)
    weights = ratings.get("levels", [70, 20, 6, 3, 1][:hall.rating_levels])
    if not isinstance(weights, list) or len(weights) != hall.rating_levels or \
            any(isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0 for x in weights) \
            or not sum(weights) > 0:
        raise ScenarioError("%s: expected %d weights, one per level, not all zero" % (
            where("ratings.levels"), hall.rating_levels))
    people = doc.get("people", {})
    walk = _span(where("people.walk_s"), people.get("walk_s", list(WALK_S)), 600)
    react = _span(where("people.react_s"), people.get("react_s", list(REACT_S)), 120)
    faults = doc.get("faults", {})
    counts = {}
    for key in ("hub_restarts", "device_reboots", "broker_restarts"):
        counts[key] = _number(where("faults." + key), faults.get(key, 0), 0, 1000)
        if int(counts[key]) != counts[key]:
            raise ScenarioError("%s: expected a whole number" % where("faults." + key))
    failures = _number(where("faults.print_failures"), faults.get("print_failures", 0), 0, 0.5)
    corruption = _number(where("faults.frame_corruption"), faults.get("frame_corruption", 0), 0, 0.5)
    loss = _number(where("faults.frame_loss"), faults.get("frame_loss", 0), 0, 0.5)
    bus_doc = doc.get("bus", {})
    bus = {}
    limits = {"baud": (1200, 4000000), "reply_ms": (0.5, 100), "dispensers": (1, 16),
              "displays": (0, 16)}
    check_keys("bus", bus_doc, tuple(limits))
    for key in bus_doc:
        bus[key] = _number(where("bus." + key), bus_doc[key], *limits[key])
    mqtt = None
    if "mqtt" in doc:
        mqtt = {"latency_ms": 2.0, "jitter_ms": 1.0}
        check_keys("mqtt", doc["mqtt"], tuple(mqtt))
        for key in doc["mqtt"]:
            mqtt[key] = _number(where("mqtt." + key), doc["mqtt"][key], 0, 10000)
    elif counts["broker_restarts"]:
        raise ScenarioError("%s: needs an [mqtt] hall" % where("faults.broker_restarts"))
    if len(hall.numbers) > 96:
        raise ScenarioError("%s: at most 96 windows share one bus (a caller and an evaluator "
                            "each)" % where("hall.windows"))
    if seed is None:
        seed = meta.get("seed", 1)
        if type(seed) is not int or seed < 0:
            raise ScenarioError("%s: expected a whole number 0 or more, got %r"
                                % (where("scenario.seed"), seed))
    return Scenario(name, source, hall, midnight, start, end, seed, arrivals,
                    priority_share, service_times, roster, patience_s, share, weights,
                    int(counts["hub_restarts"]), failures, corruption, loss,
                    int(counts["device_reboots"]), bus, mqtt, int(counts["broker_restarts"]),
                    walk, react)


def _span(where, value, top):
    # [low, high] seconds, 0 <= low <= high <= top (a uniform draw; [0, 0] for none).
    if not isinstance(value, list) or len(value) != 2 or any(
            isinstance(x, bool) or not isinstance(x, (int, float)) for x in value) or \
            not 0 <= value[0] <= value[1] <= top:
        raise ScenarioError("%s: expected [low, high] seconds, 0 <= low <= high <= %d, got %r"
                            % (where, top, value))
    return (value[0], value[1])


def draw(rng, span):
    # A draw from a [people] span (no draw, and no random number used, for [0, 0]).
    return rng.uniform(*span) if span[1] > 0 else 0
