"""hallctl collect: store the events of many halls, as they reach a central broker (each hall's
Mosquitto bridges its `qms/HALL/#` there), in a database for city-wide reports.

    hallctl collect --mqtt central.example:1883 --db sqlite:///city.db
    hallctl collect --mqtt central:1883 --db postgresql://qms@db/city     (needs psycopg)

The collector keeps a persistent session (a fixed client id, clean session off, QoS 1), so a
broker that restarts, or a collector that was stopped, catches up on what it missed. Every
message is stored once: a retransmission (same topic and payload) is recognised and skipped.
"""
import hashlib
import json
import queue
import sqlite3
import time

from hallctl.errors import CommandError

SCHEMA = """CREATE TABLE IF NOT EXISTS events (
    digest TEXT PRIMARY KEY,      -- sha1 of topic and payload: a retransmission is the same row
    hall TEXT NOT NULL, device TEXT NOT NULL, direction TEXT NOT NULL, type TEXT NOT NULL,
    body TEXT NOT NULL, received REAL NOT NULL)"""


class Store:
    def __init__(self, url, readonly=False):
        # readonly: for reports, which must neither create a database nor change one.
        self.url = url
        if url.startswith("sqlite://"):
            path = url[len("sqlite:///"):]       # sqlite:///rel.db, sqlite:////abs.db
            try:
                if readonly:
                    self.db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
                else:
                    self.db = sqlite3.connect(path or ":memory:", check_same_thread=False)
            except sqlite3.Error as exc:
                raise CommandError("--db %s: %s" % (url, exc)) from None
            self.insert_sql = "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
        elif url.startswith("postgresql://") or url.startswith("postgres://"):
            try:
                import psycopg
            except ImportError:
                raise CommandError("--db %s: PostgreSQL needs psycopg (pip install psycopg)"
                                   % url) from None
            try:
                self.db = psycopg.connect(url)
            except Exception as exc:           # the driver's own error types
                raise CommandError("--db: cannot connect: %s" % exc) from None
            self.insert_sql = ("INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s, %s) "
                               "ON CONFLICT (digest) DO NOTHING")
        else:
            raise CommandError("--db %s: expected sqlite:///PATH or postgresql://..." % url)
        if not readonly:
            self.db.execute(SCHEMA)
            self.db.commit()

    def add(self, topic, payload, received):
        parts = topic.split("/")
        if len(parts) == 4 and parts[3] == "status":
            hall, device, direction, kind = parts[1], parts[2], "status", "status"
        elif len(parts) == 4 and parts[2:] == ["hub", "day"]:     # a closed day's summary
            hall, device, direction, kind = parts[1], "hub", "day", "day"
        elif len(parts) == 5:
            hall, device, direction, kind = parts[1], parts[2], parts[3], parts[4]
        else:
            return False
        try:
            body = payload.decode("utf-8")
            json.loads(body)
        except (UnicodeError, ValueError):
            return False                        # not one of ours: not stored
        digest = hashlib.sha1(topic.encode() + b"\0" + payload).hexdigest()
        cur = self.db.execute(self.insert_sql, (digest, hall, device, direction, kind, body,
                                                received))
        return cur.rowcount == 1

    def commit(self):
        self.db.commit()

    def count(self):
        return self.db.execute("SELECT count(*) FROM events").fetchone()[0]


class Collector:
    def __init__(self, host, port, db_url, client_id="qms-collect", user=None, password=None):
        import paho.mqtt.client as paho
        self.store = Store(db_url)
        self.inbox = queue.Queue()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._connected
        self.client.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload))
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.host, self.port = host, port
        self.stored = 0
        self.skipped = 0

    def _connected(self, client, userdata, flags, reason, properties=None):
        if not reason.is_failure:
            client.subscribe([("qms/+/+/up/#", 1), ("qms/+/+/down/#", 1), ("qms/+/+/status", 1),
                              ("qms/+/hub/day", 1)])

    def start(self):
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def pump(self, wait=0.05):
        try:
            item = self.inbox.get(timeout=wait)
        except queue.Empty:
            return 0
        n = 0
        while True:
            if self.store.add(item[0], item[1], time.time()):
                self.stored += 1
            else:
                self.skipped += 1
            n += 1
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
        self.store.commit()
        return n

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


class Collect:
    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--mqtt", required=True, help="the central broker, HOST[:PORT]")
        parser.add_argument("--db", default="sqlite:///qms-events.db",
                            help="sqlite:///PATH (default qms-events.db) or postgresql://...")
        parser.add_argument("--user", help="broker user name")
        parser.add_argument("--password-file", help="a file holding the broker password")
        parser.add_argument("--seconds", type=float, help="stop after this long (default: run)")

    @staticmethod
    def run(args, stdin, stdout):
        host, _, port = args.mqtt.partition(":")
        try:
            port = int(port or 1883)
        except ValueError:
            raise CommandError("--mqtt %s: expected HOST[:PORT]" % args.mqtt) from None
        password = None
        if args.password_file:
            try:
                password = open(args.password_file, encoding="utf-8").read().strip()
            except OSError as exc:
                raise CommandError("%s: cannot read: %s" % (args.password_file,
                                                             exc.strerror)) from None
        collector = Collector(host, port, args.db, user=args.user, password=password)
        collector.start()
        end = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            while end is None or time.monotonic() < end:
                collector.pump()
        finally:
            collector.stop()
        stdout.write("stored %d events (%d repeats skipped); %d in %s\n"
                     % (collector.stored, collector.skipped, collector.store.count(), args.db))
        return 0


def bridge_config(hall, central, user=None, password=None):
    # The lines that bridge a hall's broker to the central one: everything of this hall goes
    # out at QoS 1 with a persistent session, so it queues while the link is down.
    lines = ["# qms: bridge hall %s to the central broker. Written by hallctl broker-config." % hall,
             "connection qms-%s" % hall, "address %s" % central,
             "remote_clientid qms-bridge-%s" % hall, "cleansession false",
             "topic qms/%s/# out 1" % hall, "notifications false",
             "restart_timeout 2 30"]
    if user is not None:
        lines.append("remote_username %s" % user)
        if password is not None:
            lines.append("remote_password %s" % password)
    return "\n".join(lines) + "\n"
