"""hallctl hub HALL.json --data DIR (--bus DEVICE [--baud N] | --mqtt HOST[:PORT]): the hall's
hub as a service on the hall PC (hallpc.service), the same hub as an ESP32's.

On --bus it masters the RS485 bus through a USB-RS485 adapter; on --mqtt it meets the devices on
the hall's broker as the account "hub" (its password from broker-config's credentials.json with
--credentials, or QMS_MQTT_PASSWORD). DIR keeps journal.bin, days.bin (for hallctl report) and
status.json (for hallctl status --data DIR); nothing else in DIR is touched. It runs until
SIGTERM or SIGINT (systemd's stop, Ctrl-C), then exits 0.
"""
import json
import os
import signal
import socket
import sys
from pathlib import Path

from hallpc.errors import CommandError

PASSWORD_ENV = "QMS_MQTT_PASSWORD"


def _log(line):
    # One line per event on stderr: journald stamps and keeps it.
    sys.stderr.write("hub: %s\n" % line if not line.startswith("hub:") else line + "\n")
    sys.stderr.flush()


def _broker(target):
    host, _, port = target.partition(":")
    port = port or "1883"
    try:
        port = int(port)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise CommandError("--mqtt: %r: expected HOST or HOST:PORT" % target) from None
    try:
        socket.getaddrinfo(host, port)
    except OSError:
        raise CommandError("--mqtt: %s: no such host" % host) from None
    return host, port


def _password(credentials):
    if credentials is None:
        return os.environ.get(PASSWORD_ENV)
    path = Path(credentials) / "credentials.json"
    try:
        creds = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError("%s: cannot read: %s" % (path, getattr(exc, "strerror", None) or exc)) \
            from None
    if not isinstance(creds, dict) or not isinstance(creds.get("hub"), str):
        raise CommandError("%s: no account for hub (run hallctl broker-config again)" % path)
    return creds["hub"]


class Hub:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("hall", metavar="HALL.json", help="the hall's file")
        parser.add_argument("--data", required=True, metavar="DIR",
                            help="the hub's journal, day archive and status (made if missing)")
        carrier = parser.add_mutually_exclusive_group(required=True)
        carrier.add_argument("--bus", metavar="DEVICE", help="the USB-RS485 adapter's port")
        carrier.add_argument("--mqtt", metavar="HOST[:PORT]", help="the hall's broker")
        parser.add_argument("--baud", type=int, default=None, help="with --bus (default 115200)")
        parser.add_argument("--latency-ms", type=int, default=None,
                            help="with --bus: the USB adapter's latency in ms (default: 2 when "
                                 "its driver takes low-latency mode, else 16, FTDI's default)")
        parser.add_argument("--credentials", metavar="DIR",
                            help="with --mqtt: broker-config's directory (the hub's password)")
        parser.add_argument("--ca", metavar="FILE", help="with --mqtt: the broker's CA (TLS)")

    @staticmethod
    def run(args, stdin, stdout):
        from firmware import devconfig
        from firmware.routing.config import HallConfig
        from hallctl.broker import check_hub_reach, read_hall
        from hallpc.files import make_dir
        from hallpc.service import DataError, HubService

        if args.mqtt is None and (args.credentials or args.ca):
            raise CommandError("--%s: only with --mqtt" % ("credentials" if args.credentials
                                                           else "ca"))
        if args.mqtt is not None and args.baud is not None:
            raise CommandError("--baud: only with --bus")
        if args.mqtt is not None and args.latency_ms is not None:
            raise CommandError("--latency-ms: only with --bus")
        if args.latency_ms is not None and not 0 <= args.latency_ms <= 100:
            raise CommandError("--latency-ms: expected 0..100, got %d" % args.latency_ms)
        if args.baud is not None and not 1200 <= args.baud <= 4000000:
            raise CommandError("--baud: expected 1200..4000000, got %d" % args.baud)
        doc = read_hall(args.hall)
        if not isinstance(doc.get("routing"), dict):
            raise CommandError("%s: routing: expected the hub's hall configuration (services, "
                               "windows, staff)" % args.hall)
        check_hub_reach(doc, {"id": "hallctl hub", "transport": "mqtt" if args.mqtt else
                              "serial"}, args.hall)
        hall = HallConfig(doc["routing"], "%s: routing" % args.hall)
        devices = devconfig.redacted([d for d in doc["devices"] if d.get("role") != "hub"])
        broker = _broker(args.mqtt) if args.mqtt else None
        password = _password(args.credentials) if broker else None
        if args.ca is not None and not Path(args.ca).is_file():
            raise CommandError("--ca: %s: no such file" % args.ca)
        data = Path(args.data)
        if data.exists() and not data.is_dir():
            raise CommandError("%s: not a directory" % data)
        port = None
        if args.bus:                            # (before anything is made: a wrong port)
            from hallctl.status import open_port
            port = open_port(args.bus, args.baud or 115200)
        try:
            make_dir(data, 0o750)
            service = HubService(hall, devices, data, _log)
        except (DataError, CommandError) as exc:
            if port is not None:
                port.close()
            raise CommandError(str(exc)) from None
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            if port is not None:
                from hallpc.serialhub import LATENCY_MS, LOW_LATENCY_MS, SerialHub, \
                    adapter_timing, low_latency
                latency = args.latency_ms
                if latency is None:
                    if low_latency(port):
                        latency = LOW_LATENCY_MS
                    else:
                        latency = LATENCY_MS
                        _log("%s: no low-latency mode: the bus is polled for a %d ms adapter "
                             "(set its latency_timer to 1 and give --latency-ms 2; README)"
                             % (args.bus, LATENCY_MS))
                hub = SerialHub(service.core, devices, port, baud=args.baud or 115200,
                                **adapter_timing(latency))
                service.serve(hub, lambda: stopping)
                port.close()
            else:
                hub = _mqtt_hub(service, devices, doc["hall"], broker, password, args.ca)
                try:
                    service.serve(hub, lambda: stopping, idle_s=0)
                finally:
                    hub.stop()
        finally:
            service.close()
        _log("stopped (%s): journal closed" % signal.Signals(stopping[0]).name
             if stopping else "stopped")
        return 0


def _mqtt_hub(service, devices, hall, broker, password, ca):
    from hallpc.mqtthub import MqttHub
    hub = MqttHub(service.core, devices, hall, broker[0], broker[1],
                  user="hub" if password is not None else None, password=password,
                  tls={"ca_certs": ca} if ca else None, log=_log)
    hub.start(wait_s=10)
    if hub.refused is not None:
        hub.stop()
        raise CommandError("--mqtt: %s:%d refused the hub: %s" % (broker[0], broker[1],
                                                                  hub.refused))
    if not hub.connected:
        _log("broker %s:%d not reachable yet: retrying in the background" % broker)
    return hub
