"""Nothing outside the routing core reads its internals: the hub, the hall PC, the tools and
the simulators use its operations, its outputs and its views (firmware/routing/core.py)."""
import re

from conftest import ROOT
from firmware.routing.core import RoutingCore
from hall import at, config

PUBLIC = {"out", "cfg", "storage", "on_day_closed", "compact_every", "replay_skipped"}
OUTSIDE = ("firmware", "protocol", "hallpc", "host_sim", "tools")


def internals():
    core = RoutingCore(config(), now=at("09:00"))
    return sorted(set(vars(core)) - PUBLIC)


def readers(text, names):
    pattern = re.compile(r"\bcore\.(%s)\b" % "|".join(names))
    return [m.group(0) for m in pattern.finditer(text)]


def test_the_core_has_internals_and_nobody_outside_reads_them():
    names = internals()
    assert {"state", "phase", "staff", "stats", "queues", "estimator", "day_base"} <= set(names)
    found = []
    for tree in OUTSIDE:
        for path in sorted((ROOT / tree).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("firmware/routing/"):
                continue                          # the core's own rooms and its estimator
            found += ["%s: %s" % (rel, hit) for hit in readers(path.read_text(), names)]
    assert found == []


def test_a_planted_read_is_found():
    assert readers("if core.state[w] != 1 or core.phase[w] != 0:", internals()) == \
        ["core.state", "core.phase"]
