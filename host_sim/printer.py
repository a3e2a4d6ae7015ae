# A virtual ESC/POS printer that behaves as a real one does where it matters: DLE EOT is
# answered at once, even with a ticket still in the buffer; the data prints at the head's
# speed; GS r 1 and GS ( H are answered only once everything before them has printed; paper
# that runs out mid-ticket stops the printing, and the rest waits in the buffer. Portable: the
# tests run it under MicroPython too; the simulators drive it with their clocks.
BYTES_PER_MS = 1          # about 1 KB a second: a ticket takes a few hundred ms


class VirtualPrinter:
    def __init__(self, paper=None, low=False):
        # paper: bytes it can still print before the roll ends (None: plenty). low: the
        # near-end sensor is on.
        self.paper = paper
        self.low = low
        self.cover_open = False
        self.buffer = bytearray()       # received, not yet printed
        self.replies = bytearray()      # for the host to read
        self.printed = bytearray()
        self.at = None                  # (ms) up to when printing has been done
        self.noise = b""                # sent unasked before every reply (automatic status...)

    def out_of_paper(self):
        return self.paper is not None and self.paper <= 0

    def write(self, data, now):
        self.run(now)
        data = bytes(data)
        i = 0
        while i < len(data):
            if data[i] == 0x10 and i + 2 < len(data) and data[i + 1] == 0x04:
                self._reply(bytes((self._realtime(data[i + 2]),)))   # at once
                i += 3
            elif data[i:i + 3] == b"\x10\x14\x08" and i + 9 < len(data):
                self.buffer = bytearray()            # DLE DC4 8: buffers cleared, at once
                i += 10
            else:
                self.buffer.append(data[i])
                i += 1
        if self.at is None:
            self.at = now

    def _realtime(self, n):
        if n == 4:                                   # paper sensors
            return 0x72 if self.out_of_paper() else (0x1E if self.low else 0x12)
        state = 0x12                                 # n == 2: offline causes
        if self.cover_open:
            state |= 0x04
        if self.out_of_paper():
            state |= 0x20                            # stopped at paper end
        return state

    def _reply(self, data):
        self.replies.extend(self.noise)
        self.replies.extend(data)

    def run(self, now):
        # Print what the time since the last call allows; answer the commands reached.
        if self.at is None:
            return
        budget = (now - self.at) * BYTES_PER_MS
        self.at = now
        buf = self.buffer
        i = 0
        while i < len(buf) and budget > 0 and not self.out_of_paper() and not self.cover_open:
            if buf[i] == 0x1D and buf[i + 1:i + 3] == b"\x72\x01":
                self._reply(bytes((0x03 if self.low else 0x00,)))
                i += 3
            elif buf[i] == 0x1D and buf[i + 1:i + 7] == b"\x28\x48\x06\x00\x30\x30" \
                    and len(buf) >= i + 11:
                self._reply(b"\x37\x22" + bytes(buf[i + 7:i + 11]) + b"\x00")
                i += 11
            else:
                self.printed.append(buf[i])
                if self.paper is not None:
                    self.paper -= 1
                i += 1
                budget -= 1
        self.buffer = buf[i:]

    def read(self, now):
        self.run(now)
        out = bytes(self.replies)
        self.replies = bytearray()
        return out

    def busy(self):
        return bool(self.buffer) and not self.out_of_paper() and not self.cover_open
