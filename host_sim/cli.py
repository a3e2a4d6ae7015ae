"""hallsim: run the simulated hall.

    hallsim run [SCENARIO.toml] [--seed N] [--out DIR] [--json] [--level frame|ticket]
    hallsim run [SCENARIO.toml] --realtime --devices micropython [--minutes M] [--speed S] [--mqtt]
    hallsim plan [SCENARIO.toml] --target "90% within 15 min" [--json]
    hallsim boards [SCENARIO.toml] [--dir DIR]      (virtual boards to try hallctl on)

Without a scenario it runs the default one (a district office with six windows), at frame
level: the real hub and device firmware over a model of the RS485 bus. `--level ticket` runs
the routing core alone, ticket by ticket (fast; what `plan` uses). Errors are one line on
stderr, `hallsim: ...`, with exit status 2.
"""
import argparse
import json
import sys
from hallpc.progress import bar
from host_sim import report, scenario as scenarios
from host_sim.hallday import HallDay
from host_sim.scenario import hhmm


REALTIME_MAX_DEVICES = 64      # each a MicroPython process with its own pseudo-terminals


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, "hallsim: %s (see %s --help)\n" % (message, self.prog))


class UsageError(Exception):
    """An option given that cannot work; the message names it."""


REALTIME_ONLY = ("--minutes", "--speed", "--devices", "--mqtt")


def check_options(args):
    # Every option either does what it says or is refused before any work is done.
    if args.command == "run":
        given = {"--minutes": args.minutes is not None, "--speed": args.speed is not None,
                 "--devices": args.devices is not None, "--mqtt": args.mqtt,
                 "--out": args.out is not None, "--level": args.level is not None}
        if not args.realtime:
            for option in REALTIME_ONLY:
                if given[option]:
                    raise UsageError("%s: only with --realtime" % option)
        else:
            for option in ("--out", "--level"):
                if given[option]:
                    raise UsageError("%s: not with --realtime (the real-time hall checks its "
                                     "books and writes no report; run without --realtime for "
                                     "one)" % option)
            if args.minutes is not None and not 1 <= args.minutes <= 24 * 60:
                raise UsageError("--minutes: expected 1..1440 hall minutes, got %d" % args.minutes)
            if args.speed is not None and not 0.1 <= args.speed <= 3600:
                raise UsageError("--speed: expected 0.1..3600 hall seconds per real second, "
                                 "got %g" % args.speed)
            if args.devices not in (None, "micropython"):
                raise UsageError("--devices: only micropython devices run in real time")
    if args.command == "plan" and not 5 <= args.days <= 200:
        raise UsageError("--days: expected 5..200 seeded days, got %d" % args.days)
    if getattr(args, "out", None) is not None:
        from hallpc.files import check_out_dir
        check_out_dir(args.out, "--out")


def run(args, out):
    if args.realtime:
        return realtime(args, out)
    sc = scenarios.load(args.scenario, args.seed)
    with bar("%s, %s level" % (sc.name, args.level or "frame"),
             enabled=not args.json) as progress:
        if (args.level or "frame") == "frame":
            from host_sim.framesim import FrameHall
            hall = FrameHall(sc, progress)
            hall.run()
            result = hall.result
        else:
            result = HallDay(sc, progress).run()
        progress(1.0)
    s = report.summary(sc, result)
    if args.out:             # checked before the run; written together, each file atomic
        from hallpc.files import write_files
        from host_sim import plots
        written = write_files(args.out, report.files(sc, result, s) + plots.render(sc, result, s),
                              inputs=[args.scenario] if args.scenario else ())
    if args.json:
        out.write(json.dumps(s, ensure_ascii=False) + "\n")
    else:
        out.write(report.text(s) + "\n")
        for path in written if args.out else ():
            out.write("wrote %s\n" % path)
    return 1 if s["lost"] else 0


def realtime(args, out):
    # Every device its own MicroPython process on pseudo-terminals, the hub here.
    import tempfile
    from hallpc import mpybuild
    from host_sim import fleet
    from host_sim.realtime import RealtimeHall
    sc = scenarios.load(args.scenario, args.seed)
    devices = len(fleet.devices(sc.hall, board="host"))
    if devices > REALTIME_MAX_DEVICES:
        raise UsageError("--realtime: %s has %d devices; real time runs at most %d (each is a "
                         "MicroPython process on its own pseudo-terminals): run it without "
                         "--realtime, which runs the same firmware over the bus model"
                         % (sc.source, devices, REALTIME_MAX_DEVICES))
    minutes = args.minutes if args.minutes is not None else 30
    speed = args.speed if args.speed is not None else 60
    build = mpybuild.build(mpybuild.ROOT / "build" / "realtime-mpy")
    with tempfile.TemporaryDirectory() as work:
        broker = None
        if args.mqtt:
            from hallpc.localbroker import LocalBroker
            try:
                broker = LocalBroker(work)
            except (FileNotFoundError, RuntimeError) as exc:
                raise scenarios.ScenarioError("--mqtt: %s" % exc) from None
        hall = None
        try:
            with bar("%s, %d devices in real time" % (sc.name, devices),
                     enabled=not args.json) as progress:
                hall = RealtimeHall(sc, work, build, speed=speed,
                                    mqtt=None if broker is None else ("127.0.0.1", broker.port))
                books = hall.run(minutes, progress)
                progress(1.0)
        finally:
            if hall is not None:
                hall.close()
            if broker is not None:
                broker.stop()
    if args.json:
        out.write(json.dumps(books) + "\n")
    else:
        out.write("%s, %d hall minutes in real time with %d MicroPython devices%s:\n" % (
            sc.name, minutes, books["devices"], " on MQTT" if args.mqtt else ""))
        for key, value in books.items():
            out.write("  %-18s %s\n" % (key, value))
    return 1 if books["lost"] or books["duplicated_calls"] else 0


