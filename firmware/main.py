# Entry points. On an ESP32, /main.py calls device_main(): read /config.json and /board.json,
# build the hardware, run the role under asyncio with the watchdog. On the unix port a virtual
# board runs as:  micropython -m firmware.main CONFIG.json bus=/dev/pts/N [printer=...]
import sys

CRASH_FILE = "/crashes"
SAFE_AFTER = 3           # this many crashes in a row, each soon after boot: safe mode
HEALTHY_MS = 60000       # running this long clears the count


def _crashes(path, value=None):
    try:
        if value is None:
            with open(path) as f:
                return int(f.read() or "0")
        with open(path, "w") as f:
            f.write(str(value))
    except (OSError, ValueError):
        return 0
    return value


def boot_decision(path=CRASH_FILE):
    # Count this boot as a possible crash; "safe" after SAFE_AFTER early crashes in a row.
    # The count is cleared by healthy() once the device has run HEALTHY_MS.
    count = _crashes(path)
    if count >= SAFE_AFTER:
        return "safe"
    _crashes(path, count + 1)
    return "run"


def healthy(path=CRASH_FILE):
    _crashes(path, 0)


def safe_mode(reason):
    # Stay reachable: no role, no watchdog, the REPL and mpremote work. A technician fixes
    # the config (or reflashes) and resets.
    print("qms: SAFE MODE (%s): the REPL is free; fix /config.json and reset" % reason)


def device(hw, config, board, uarts, start, cause, broker=None, first_seq=0, store=None,
           root="/", console=None):
    # The one build of a device or a hub, on any port: hw is firmware.hw.esp32 or
    # firmware.hw.host (the same names and signatures), uarts the board's open UARTs, broker
    # (host, port) when the device is on MQTT (chosen by its config on an ESP32, by the
    # command line on the unix port); console: where a hub answers `qms status` (hw.console).
    # Returns the runtime whose run() is its one loop.
    if broker is not None:
        hw.wifi(config.get("wifi") or {})
        uarts.pop("bus", None)
    watchdog = hw.watchdog()
    if config["role"] == "hub":
        from firmware.hubrun import utc_now
        return _hub(config, start, utc_now(), root=root, bus=uarts.get("bus"), broker=broker,
                    console=hw.console(console),
                    info=lambda: dict(hw.info(start, cause), id=config["id"]),
                    watchdog=watchdog, store=store)
    from firmware.runtime import DeviceRuntime
    shell = None
    if broker is not None:
        from firmware.mqttrun import MqttShell
        shell = MqttShell(config, broker[0], broker[1], seed=start + first_seq, store=store)
    keys = hw.keys(board["keys"]) if "keys" in board else None
    return DeviceRuntime(config, uarts, hw.Panel(board, config), start, keys=keys,
                         watchdog=watchdog, info=lambda: hw.info(start, cause),
                         first_seq=first_seq, mqtt=shell)


def device_main():
    import asyncio
    import time
    from firmware import boards, devconfig
    from firmware.hw import esp32

    if boot_decision() == "safe":
        safe_mode("%d crashes in a row soon after boot" % SAFE_AFTER)
        return
    try:
        config = devconfig.load("/config.json")
        board = boards.load("/board.json")
    except (boards.BoardError, devconfig.ConfigError) as exc:
        safe_mode(str(exc))
        return
    start = time.ticks_ms()
    uarts = {}
    for name in board["uarts"]:
        uarts[name] = esp32.uart(board["uarts"][name])
    broker = None
    if config.get("transport") == "mqtt":
        broker = (config["mqtt"]["host"], config["mqtt"].get("port", 1883))
    runtime = device(esp32, config, board, uarts, start, esp32.reset_cause(), broker,
                     store="/mqtt-queue.json")

    async def cleared():
        await asyncio.sleep_ms(HEALTHY_MS)
        healthy()

    async def both():
        asyncio.create_task(cleared())
        await runtime.run()

    asyncio.run(both())


def _hub(config, start, utc, root="/", bus=None, broker=None, console=None, info=None,
         watchdog=None, store=None):
    # The hub from its files in root (hall.json, devices.json, journal.bin replayed at boot,
    # days.bin for hallctl report) on its carrier: the bus UART, or the hall's broker through
    # the same MQTT shell as a device's. `qms status` is answered on the console.
    from firmware.hubrun import HubMqtt, HubRuntime, load_hub_files, open_core
    hall, devices = load_hub_files(root)
    core = open_core(hall, root, utc)
    if broker is None:
        hub = HubRuntime(core, devices, bus, start, watchdog, console=console, info=info)
    else:
        from firmware.mqttrun import HubShell
        hub = HubShell(HubMqtt(core, devices, config["hall"], start, console=console,
                               info=info), config, broker[0], broker[1], seed=start,
                       store=store, watchdog=watchdog)
    hub.role.log = print                  # (the console: what went wrong, once per kind)
    return hub


USAGE = ("usage: micropython -m firmware.main CONFIG.json (bus=PTY | mqtt=HOST:PORT) "
         "[printer=PTY] [voice=PTY] [console=PTY]")


def host_main(argv):
    # A virtual board on the unix port: the same build as on an ESP32, its UARTs on
    # pseudo-terminals named on the command line, its keys and board on stdin and stdout.
    import asyncio
    import json
    import time
    from firmware import boards, devconfig
    from firmware.hw import host
    from firmware.routing.config import ConfigError

    if len(argv) < 2:
        print(USAGE)
        sys.exit(2)
    try:
        config = devconfig.load(argv[0])
    except devconfig.ConfigError as exc:
        print("qms: %s" % exc)
        sys.exit(2)
    uarts = {}
    broker = None
    console = None
    for spec in argv[1:]:
        name, _, path = spec.partition("=")
        if name == "mqtt":                     # mqtt=HOST:PORT: on MQTT instead of a bus
            host_name, _, port = path.partition(":")
            try:
                broker = (host_name, int(port or 1883))
            except ValueError:
                print("qms: mqtt=%s: expected HOST:PORT" % path)
                sys.exit(2)
        elif name == "console" and path:
            console = path
        elif name in boards.UART_NAMES and path:
            uarts[name] = host.uart({"path": path})
        else:
            print("qms: %s: unknown argument; %s" % (spec, USAGE[7:]))
            sys.exit(2)
    if broker is None and "bus" not in uarts:
        print("qms: %s needs its carrier: bus=PTY or mqtt=HOST:PORT" % config["id"])
        sys.exit(2)
    start = time.ticks_ms()
    root = argv[0].rpartition("/")[0]
    root = root + "/" if root else ""
    try:
        runtime = device(host, config, {"keys": {"virtual": 16}}, uarts, start,
                         host.reset_cause(), broker, first_seq=devconfig.link_address(config) * 7,
                         root=root, console=console)
    except OSError as exc:                  # a hub without its provisioned files
        print("qms: %s: cannot read the hub's hall.json and devices.json there (%s): "
              "provision the hub with hallctl provision" % (root or "./", exc))
        sys.exit(2)
    except (ValueError, ConfigError) as exc:     # a damaged hall.json or devices.json
        print("qms: %s" % exc)
        sys.exit(2)
    print(json.dumps(["ready", config["id"]]))
    asyncio.run(runtime.run())


if __name__ == "__main__":
    host_main(sys.argv[1:])
