"""hallsim boards: virtual boards on pseudo-terminals, to try the technician's commands without
hardware. A blank board (MicroPython at its REPL, as esptool leaves an ESP32) takes
`hallctl flash` and `provision --port`; a dispenser running the firmware answers `hallctl
status --port` and `monitor --port --poll`. The ports are printed; Ctrl-C stops the boards."""
import sys
import tempfile
import time
from pathlib import Path


def run(args, out):
    from hallpc import mpybuild
    from hallpc.files import check_out_dir, make_dir
    from host_sim import scenario as scenarios
    from host_sim import fleet
    from host_sim.realtime import FakePrinter, ReplBoard, VirtualBoard
    sc = scenarios.load(args.scenario)
    if args.dir is not None:
        check_out_dir(args.dir)
        make_dir(args.dir)
    work = Path(args.dir) if args.dir is not None else Path(tempfile.mkdtemp(prefix="qms-boards-"))
    build = mpybuild.build(mpybuild.ROOT / "build" / "realtime-mpy")
    blank = dispenser = printer = None
    try:
        blank = ReplBoard(work / "blank")
        printer = FakePrinter()
        config = fleet.dispenser(sc.hall, board="host")
        dispenser = VirtualBoard(build, work, config, printer=printer)
        dispenser.port.close()                   # the port is the technician's now
        out.write("virtual boards (files in %s); Ctrl-C stops them\n\n" % work)
        out.write("  blank board:      %s\n" % blank.path)
        out.write("    hallctl flash --port %s --board host --config CONFIG.json\n" % blank.path)
        out.write("    hallctl provision HALL.json DEVICE --port %s\n" % blank.path)
        out.write("  dispenser %s (running, hall %s): %s\n" % (config["id"], sc.hall.hall,
                                                           dispenser.cable.b_path))
        out.write("    hallctl status --port %s\n" % dispenser.cable.b_path)
        out.write("    hallctl monitor --port %s --poll\n" % dispenser.cable.b_path)
        out.flush()
        end = None if args.seconds is None else time.monotonic() + args.seconds
        while end is None or time.monotonic() < end:
            time.sleep(0.2)
            dispenser.read(0)                      # (its board's output, kept from filling up)
            if blank.proc.poll() is not None:      # mpremote's reset ended the REPL: a new one
                blank.close()
                blank = ReplBoard(work / "blank")
                sys.stderr.write("hallsim: the blank board restarted on %s\n" % blank.path)
    except KeyboardInterrupt:
        pass
    finally:
        for thing in (dispenser, blank, printer):
            if thing is not None:
                thing.close()
    out.write("boards stopped\n")
    return 0