def plan(args, out):
    from host_sim.plan import Planner, parse_target, why_not
    share, within = parse_target(args.target)
    sc = scenarios.load(args.scenario, args.seed)
    planner = Planner(sc, share, within, days=args.days)
    with bar("%s: planning for %s" % (sc.name, args.target), total=len(planner.hours),
             enabled=not args.json) as progress:
        planner.progress = progress
        rows, roster, summary = planner.plan()
    if args.json:
        out.write(json.dumps({"target": args.target, "hours": rows, "judged_on": summary,
                              "roster": [{"window": r.window, "from": hhmm(r.start), "to": hhmm(r.end)}
                                         for r in roster]}) + "\n")
        return 0
    days = summary["days"]
    out.write("%s: windows to open for %s, judged on %d seeded days (seeds %d-%d)\n\n" % (
        sc.name, args.target, days, summary["seeds"][0], summary["seeds"][1]))
    out.write("  hour          arrivals/h  windows  Erlang C  within target  days met\n")
    for row in rows:
        share_text = "-" if row["within_target"] is None else "%.0f%%" % (100 * row["within_target"])
        erlang = "-" if row["erlang_c"] is None else str(row["erlang_c"])
        out.write("  %s-%s %10d %8d %9s %14s %6d/%d%s\n" % (
            row["hour"], row["until"], row["arrivals_per_hour"], row["windows"], erlang,
            share_text, row["days_met"], days,
            "" if row["met"] else "  " + why_not(row, summary["windows"])))
    out.write("\n  every hour%s meets the target on at least %d of the %d days\n" % (
        "" if all(r["met"] for r in rows) else " but those marked", summary["days_promised"], days))
    out.write("\n  roster:\n")
    for shift in roster:
        out.write("    window %-3d %s-%s\n" % (shift.window, hhmm(shift.start), hhmm(shift.end)))
    return 0


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = Parser(prog="hallsim", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    r = commands.add_parser("run", help="run a scenario and print its report")
    r.add_argument("scenario", nargs="?", help="a scenario TOML file (default: the district office)")
    r.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    r.add_argument("--out", help="also write report.json, tickets.csv, queue.csv and PNG plots here")
    r.add_argument("--json", action="store_true", help="the report as one JSON object")
    r.add_argument("--level", choices=("frame", "ticket"),
                   help="frame: devices and hub over the bus model (default); ticket: the "
                        "routing core alone")
    r.add_argument("--realtime", action="store_true",
                   help="run the hall's devices as real processes, in real time")
    r.add_argument("--devices", help="with --realtime: micropython (the only kind)")
    r.add_argument("--minutes", type=int,
                   help="with --realtime: hall minutes to run (default 30)")
    r.add_argument("--speed", type=float,
                   help="with --realtime: hall seconds per real second (default 60)")
    r.add_argument("--mqtt", action="store_true",
                   help="with --realtime: the devices and the hub on MQTT, through a Mosquitto "
                        "started for the run, instead of serial lines")
    p = commands.add_parser("plan", help="the fewest windows each hour that meet a target")
    p.add_argument("scenario", nargs="?", help="a scenario TOML file (default: the district office)")
    p.add_argument("--target", required=True, help='e.g. "90%% within 15 min"')
    p.add_argument("--seed", type=int, help="the first of the seeded days (default: the "
                                            "scenario's)")
    p.add_argument("--days", type=int, default=20,
                   help="seeded days the plan is judged on (default 20; it must meet the target "
                        "in each hour on 90%% of them)")
    p.add_argument("--json", action="store_true")
    b = commands.add_parser("boards", help="virtual boards on pseudo-terminals, to try "
                                           "hallctl's flash, provision, status and monitor")
    b.add_argument("scenario", nargs="?", help="whose hall the dispenser serves (default: the "
                                               "district office)")
    b.add_argument("--dir", help="keep the boards' files here (default: a new temporary "
                                 "directory)")
    b.add_argument("--seconds", type=float, help="stop after this long (default: at Ctrl-C)")
    args = parser.parse_args(argv)
    from hallpc.errors import CommandError
    try:
        check_options(args)
        if args.command == "boards":
            from host_sim import boards
            return boards.run(args, out)
        return (run if args.command == "run" else plan)(args, out)
    except (scenarios.ScenarioError, UsageError, CommandError) as exc:
        print("hallsim: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hallsim: interrupted: nothing written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
