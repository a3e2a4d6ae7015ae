"""Benchmarks: figures and ratios measured in one run, printed (or as one JSON object).

    python tools/bench.py protocol|routing|firmware|sim|mqtt|faults|hallpc [--json]
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tools"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from hallpc import mpybuild  # noqa: E402

BUILD = ROOT / "build" / "bench-mpy"
ESP32_SLOWDOWN = 100      # an ESP32 runs MicroPython about 100x slower than the unix port here

# A typical frame: ticket_issued carries a 20-byte payload.
TYPICAL = {"type": "ticket_issued", "req": 42, "ticket": "A012", "service": "A", "kind": 0,
           "ahead": 5, "wait_min": 8, "wait_max": 14, "issued": 1795341600}

# Runs on both runtimes: median microseconds of encode (dict -> frame) + decode (frame -> dict).
ROUND_TRIP = """
import time
from protocol.frame import encode_message, StreamDecoder
try:
    now, diff = time.ticks_us, time.ticks_diff
except AttributeError:
    now = lambda: time.perf_counter_ns() // 1000
    diff = lambda a, b: a - b
MSG = %r
dec = StreamDecoder()
def once():
    frame = encode_message(MSG, 0x11, 0, 200)
    dec.feed(frame)
    return dec.message()
assert once() == MSG
samples = []
for batch in range(%d):
    t0 = now()
    for _ in range(%d):
        once()
    samples.append(diff(now(), t0) / %d)
