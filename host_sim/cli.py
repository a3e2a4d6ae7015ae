"""hallsim: run the simulated hall.

    hallsim run [SCENARIO.toml] [--seed N] [--out DIR] [--json] [--level frame|ticket]
    hallsim run [SCENARIO.toml] --realtime --devices micropython [--minutes M] [--speed S] [--mqtt]
    hallsim plan [SCENARIO.toml] --target "90% within 15 min" [--json]

Without a scenario it runs the default one (a district office with six windows), at frame
level: the real hub and device firmware over a model of the RS485 bus. `--level ticket` runs
the routing core alone, ticket by ticket (fast; what `plan` uses). Errors are one line on
stderr, `hallsim: ...`, with exit status 2.
"""
import argparse
import json
import sys

from host_sim import report, scenario as scenarios
from host_sim.hallday import HallDay


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, "hallsim: %s (see %s --help)\n" % (message, self.prog))


def run(args, out):
    if args.realtime:
        return realtime(args, out)
    sc = scenarios.load(args.scenario, args.seed)
    progress = _progress() if sys.stderr.isatty() and not args.json else None
    if args.level == "frame":
        from host_sim.framesim import FrameHall
        hall = FrameHall(sc, progress)
        hall.run()
        result = hall.result
    else:
        result = HallDay(sc, progress).run()
    if progress is not None:
        progress(1.0)
        sys.stderr.write("\n")
    s = report.summary(sc, result)
    if args.json:
        out.write(json.dumps(s, ensure_ascii=False) + "\n")
    else:
        out.write(report.text(s) + "\n")
    if args.out:
        from host_sim import plots
        for path in report.write(args.out, sc, result, s) + plots.write(args.out, sc, result, s):
            if not args.json:
                out.write("wrote %s\n" % path)
    return 1 if s["lost"] else 0


def realtime(args, out):
    # Every device its own MicroPython process on pseudo-terminals, the hub here.
    import tempfile
    from hallctl import mpybuild
    from host_sim.realtime import RealtimeHall
    if args.devices != "micropython":
        raise scenarios.ScenarioError("--devices: only micropython devices run in real time")
    sc = scenarios.load(args.scenario, args.seed)
    build = mpybuild.build(mpybuild.ROOT / "build" / "realtime-mpy")
    with tempfile.TemporaryDirectory() as work:
        broker = None
        if args.mqtt:
            from hallctl.localbroker import LocalBroker
            try:
                broker = LocalBroker(work)
            except (FileNotFoundError, RuntimeError) as exc:
                raise scenarios.ScenarioError("--mqtt: %s" % exc) from None
        hall = RealtimeHall(sc, work, build, speed=args.speed,
                            mqtt=None if broker is None else ("127.0.0.1", broker.port))
        try:
            books = hall.run(args.minutes)
        finally:
            hall.close()
            if broker is not None:
                broker.stop()
    if args.json:
        out.write(json.dumps(books) + "\n")
    else:
        out.write("%s, %d hall minutes in real time with %d MicroPython devices%s:\n" % (
            sc.name, args.minutes, books["devices"], " on MQTT" if args.mqtt else ""))
        for key, value in books.items():
            out.write("  %-18s %s\n" % (key, value))
    return 1 if books["lost"] or books["duplicated_calls"] else 0


def plan(args, out):
    from host_sim.plan import Planner, parse_target
    share, within = parse_target(args.target)
    sc = scenarios.load(args.scenario, args.seed)
    rows, roster = Planner(sc, share, within).plan()
    if args.json:
        out.write(json.dumps({"target": args.target, "hours": rows,
                              "roster": [{"window": r.window, "from": _hm(r.start), "to": _hm(r.end)}
                                         for r in roster]}) + "\n")
        return 0
    out.write("%s: windows to open for %s\n\n" % (sc.name, args.target))
    out.write("  hour   arrivals/h  windows  Erlang C  within target\n")
    for row in rows:
        share_text = "-" if row["within_target"] is None else "%.0f%%" % (100 * row["within_target"])
        out.write("  %s %10d %8d %9d %13s%s\n" % (
            row["hour"], row["arrivals_per_hour"], row["windows"], row["erlang_c"], share_text,
            "" if row["met"] else "  not met even with all %d windows" % len(sc.hall.numbers)))
    out.write("\n  roster:\n")
    for shift in roster:
        out.write("    window %-3d %s-%s\n" % (shift.window, _hm(shift.start), _hm(shift.end)))
    return 0


def _hm(seconds):
    return "%02d:%02d" % (seconds // 3600, seconds // 60 % 60)


def _progress():
    def show(fraction):
        width = 30
        done = int(fraction * width)
        sys.stderr.write("\r  [%s%s] %3d%%" % ("#" * done, "." * (width - done), fraction * 100))
        sys.stderr.flush()
    return show


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = Parser(prog="hallsim", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    r = commands.add_parser("run", help="run a scenario and print its report")
    r.add_argument("scenario", nargs="?", help="a scenario TOML file (default: the district office)")
    r.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    r.add_argument("--out", help="also write report.json, tickets.csv, queue.csv and PNG plots here")
    r.add_argument("--json", action="store_true", help="the report as one JSON object")
    r.add_argument("--level", choices=("frame", "ticket"), default="frame",
                   help="frame: devices and hub over the bus model (default); ticket: the "
                        "routing core alone")
    r.add_argument("--realtime", action="store_true",
                   help="run the hall's devices as real processes, in real time")
    r.add_argument("--devices", default="micropython", help="with --realtime: micropython")
    r.add_argument("--minutes", type=int, default=30, help="with --realtime: hall minutes to run")
    r.add_argument("--speed", type=float, default=60,
                   help="with --realtime: hall seconds per real second (default 60)")
    r.add_argument("--mqtt", action="store_true",
                   help="with --realtime: the devices and the hub on MQTT, through a Mosquitto "
                        "started for the run, instead of serial lines")
    p = commands.add_parser("plan", help="the fewest windows each hour that meet a target")
    p.add_argument("scenario", nargs="?", help="a scenario TOML file (default: the district office)")
    p.add_argument("--target", required=True, help='e.g. "90%% within 15 min"')
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        return (run if args.command == "run" else plan)(args, out)
    except scenarios.ScenarioError as exc:
        print("hallsim: %s" % exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
