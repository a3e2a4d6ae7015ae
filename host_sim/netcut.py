"""A TCP tap on loopback between devices and a broker, whose network can fail the two ways a
hall's Wi-Fi does (for tests and tools/bench.py):

- cut(s): the access point is down. Open connections are dropped and new ones refused.
- silence(s): the access point reboots. Nothing passes, and there is no reset either.
  The connections open when it began stay dead after it ends, half-open, as TCP is left by a
  rebooted access point. Only new connections work again. A device has to find that out on
  its own (keepalive) and connect again.

    tap = CutProxy(broker_port)       # devices connect to tap.port
    tap.silence(30)
"""
import select
import socket
import threading
import time


class CutProxy:
    def __init__(self, port, host="127.0.0.1"):
        self.target = (host, port)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(128)
        self.port = self.server.getsockname()[1]
        self.cut_until = 0.0
        self.silent_until = 0.0
        self.pairs = []                 # [device side, broker side, alive]
        self.orphans = []               # device sides of dead links the broker has closed
        self.accepted = 0
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def cut(self, seconds):
        with self.lock:
            self.cut_until = time.monotonic() + seconds
            for a, b, _ in self.pairs:
                a.close()
                b.close()
            self.pairs = []

    def silence(self, seconds):
        with self.lock:
            self.silent_until = time.monotonic() + seconds
            for pair in self.pairs:
                pair[2] = False         # half-open from now on, whatever comes later

    def restored_at(self):
        # When the network is (or was) back.
        return max(self.cut_until, self.silent_until)

    def _serve(self):
        while self.running:
            with self.lock:
                socks = [self.server] + self.orphans + \
                    [s for pair in self.pairs for s in pair[:2]]
            try:
                ready, _, _ = select.select(socks, [], [], 0.05)
            except (OSError, ValueError):
                continue
            with self.lock:
                for s in ready:
                    if s is self.server:
                        self._accept()
                    elif s in self.orphans:
                        self._swallow(s)
                    else:
                        self._relay(s)

    def _accept(self):
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        if time.monotonic() < self.cut_until:
            conn.close()
            return
        try:
            up = socket.create_connection(self.target, 2)
        except OSError:
            conn.close()
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.accepted += 1
        self.pairs.append([conn, up, time.monotonic() >= self.silent_until])

    def _relay(self, s):
        for pair in self.pairs:
            a, b, alive = pair
            if s is not a and s is not b:
                continue
            other = b if s is a else a
            try:
                data = s.recv(65536)
                if data:
                    if alive and time.monotonic() >= self.silent_until:
                        other.sendall(data)
                    return              # (while silent, or dead: swallowed)
            except OSError:
                pass
            self.pairs.remove(pair)
            if not alive and s is b:    # the broker gave up on it; the device hears nothing
                b.close()
                self.orphans.append(a)
                return
            a.close()
            b.close()
            return

    def _swallow(self, s):
        try:
            if s.recv(65536):
                return
        except OSError:
            pass
        s.close()
        self.orphans.remove(s)

    def close(self):
        self.running = False
        self.thread.join(1)
        with self.lock:
            for a, b, _ in self.pairs:
                a.close()
                b.close()
            for a in self.orphans:
                a.close()
            self.pairs = []
            self.orphans = []
        self.server.close()