samples.sort()
print("median_us", samples[len(samples) // 2])
print("min_us", samples[0])
"""

# Loaded from the .mpy files, as a device holds them (without '' on sys.path the unix port
# would find the sources in the repository and compile them at run time).
IMPORT_HEAP = """
import gc
import sys
if '' in sys.path:
    sys.path.remove('')
gc.collect()
base = gc.mem_alloc()
import protocol.frame, protocol.link
gc.collect()
print("heap", gc.mem_alloc() - base)
"""


def _field(out, name):
    for line in out.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise RuntimeError("benchmark printed no %s: %s" % (name, out))


def bench_protocol():
    from protocol.frame import encode_message, OVERHEAD
    from protocol.codec import encode_payload

    payload = len(encode_payload(TYPICAL)[1])
    frame = encode_message(TYPICAL, 0x11, 0, 200)
    # Many short batches: this host's speed drifts by 2x between seconds, so the median of
    # many batches is steadier than one long timing, and the minimum shows the quiet speed.
    batches, per = 101, 400
    code = ROUND_TRIP % (TYPICAL, batches, per, per)
    scope = {}
    exec(compile(code.replace("print(", "result = ("), "<bench>", "exec"), scope)
    cpython_us = scope["samples"][batches // 2]
    mpybuild.build(BUILD)
    proc = mpybuild.run(BUILD, code=code, heapsize="64K")
    if proc.returncode:
        raise RuntimeError("MicroPython benchmark failed:\n" + proc.stdout + proc.stderr)
    micropython_us = _field(proc.stdout, "median_us")
    micropython_min_us = _field(proc.stdout, "min_us")
    proc = mpybuild.run(BUILD, code=IMPORT_HEAP, heapsize="64K")
    import_heap = int(_field(proc.stdout, "heap"))
    wire_us = len(frame) * 10 * 1e6 / 115200            # 8N1: 10 bits a byte
    return {
        "payload_bytes": payload,
        "frame_bytes": len(frame),
        "frame_overhead_bytes": OVERHEAD,
        "encode_decode_us_cpython": round(cpython_us, 2),
        "encode_decode_us_micropython": round(micropython_us, 2),
        "encode_decode_us_micropython_min": round(micropython_min_us, 2),
        "wire_us_115200": round(wire_us, 1),
        "esp32_estimate_over_wire": round(micropython_us * ESP32_SLOWDOWN / wire_us, 3),
        "micropython_over_cpython": round(micropython_us / cpython_us, 2),
        "device_import_heap_bytes": import_heap,
    }


def bench_routing():
    """Call-next cost with 20 and 2,000 waiting (32 services, 64 windows) and the hub's heap."""
    script = ROOT / "tools" / "bench_routing.py"
    mpybuild.build(BUILD, extra_flat=[script])
    proc = mpybuild.run(BUILD, module="bench_routing", heapsize="2M", args=("400",), timeout=900)
    if proc.returncode:
        raise RuntimeError("MicroPython benchmark failed:\n" + proc.stdout + proc.stderr)
    mp = {line.split()[0]: float(line.split()[1]) for line in proc.stdout.splitlines()}
    import subprocess
    cp = subprocess.run([sys.executable, str(script), "400"], capture_output=True, text=True,
                        cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=900)
    if cp.returncode:
        raise RuntimeError("CPython benchmark failed:\n" + cp.stdout + cp.stderr)
    py = {line.split()[0]: float(line.split()[1]) for line in cp.stdout.splitlines()}
    return {
        "call_next_us_micropython_20": mp["call_next_us_20"],
        "call_next_us_micropython_2000": mp["call_next_us_2000"],
        "call_next_2000_over_20": round(mp["call_next_us_2000"] / mp["call_next_us_20"], 2),
        "call_next_us_cpython_2000": py["call_next_us_2000"],
        "hub_heap_bytes_2000": int(mp["heap_2000"]),
        "hub_code_heap_bytes": int(mp["code_heap"]),
        "hub_state_heap_bytes_2000": int(mp["heap_2000"] - mp["code_heap"]),
        "hub_state_heap_bytes_20": int(mp["heap_20"] - mp["code_heap"]),
    }


def bench_firmware():
    """Each device role through a simulated day (600 minutes of traffic) on the unix port:
    the peak heap in use after gc, and how much it grew after warm-up."""
    script = ROOT / "tests" / "portable" / "mp_role_day.py"
    extra = [script] + sorted((ROOT / "tests" / "portable").glob("*.py"))
    mpybuild.build(BUILD, extra_flat=extra)
    result = {}
    for role in ("dispenser", "caller", "evaluator", "display"):
        proc = mpybuild.run(BUILD, module="mp_role_day", heapsize="96K", args=(role, "600"),
                            timeout=900)
        if proc.returncode:
            raise RuntimeError("MicroPython %s day failed:\n%s%s" % (role, proc.stdout, proc.stderr))
        values = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
        result["role_heap_bytes_" + role] = int(values["peak"])
        result["role_heap_growth_bytes_" + role] = int(values["growth"])
    return result


def bus64_scenario():
    # The city's morning peak on one 115200-baud bus of 64 devices: windows 1-31 (a caller and
    # an evaluator each, serving A-D at the city's rates), one dispenser and one hall display.
    import tomllib
    from host_sim import scenario as scenarios
    doc = tomllib.loads((scenarios.SCENARIOS / "city.toml").read_text(encoding="utf-8"))
    keep = 31
    doc["hall"]["windows"] = [w for w in doc["hall"]["windows"] if w["number"] <= keep]
    for w in doc["hall"]["windows"]:
        if w.get("backup", 0) > keep:
            del w["backup"]
    served = {s if isinstance(s, str) else s[0] for w in doc["hall"]["windows"]
              for s in w["services"]}
    doc["roster"] = [r for r in doc["roster"] if r["window"] <= keep]
    doc["arrivals"] = {k: v for k, v in doc["arrivals"].items()
                       if not isinstance(v, list) or k in served}
    doc["scenario"]["end"] = "10:30"
    doc["bus"] = {"dispensers": 1, "displays": 1}
    return scenarios.parse(doc, "bus64")


def _per_ticket_us(run, seeds):
    # Microseconds per ticket of run(seed) -> tickets, the best of the seeds' rates.
    best = None
    for seed in seeds:
        t0 = time.perf_counter()
        tickets = run(seed)
        us = (time.perf_counter() - t0) * 1e6 / tickets
        best = us if best is None else min(best, us)
    return best


PLAN_TARGET = "90% within 15 min"     # the city plan the bench times


def bench_sim():
    """The simulator: the ticket level against Ciw and SimPy on the same days, the frame level's
    speed on the city, call latency on a 64-device bus, the theory table's largest error, the
    estimate against the naive one, and the planner on the city."""
    sys.path.insert(0, str(ROOT / "tests"))
    import peers
    import test_theory
    from host_sim import scenario as scenarios, theory
    from host_sim.framesim import FrameHall
    from host_sim.hallday import HallDay
    from host_sim.plan import Planner, parse_target

    result = {}
    seeds = range(1, 4)
    mmc = (10, 0.8, 8, 5)                   # M/M/10 at rho 0.8, eight hours of arrivals
    days = {
        "mmc10": {
            "ticket_level": lambda seed: len(HallDay(theory.mmc_scenario(*mmc, seed)).run().tickets),
            "ciw": lambda seed: peers.ciw_mmc(*mmc, seed)[1],
            "simpy": lambda seed: peers.simpy_mmc(*mmc, seed)[1]},
        "hall_like": {
            "ticket_level": lambda seed: sum(
                g[1] + g[2] for k, g in peers.hall_day(seed).groups.items() if k != "priority"),
            "ciw": lambda seed: sum(
                g[1] + g[2] for k, g in peers.ciw_hall_like(seed).groups.items() if k != "priority"),
            "simpy": lambda seed: sum(
                g[1] + g[2] for k, g in peers.simpy_hall_like(seed).groups.items()
                if k != "priority")}}
    for day, runs in days.items():
        us = {}
        for _ in range(2):                       # interleaved, so drift hits all alike
            for who, run in runs.items():
                figure = _per_ticket_us(run, seeds)
                us[who] = figure if who not in us else min(us[who], figure)
        for who, figure in us.items():
            result["%s_us_per_ticket_%s" % (who, day)] = round(figure, 1)
        result["ticket_level_vs_ciw_" + day] = round(us["ticket_level"] / us["ciw"], 2)

    city = scenarios.load(scenarios.SCENARIOS / "city.toml")
    t0 = time.perf_counter()
    city_books = FrameHall(city).run()
    wall = time.perf_counter() - t0
    result["frame_level_hall_seconds_per_wall_second"] = round((city.end - city.start) / wall)
    result["city_day_frame_level_lost"] = city_books["problems"]
    bus = FrameHall(bus64_scenario())
    bus_books = bus.run()
    result["call_latency_ms_p99_bus64"] = round(bus_books["call_latency_ms_p99"], 1)
    result["call_latency_ms_p50_bus64"] = round(bus_books["call_latency_ms_p50"], 1)
    result["bus64_devices"] = len(bus.devices)

    worst = None                                 # the theory table, as the tests run it
    for c, rho, hours, n_days, _ in test_theory.TRANSIENT:
        mu = 1 / 300
        exact = theory.transient_mean_wait(c, rho * c * mu, mu, hours)
        mean, half = test_theory.estimate(test_theory.simulated(c, rho, hours, 5, n_days),
                                          c, rho, hours, 5)
        gap = abs(mean - exact) / exact * 100
        if worst is None or gap > worst[0]:
            worst = (gap, half / exact * 100, "M/M/%d rho %.2f" % (c, rho))
    result["mmc_wait_error_pct"] = round(worst[0], 2)
    result["mmc_wait_error_interval_pct"] = round(worst[1], 2)
    result["mmc_wait_error_case"] = worst[2]

    def mae_ratio(results):
        served = [t for r in results for t in r.tickets if t.how == 0]
        return sum(abs(t.estimate - t.wait) for t in served) / \
            sum(abs(t.naive - t.wait) for t in served)
    shipped = [HallDay(scenarios.load(path)).run()
               for path in sorted(scenarios.SCENARIOS.glob("*.toml"))]
    result["wait_estimate_mae_vs_naive"] = round(mae_ratio(shipped), 3)
    result["wait_estimate_mae_vs_naive_mmc"] = round(max(
        mae_ratio([HallDay(theory.mmc_scenario(c, rho, 8, 5, seed)).run() for seed in range(1, 7)])
        for c, rho in ((10, 0.8), (10, 0.95), (60, 0.95))), 3)

    planner = Planner(city, *parse_target(PLAN_TARGET))
    t0 = time.perf_counter()
    _, _, summary = planner.plan()
    result["plan_city_s"] = round(time.perf_counter() - t0, 1)
    result["plan_share_promised"] = round(summary["share_promised"], 3)
    result["plan_share_of_days_met"] = round(summary["days_met"] / summary["days"], 3)
    result["plan_share_of_whole_days_met"] = round(summary["whole_days_met"] / summary["days"], 3)
    unseen = range(city.seed + 1000, city.seed + 1000 + planner.days)   # days it never saw
    per_hour, whole = planner.days_met(planner.wanted, unseen)
    result["plan_share_of_days_met_unseen"] = round(per_hour / planner.days, 3)
    result["plan_share_of_whole_days_met_unseen"] = round(whole / planner.days, 3)
    return result


def bench_hallpc():
    """The hall PC's hub (hallctl hub, as systemd runs it): call-to-board latency on one bus of
    64 devices, and sustained events per second on MQTT with 100 devices."""
    sys.path.insert(0, str(ROOT / "tools"))
    import bench_hallpc
    return bench_hallpc.run()


def bench_mqtt():
    """MQTT on a real Mosquitto: call-to-board latency with 100 devices, sustained events/s."""
    sys.path.insert(0, str(ROOT / "tools"))
    import bench_mqtt
    return bench_mqtt.run()


def bench_faults():
    """The hub's fault suite at full size: every damage to a morning's journal (and to a
    compacted one's snapshot), a disk that fills at every write point, 100,000 hostile messages
    on both carriers beside an honest service, and a caller's latency beside a babbling device."""
    for path in (ROOT / "tests", ROOT / "tests" / "portable"):
        sys.path.insert(0, str(path))
    import faults
    import hostile
    from host_sim.framesim import FrameHall

    result = {}
    tried = lost = reused = unreported = 0
    t0 = time.perf_counter()
    for compact_at in (None, 25):
        truth = faults.Checker(tickets=40, compact_at=compact_at)
        for damaged, ruined, what in faults.damages(truth.data, truth.spans, bits=(0, 5),
                                                    each=True):
            truth.check(damaged, ruined, what)
        tried += truth.tried
        lost += truth.acked_lost
        reused += truth.reused
        unreported += truth.unreported
    result.update({"journal_damages_tried": tried, "journal_acked_lost": lost,
                   "journal_numbers_reused": reused, "journal_damage_unreported": unreported,
                   "journal_recovery_ms_mean": round(1000 * (time.perf_counter() - t0) / tried, 2)})

    points = problems = 0
    writes = faults.disk_full_day(10 ** 9, 0)[2]
    for at_write in range(writes + 1):
        for partial in (0, 9, 30):
            for heal in (None, 3):
                points += 1
                problems += len(faults.disk_full_day(at_write, partial, heal)[0])
    result.update({"disk_full_points_tried": points, "disk_full_acked_lost": problems})

    storms = [hostile.storm("mqtt", 60000, seed=11), hostile.storm("serial", 40000, seed=12)]
    result.update({"hostile_messages_tried": sum(g["hostile_messages_tried"] for g in storms),
                   "hub_crashes": sum(g["hub_crashes"] for g in storms),
                   "honest_tickets_lost": sum(g["honest_tickets_lost"] for g in storms)})

    calm = FrameHall(bus64_scenario()).run()
    hall = FrameHall(bus64_scenario(), babbler=True)
    rough = hall.run()
    named = hall.hub.role.devices[hall.babbler.address].out_of_turn
    result.update({
        "babbler_call_latency_ms_p99": round(rough["call_latency_ms_p99"], 1),
        "babbler_call_latency_ms_p50": round(rough["call_latency_ms_p50"], 1),
        "call_latency_ms_p99_bus64_without": round(calm["call_latency_ms_p99"], 1),
        "babbler_named_times": named,
        "babbler_lost": rough["problems"],
    })
    return result


BENCHES = {"protocol": bench_protocol, "routing": bench_routing, "firmware": bench_firmware,
           "sim": bench_sim, "mqtt": bench_mqtt, "faults": bench_faults,
           "hallpc": bench_hallpc}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(BENCHES))
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = BENCHES[args.name]()
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print("%-*s  %s" % (width, key, value))
        print("(%.1f s)" % (time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
