"""hallctl: the technicians' and operators' tool for a queue-management hall.

A table from command name to handler, argparse for the options.

Every failure the user can act on is one line on stderr, `hallctl: ...`, and exit status 2.
"""
import argparse
import sys

from hallctl import broker, bundle, collect, demo, flash, frame_cmd, hub, monitor, provision, report, \
    status
from hallpc.errors import CommandError

# (group, command) -> (module with add_arguments/run, help). Later commands join this table.
COMMANDS = {
    ("provision", None): (provision.Provision, "a device's config.json from the hall's file: "
                                               "texts, glyphs, credentials"),
    ("bundle", None): (bundle.Bundle, "exactly what flash copies to a device, with a manifest of hashes"),
    ("flash", None): (flash.Flash, "MicroPython, the firmware and the device's config onto a "
                                   "board, verified by hash"),
    ("hub", None): (hub.Hub, "the hall's hub as a service on the hall PC: on the bus through a "
                             "USB-RS485 adapter, or on the hall's broker"),
    ("status", None): (status.Status, "what the devices say of themselves: one on a port, the "
                                      "whole hall from the hub's console or the broker"),
    ("monitor", None): (monitor.Monitor, "a live view of the decoded frames on a serial line"),
    ("report", None): (report.Report, "a hall's month: waits, SLA, 满意率, 服务标兵, early stops"),
    ("broker-config", None): (broker.BrokerConfig,
                              "a Mosquitto password file and ACL: each device only its own topics"),
    ("collect", None): (collect.Collect, "store many halls' events from a central broker in a database"),
    ("frame", "encode"): (frame_cmd.Encode, "message JSON (argument or stdin lines) -> frame hex"),
    ("frame", "decode"): (frame_cmd.Decode, "frame hex (argument) or raw bytes (stdin) -> JSON lines"),
    ("demo", None): (demo.Demo, "a dispenser and the hub over a noisy serial line"),
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr like every other hallctl error."""

    def error(self, message):
        self.exit(2, "hallctl: %s: %s (see %s --help)\n" % (self.prog.replace("hallctl ", "", 1)
                                                               if self.prog != "hallctl" else "usage",
                                                               message, self.prog))


def build_parser():
    parser = Parser(prog="hallctl", description=__doc__.splitlines()[0])
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True,
                                   parser_class=Parser)
    subparsers = {}
    for (group, name), (handler, help_text) in COMMANDS.items():
        if name is None:                      # a command without subcommands
            command = groups.add_parser(group, help=help_text, description=help_text)
            handler.add_arguments(command)
            command.set_defaults(handler=handler)
            continue
        if group not in subparsers:
            sub = groups.add_parser(group, help="%s commands" % group)
            subparsers[group] = sub.add_subparsers(dest="command", metavar="SUBCOMMAND",
                                                   required=True, parser_class=Parser)
        command = subparsers[group].add_parser(name, help=help_text, description=help_text)
        handler.add_arguments(command)
        command.set_defaults(handler=handler)
    return parser


def main(argv=None, stdin=None, stdout=None):
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler.run(args, stdin, stdout)
    except CommandError as exc:
        print("hallctl: %s" % exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
