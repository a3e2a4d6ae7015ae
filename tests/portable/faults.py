# The hub's fault suite, shared by the tests (CPython and MicroPython) and tools/bench.py faults:
# a realistic morning journalled, every kind of damage to that journal, storage that fills up,
# and the checks that nothing acknowledged was lost and no ticket number given out twice.
from firmware.routing import journal as jr
from firmware.routing.core import RoutingCore
from protocol.codes import OK, PRIORITY
from hall import at, config

ENOSPC = 28


def morning(storage, tickets=40, compact_at=None):
    # A morning of `tickets` citizens at two windows: issued (one in eight priority), called,
    # served, rated, some held and called back, timers ticking. Returns (core, acked), acked
    # being every ticket a dispenser was given, as (service, number).
    core = RoutingCore(config(), storage, at("08:30"))
    t = at("08:30")
    for w in (1, 2):
        core.window_open(t, w, device="caller-%d" % w, req=1)
        core.login(t, w, "S%d" % w, device="caller-%d" % w, req=2)
    acked = []
    req = {1: 2, 2: 2}
    for k in range(tickets):
        t = at("09:00") + 90 * k
        core.out = []
        if core.issue(t, "AB"[k % 3 == 0], kind=PRIORITY if k % 8 == 5 else 0, device="disp-1",
                      req=100 + k) == OK:
            acked += [(o[1], o[2]) for o in core.out if o[0] == "issued"]
        if compact_at is not None and k == compact_at:
            core.compact()
        if k % 2:
            w = 1 + (k // 2) % 2
            req[w] += 4
            dev = "caller-%d" % w
            if core.call_next(t + 10, w, device=dev, req=req[w]) == OK:
                if k % 7 == 3:
                    core.hold(t + 20, w, device=dev, req=req[w] + 1)
                else:
                    core.start(t + 30, w, device=dev, req=req[w] + 1)
                    core.finish(t + 170, w, device=dev, req=req[w] + 2)
                    core.rate(t + 175, w, core.ticket_name(*core.last_done[w - 1][:2]),
                              1 + k % 3, (), "eval-%d" % w)
        if k % 5 == 0:
            core.tick(t + 600)
    core.out = []
    return core, acked


def layout(data):
    # [(start, end)] of each record of an undamaged journal.
    out = []
    at_ = 0
    while at_ + jr.HEADER <= len(data):
        n = (data[at_ + 2] << 8) | data[at_ + 3]
        end = at_ + n + jr.OVERHEAD - 1
        out.append((at_, end))
        at_ = end
    return out


def waiting_tickets(core):
    # Every ticket the core holds as waiting (queues, appointments, transfers, on hold).
    out = set()
    for q in range(core.queues.count):
        for number, issued, estimate in core.queues.entries(q):
            out.add((q // 2, number))
    for entry in core.appointments:
        out.add((entry[1], entry[2]))
    for entry in core.transfers:
        out.add((entry[1], entry[2]))
    for entry in core.held:
        out.add((entry[1], entry[2]))
    return out


def only_issued(data, spans):
    # Tickets whose one record in the journal is their issue: (service, number) -> record span.
    mentioned = {}
    issued = {}
    for start, end in spans:
        kind = data[start + 8]
        if kind != jr.KIND_OP:
            continue
        value = jr.unpack(data[start + jr.HEADER:end - 2])[0]
        op = value[0]
        if op == 0 and value[5]:              # (op, now, prefix, kind, slot, number, estimate...)
            s = config().service(value[2])
            issued[(s, value[5])] = (start, end)
        elif op == 1 and value[3] is not None:
            mentioned[tuple(value[3])] = True
        elif op in (2, 8, 10):
            mentioned[value[3] if op != 10 else value[2]] = True
    return issued, mentioned


class Checker:
    # The truth about one journalled morning, against which each damaged copy is recovered.
    def __init__(self, tickets=40, compact_at=None):
        storage = jr.MemoryStorage()
        self.core, self.acked = morning(storage, tickets, compact_at)
        self.storage = storage
        self.data = bytes(storage.data)
        self.prev = storage.prev
        self.spans = layout(self.data)
        self.top = {}
        for s, number in self.acked:
            self.top[s] = max(self.top.get(s, 0), number)
        issued, mentioned = only_issued(self.data, self.spans)
        waiting = waiting_tickets(self.core)
        cfg = config()
        self.still_waiting = {}
        for ticket, span in issued.items():
            name = cfg.services[ticket[0]][0] + "%03d" % ticket[1]
            if ticket in waiting and ticket not in mentioned and name not in mentioned:
                self.still_waiting[ticket] = span
        self.ever_issued = set(self.acked)
        self.tried = self.acked_lost = self.reused = self.unreported = 0
        self.problems = []

    def check(self, damaged, ruined, what):
        # Recover from `damaged` (bytes) whose bytes in range(*ruined) differ from the truth.
        self.tried += 1
        storage = jr.MemoryStorage(damaged, self.prev)
        core = RoutingCore.recover(self.core.cfg, storage, at("12:00"))
        lost = [t for t, span in self.still_waiting.items()
                if (span[1] <= ruined[0] or span[0] >= ruined[1]) and t not in waiting_tickets(core)]
        ghosts = waiting_tickets(core) - self.ever_issued
        reused = [s for s in self.top if core.next_number[s] < self.top[s]]
        d = core.damage()
        if lost or ghosts:
            self.acked_lost += len(lost) + len(ghosts)
            self.problems.append((what, "lost %s ghosts %s" % (lost, sorted(ghosts))))
        if reused:
            self.reused += len(reused)
            self.problems.append((what, "numbers reused for %s" % reused))
        if d["lost"] == 0 and not d["from_previous"] and damaged != self.data:
            self.unreported += 1
            self.problems.append((what, "damage not reported"))
        if storage.data != bytearray(damaged) and not storage.aside:
            self.problems.append((what, "recovery changed the damaged file in place"))
        return core


def damages(data, spans, every=1, bits=(0,), each=False):
    # (damaged bytes, ruined byte range, description) for: each byte flipped (one bit, cycling
    # through `bits`, or with each=True every bit of `bits` in turn), each record's length
    # field, CRC and magic hit, records zeroed, garbage inside and after.
    for i in range(0, len(data), every):
        for bit in (bits if each else (bits[(i // every) % len(bits)],)):
            out = bytearray(data)
            out[i] ^= 1 << bit
            yield bytes(out), (i, i + 1), "bit %d of byte %d" % (bit, i)
    for start, end in spans:
        for offset, value in ((2, 0xFF), (3, 0x00), (0, 0x00), (end - start - 1, 0x55)):
            out = bytearray(data)
            out[start + offset] = value if out[start + offset] != value else value ^ 1
            yield bytes(out), (start, end), "byte %d of the record at %d" % (offset, start)
    for start, end in spans[::max(1, len(spans) // 8)]:
        out = bytearray(data)
        out[start:end] = b"\x00" * (end - start)
        yield bytes(out), (start, end), "record at %d zeroed" % start
        out = bytearray(data)
        yield bytes(out[:start] + b"garbage!" + out[start:]), (start, start + 1), \
            "garbage before the record at %d" % start
    yield data + b"\xff" * 64, (len(data), len(data) + 64), "erased flash after the end"
    yield data + b"QJ\x00\x02junkjunkjunk", (len(data), len(data) + 14), "garbage after the end"


class _ReadOnly:
    # A storage as recovery sees it on a full disk: readable, and no room to write.
    def __init__(self, inner):
        self.inner = inner

    def chunks(self, size=512):
        return self.inner.chunks(size)

    def previous(self):
        return self.inner.previous()

    def size(self):
        return self.inner.size()

    def append(self, chunk):
        raise OSError(ENOSPC, "No space left on device")

    def replace(self, chunks, aside=False):
        raise OSError(ENOSPC, "No space left on device")


class FullDisk(_ReadOnly):
    # A storage that fills up: write number `at` (from 0) writes `partial` bytes and fails with
    # ENOSPC, and every write after it fails too until `heal` more writes were tried (None:
    # never). replace() fails while the disk is full. What it holds is a MemoryStorage's.
    def __init__(self, at, partial, heal=None):
        _ReadOnly.__init__(self, jr.MemoryStorage())
        self.at = at
        self.partial = partial
        self.heal = heal
        self.writes = 0
        self.failed = 0

    def full(self):
        return self.writes > self.at and (self.heal is None or self.failed <= self.heal)

    def append(self, chunk):
        k = self.writes
        self.writes += 1
        if k == self.at:
            self.failed += 1
            self.inner.append(chunk[:min(self.partial, len(chunk) - 1)])   # (ENOSPC: short)
            raise OSError(ENOSPC, "No space left on device")
        if self.full():
            self.failed += 1
            raise OSError(ENOSPC, "No space left on device")
        self.inner.append(chunk)

    def replace(self, chunks, aside=False):
        if self.full():
            _ReadOnly.replace(self, chunks, aside)
        self.inner.replace(chunks, aside)


def disk_full_day(at_write, partial, heal=None, tickets=24):
    # A morning on a disk that fills at `at_write`. Returns a list of problems (empty: none):
    # after every operation a power cut must bring back exactly what the hub had acknowledged.
    disk = FullDisk(at_write, partial, heal)
    problems = []
    cfg = config()
    core = RoutingCore(cfg, disk, at("08:30"))
    ops = _day_ops(tickets)
    refused = 0
    for k, op in enumerate(ops):
        core.out = []
        op(core)
        for o in core.out:
            refused += o[0] == "refused" and o[2] == 9
        if not at_write - 2 <= disk.writes <= at_write + 8 and k < len(ops) - 1:
            continue
        # a power cut now: the journal must hold exactly what the hub has (and so acknowledged)
        again = RoutingCore.recover(cfg, _ReadOnly(disk.inner), at("12:00"))
        if again.fingerprint() != core.fingerprint():
            problems.append("disk full at write %d (%d bytes of it written): after operation %d "
                            "the journal does not hold what the hub acknowledged"
                            % (at_write, partial, k))
            break
    return problems, refused, disk.writes


def _day_ops(tickets):
    ops = []
    t0 = at("08:30")
    for w in (1, 2):
        ops.append(lambda c, w=w: c.window_open(t0, w, device="caller-%d" % w, req=1))
        ops.append(lambda c, w=w: c.login(t0, w, "S%d" % w, device="caller-%d" % w, req=2))
    for k in range(tickets):
        t = at("09:00") + 120 * k
        ops.append(lambda c, t=t, k=k: c.issue(t, "AB"[k % 3 == 0], device="disp-1", req=10 + k))
        if k % 2:
            w = 1 + (k // 2) % 2
            r = 10 + 3 * k
            dev = "caller-%d" % w
            ops.append(lambda c, t=t, w=w, r=r, dev=dev: c.call_next(t + 10, w, device=dev, req=r))
            ops.append(lambda c, t=t, w=w, r=r, dev=dev: c.start(t + 30, w, device=dev, req=r + 1))
            ops.append(lambda c, t=t, w=w, r=r, dev=dev: c.finish(t + 110, w, device=dev, req=r + 2))
        ops.append(lambda c, t=t: c.tick(t + 115))
    ops.append(lambda c: c.tick(at("11:30")))         # wait-too-long alerts: a tick that changes
    return ops
