"""hallsim: run the simulated hall.

    hallsim run [SCENARIO.toml] [--seed N] [--out DIR] [--json]

Without a scenario it runs the default one (a district office with six windows). Errors are
one line on stderr, `hallsim: ...`, with exit status 2.
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
    sc = scenarios.load(args.scenario, args.seed)
    progress = _progress() if sys.stderr.isatty() and not args.json else None
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
    args = parser.parse_args(argv)
    try:
        return run(args, out)
    except scenarios.ScenarioError as exc:
        print("hallsim: %s" % exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
