"""hallctl collect: store the events of many halls, as they reach a central broker (each hall's
Mosquitto bridges its `qms/HALL/#` there), in a database for city-wide reports.

    hallctl collect --mqtt central.example:1883 --db sqlite:///city.db
    hallctl collect --mqtt central:1883 --db postgresql://qms@db/city     (needs psycopg)

The collector keeps a persistent session (a fixed client id, clean session off, QoS 1), so a
broker that restarts, or a collector that was stopped, catches up on what it missed. Every
message is stored once: a retransmission (the same bytes on the same topic as one of the
source's last 255, within which its sequence number cannot have come round) is skipped; the
same text later is a new event and is stored.
"""
import collections
import hashlib
import json
import queue
import sqlite3
import time

from hallpc.errors import CommandError

COLUMNS = """digest TEXT NOT NULL,      -- sha1 of topic and payload
    hall TEXT NOT NULL, device TEXT NOT NULL, direction TEXT NOT NULL, type TEXT NOT NULL,
    body TEXT NOT NULL, received REAL NOT NULL"""
SCHEMA = {"sqlite": "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                    + COLUMNS + ")",
          "postgresql": "CREATE TABLE IF NOT EXISTS events (id BIGSERIAL PRIMARY KEY, "
                        + COLUMNS + ")"}
INDEX = "CREATE INDEX IF NOT EXISTS events_source ON events (hall, device, direction, id)"
# A message repeats one already stored when it is byte for byte one of the last REPEAT_WINDOW
# from the same source: every payload carries its sender's 8-bit sequence number, so the same
# text from the same source can only be a new event once that number has come round again.
REPEAT_WINDOW = 255


def check_url(url):
    if not url.startswith(("sqlite://", "postgresql://", "postgres://")):
        raise CommandError("--db %s: expected sqlite:///PATH or postgresql://..." % url)


class Store:
    def __init__(self, url, readonly=False):
        # readonly: for reports, which must neither create a database nor change one.
        check_url(url)
        self.url = url
        self.recent = {}              # source -> (deque of digests, how often each is in it)
        if url.startswith("sqlite://"):
            path = url[len("sqlite:///"):]       # sqlite:///rel.db, sqlite:////abs.db
            try:
                if readonly:
                    self.db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
                else:
                    self.db = sqlite3.connect(path or ":memory:", check_same_thread=False)
            except sqlite3.Error as exc:
                raise CommandError("--db %s: %s" % (url, exc)) from None
            self.kind, mark = "sqlite", "?"
        else:
            try:
                import psycopg
            except ImportError:
                raise CommandError("--db %s: PostgreSQL needs psycopg (pip install psycopg)"
                                   % url) from None
            try:
                self.db = psycopg.connect(url)
            except Exception as exc:           # the driver's own error types
                raise CommandError("--db: cannot connect: %s" % exc) from None
            self.kind, mark = "postgresql", "%s"
        self.insert_sql = ("INSERT INTO events (digest, hall, device, direction, type, body, "
                           "received) VALUES (%s)" % ", ".join([mark] * 7))
        self.recent_sql = ("SELECT digest FROM events WHERE hall = %s AND device = %s AND "
                           "direction = %s ORDER BY id DESC LIMIT %d"
                           % (mark, mark, mark, REPEAT_WINDOW))
        if not readonly:
            try:
                self.db.execute(SCHEMA[self.kind])
                self.db.execute("SELECT id FROM events WHERE 1 = 0")
                self.db.execute(INDEX)
                self.db.commit()
            except Exception as exc:           # sqlite3's or psycopg's
                raise CommandError("--db %s: not a database of this version of hallctl "
                                   "collect (%s): move it aside or choose another"
                                   % (url, str(exc).splitlines()[0])) from None

    def _seen(self, source):
        # The digests of the source's last REPEAT_WINDOW events, read from the database the
        # first time the source is heard (so a restarted collector still knows them).
        if source not in self.recent:
            rows = self.db.execute(self.recent_sql, source).fetchall()
            ring = collections.deque((r[0] for r in reversed(rows)), maxlen=REPEAT_WINDOW)
            self.recent[source] = (ring, collections.Counter(ring))
        return self.recent[source]

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
        ring, counts = self._seen((hall, device, direction))
        if counts[digest]:
            return False                        # a retransmission of a recent event
        if len(ring) == ring.maxlen:
            counts[ring[0]] -= 1
        ring.append(digest)
        counts[digest] += 1
        self.db.execute(self.insert_sql, (digest, hall, device, direction, kind, body, received))
        return True

    def commit(self):
        self.db.commit()

    def count(self):
        return self.db.execute("SELECT count(*) FROM events").fetchone()[0]


class Collector:
    def __init__(self, host, port, db_url, client_id="qms-collect", user=None, password=None):
        import paho.mqtt.client as paho
        self.db_url = db_url
        self.store = None             # opened once the broker has answered (no database
        #                               is made by a collector that cannot connect)
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
        self.answer = None            # the broker's first CONNACK: None until it comes

    def _connected(self, client, userdata, flags, reason, properties=None):
        if self.answer is None:
            self.answer = reason
        if not reason.is_failure:
            client.subscribe([("qms/+/+/up/#", 1), ("qms/+/+/down/#", 1), ("qms/+/+/status", 1),
                              ("qms/+/hub/day", 1)])

    def start(self, wait_s=10):
        # The first connection is made here or the command fails, naming the broker and the
        # reason; afterwards paho reconnects by itself and the session catches up.
        where = "--mqtt %s:%d" % (self.host, self.port)
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise CommandError("%s: cannot connect: %s" % (where, exc.strerror or exc)) from None
        self.client.loop_start()
        deadline = time.monotonic() + wait_s
        while self.answer is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.answer is None or self.answer.is_failure:
            self.stop()
            raise CommandError("%s: the broker %s" % (where, "did not answer in %d s" % wait_s
                                                      if self.answer is None else
                                                      "refused: %s" % self.answer))
        try:
            self.store = Store(self.db_url)
        except CommandError:
            self.stop()
            raise

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
        if args.seconds is not None and not args.seconds > 0:
            raise CommandError("--seconds: expected a time above 0, got %g" % args.seconds)
        check_url(args.db)
        collector = Collector(host, port, args.db, user=args.user, password=password)
        collector.start()
        start = time.monotonic()
        end = None if args.seconds is None else start + args.seconds
        from hallpc.progress import bar
        try:
            with bar("collecting from %s" % args.mqtt, total=args.seconds) as show:
                while end is None or time.monotonic() < end:
                    if collector.pump():
                        show(time.monotonic() - start, "stored %d events (%d repeats) from %s"
                             % (collector.stored, collector.skipped, args.mqtt))
                    elif end is not None:
                        show(time.monotonic() - start)
        except KeyboardInterrupt:
            pass                                # Ctrl-C is how a running collector stops
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
