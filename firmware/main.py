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


def device_main():
    import asyncio
    import time
    from firmware import boards, devconfig
    from firmware.hw import esp32
    from firmware.runtime import DeviceRuntime

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
    cause = esp32.reset_cause()
    uarts = {}
    for name in board["uarts"]:
        uarts[name] = esp32.uart(board["uarts"][name])
    shell = None
    if config.get("transport") == "mqtt" and config["role"] != "hub":
        from firmware.mqttrun import MqttShell
        esp32.wifi(config.get("wifi") or {})
        mqtt = config["mqtt"]
        uarts.pop("bus", None)
        shell = MqttShell(config, mqtt["host"], mqtt.get("port", 1883), seed=start,
                          store="/mqtt-queue.json")
    if config["role"] == "hub":
        runtime = _hub_runtime(uarts["bus"], start, esp32.Console(),
                               lambda: dict(esp32.info(start, cause), id=config["id"]),
                               esp32.watchdog())
    else:
        runtime = DeviceRuntime(config, uarts, esp32.Panel(board, config), start,
                                keys=esp32.keys(board["keys"]), watchdog=esp32.watchdog(),
                                info=lambda: esp32.info(start, cause), mqtt=shell)
        if shell is not None:
            runtime.run = _mqtt_loop(runtime, shell)

    async def cleared():
        await asyncio.sleep_ms(HEALTHY_MS)
        healthy()

    async def both():
        asyncio.create_task(cleared())
        await runtime.run()

    asyncio.run(both())


def _mqtt_loop(runtime, shell):
    # The device loop on MQTT: the shell connects, reads and writes around each pass.
    async def run(period_ms=5):
        import asyncio
        import time
        while True:
            shell.pump(runtime, time.ticks_ms())
            await asyncio.sleep_ms(period_ms)
    return run


def _hub_runtime(bus, start, console, info, watchdog=None, root="/"):
    # The hub: the routing core with its journal on flash (journal.bin, replayed at boot), the
    # hall from hall.json, its devices from devices.json, closed days in days.bin, all in root;
    # `qms status` answered on the console.
    import json
    from firmware.routing.config import HallConfig
    from firmware.routing.core import RoutingCore
    from firmware.routing.journal import DayArchive, FileStorage
    from firmware.hubrun import HubRuntime, utc_now
    with open(root + "hall.json") as f:
        hall = HallConfig(json.load(f), root + "hall.json")
    with open(root + "devices.json") as f:
        devices = json.load(f)
    core = RoutingCore.recover(hall, FileStorage(root + "journal.bin"), utc_now())
    core.on_day_closed = DayArchive(FileStorage(root + "days.bin")).add    # for hallctl report
    hub = HubRuntime(core, devices, bus, start, watchdog, console=console, info=info)
    hub.role.log = print                  # (the USB console: what went wrong, once per kind)
    return hub


def host_main(argv):
    import asyncio
    import time
    from firmware import devconfig
    from firmware.hw.host import PtyUART, StdioPanel, info
    from firmware.runtime import DeviceRuntime

    if len(argv) < 2:
        print("usage: micropython -m firmware.main CONFIG.json bus=PTY|mqtt=HOST:PORT "
              "[printer=PTY] [voice=PTY]; a hub: bus=PTY [console=PTY]")
        sys.exit(2)
    try:
        config = devconfig.load(argv[0])
    except devconfig.ConfigError as exc:
        print("qms: %s" % exc)
        sys.exit(2)
    uarts = {}
    broker = None
    for spec in argv[1:]:
        name, _, path = spec.partition("=")
        if name == "mqtt":                     # mqtt=HOST:PORT: on MQTT instead of a bus
            host, _, port = path.partition(":")
            broker = (host, int(port or 1883))
        else:
            uarts[name] = PtyUART(path)
    panel = StdioPanel()
    start = time.ticks_ms()
    if config["role"] == "hub":          # hall.json, devices.json, journal.bin beside the config
        root = argv[0].rpartition("/")[0]
        root = root + "/" if root else ""
        from firmware.routing.config import ConfigError
        if broker is not None or "bus" not in uarts:
            # (the hub on MQTT runs on the hall PC: hallctl's hub, beside the broker)
            print("qms: a hub on this port runs on a bus: give it bus=PTY")
            sys.exit(2)
        def hub_info():
            up = time.ticks_diff(time.ticks_ms(), start) // 1000
            return dict(info(), id=config["id"], uptime=up)
        try:
            runtime = _hub_runtime(uarts["bus"], start, uarts.get("console"), hub_info,
                                   root=root)
        except OSError as exc:
            print("qms: %s: cannot read the hub's hall.json and devices.json there (%s): "
                  "provision the hub with hallctl provision" % (root or "./", exc))
            sys.exit(2)
        except (ValueError, ConfigError) as exc:    # a damaged hall.json or devices.json
            print("qms: %s" % exc)
            sys.exit(2)
        panel.event("ready", config["id"])
        asyncio.run(runtime.run())
        return
    if broker is None:
        runtime = DeviceRuntime(config, uarts, panel, start, info=info,
                                first_seq=config["bus_address"] * 7)
        panel.event("ready", config["id"])
        asyncio.run(runtime.run())
        return
    from firmware.mqttrun import MqttShell
    shell = MqttShell(config, broker[0], broker[1], seed=config["bus_address"] + start)
    runtime = DeviceRuntime(config, uarts, panel, start, info=info,
                            first_seq=config["bus_address"] * 7, mqtt=shell)
    panel.event("ready", config["id"])
    was = None
    while not panel.quit:
        panel.poll()
        shell.pump(runtime, time.ticks_ms())
        if shell.online() != was:
            was = shell.online()
            panel.event("mqtt", was)
        time.sleep_ms(2)


if __name__ == "__main__":
    host_main(sys.argv[1:])
