# ESC/POS thermal printer driver, sans-IO: builds the bytes of a ticket and parses the
# printer's real-time status replies. Chinese printers take GB18030 (GBK) text; MicroPython
# has no codec for it, so every Chinese text a dispenser prints is encoded when the device is
# provisioned (hallctl provision) and arrives here as bytes. Digits and ASCII are the same in
# GB18030, so ticket numbers and times are written directly.

INIT = b"\x1b\x40"                 # ESC @
CHINESE_ON = b"\x1c\x26"           # FS &: two-byte (GB18030/GBK) characters
CENTER = b"\x1b\x61\x01"           # ESC a 1
LEFT = b"\x1b\x61\x00"
BOLD_ON = b"\x1b\x45\x01"          # ESC E
BOLD_OFF = b"\x1b\x45\x00"
NORMAL = b"\x1d\x21\x00"           # GS ! n: character size
DOUBLE = b"\x1d\x21\x11"
HUGE = b"\x1d\x21\x33"             # 4x wide and tall: the ticket number
CUT = b"\x1b\x64\x04\x1d\x56\x42\x00"   # feed 4 lines, partial cut (GS V 66 0)

# Real-time status requests (DLE EOT n) and what their replies mean.
QUERY_OFFLINE = b"\x10\x04\x02"    # reply bit 2: cover open, 5: stopped at paper end, 6: error
QUERY_PAPER = b"\x10\x04\x04"      # reply bits 2-3: paper near end, bits 5-6: paper end

# Asking whether what was sent before has printed: both are answered only once everything in
# front of them is printed (DLE EOT is answered at once, while the ticket is still in the
# printer's buffer). Which one a printer has is the board's uarts.printer.confirm.
QUERY_PRINTED = b"\x1d\x72\x01"   # GS r 1: the paper sensor status, after printing
# DLE DC4 fn 8: clear the buffers (real-time), so that a ticket that failed half way is not
# finished on fresh paper after it was voided.
CLEAR_BUFFER = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"


def query_printed_id(ident):
    # GS ( H fn 48: a process ID response (37 22 d1 d2 d3 d4 00) once the data before it printed.
    return b"\x1d\x28\x48\x06\x00\x30\x30" + ("%04d" % (ident % 10000)).encode()


from protocol.codes import PRINTER_OK as OK, PRINTER_PAPER_LOW as PAPER_LOW, \
    PRINTER_PAPER_OUT as PAPER_OUT, PRINTER_FAULT as FAULT   # status.printer


def paper_state(reply):
    # A DLE EOT 4 reply byte -> OK / PAPER_LOW / PAPER_OUT.
    if reply & 0x60:
        return PAPER_OUT
    if reply & 0x0C:
        return PAPER_LOW
    return OK


def offline_state(reply):
    # A DLE EOT 2 reply byte -> OK, PAPER_OUT (stopped at paper end) or FAULT (cover, error).
    if reply & 0x20:
        return PAPER_OUT
    if reply & 0x44:
        return FAULT
    return OK


def printed_state(reply):
    # A GS r 1 reply byte -> OK / PAPER_LOW / PAPER_OUT.
    if reply & 0x0C:
        return PAPER_OUT
    if reply & 0x03:
        return PAPER_LOW
    return OK


REALTIME = 1      # a DLE EOT reply (value: the byte)
SENSOR = 2        # a GS r 1 reply (value: the byte)
PROCESS_ID = 3    # a GS ( H process ID response (value: its four digits as a number)


class StatusReader:
    # Sorts the bytes a printer sends by their fixed bits, so that nothing unasked for can be
    # taken for an answer: DLE EOT replies (0xx1 xx10), GS r replies (0xx0 xxxx), process ID
    # responses (37 22 d1 d2 d3 d4 00). Automatic status back blocks (4 bytes, the first
    # 0xx1 xx00), XON / XOFF flow control and anything else are counted and skipped.
    def __init__(self):
        self.replies = []            # (kind, value), oldest first
        self.unsolicited = 0
        self._pid = None             # a process ID response being read
        self._skip = 0               # bytes of an automatic status block still to come

    def feed(self, data):
        for b in data:
            pid = self._pid
            if pid is not None:
                pid.append(b)
                if len(pid) == 7:
                    self._pid = None
                    digits = bytes(pid[2:6])
                    if pid[1] == 0x22 and pid[6] == 0 and digits.isdigit():
                        self.replies.append((PROCESS_ID, int(digits)))
                    else:
                        self.unsolicited += 1
            elif self._skip:
                self._skip -= 1
            elif b == 0x37:
                self._pid = bytearray((b,))
            elif b == 0x11 or b == 0x13:
                pass                                   # XON / XOFF
            elif b & 0x93 == 0x12:
                self.replies.append((REALTIME, b))
            elif b & 0x93 == 0x10:
                self._skip = 3
                self.unsolicited += 1
            elif b & 0x90 == 0:
                self.replies.append((SENSOR, b))
            else:
                self.unsolicited += 1

    def take(self):
        out = self.replies
        self.replies = []
        return out


def qr(data, size=6):
    # GS ( k: QR model 2, module size, error correction M, store the data, print it.
    raw = data.encode() if isinstance(data, str) else bytes(data)
    n = len(raw) + 3
    return (b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"
            + b"\x1d\x28\x6b\x03\x00\x31\x43" + bytes((size,))
            + b"\x1d\x28\x6b\x03\x00\x31\x45\x31"
            + b"\x1d\x28\x6b" + bytes((n & 0xFF, n >> 8)) + b"\x31\x50\x30" + raw
            + b"\x1d\x28\x6b\x03\x00\x31\x51\x30")


def ticket(texts, service, number, ahead, wait_min, wait_max, clock, qr_data):
    # The bytes of one ticket. texts: the provisioned GB18030 texts (bytes) with keys
    # "hall", "ahead", "wait", "minutes", "time", and per service "name" and "materials".
    svc = texts["services"].get(service, {})
    out = bytearray(INIT + CHINESE_ON + CENTER)
    out += BOLD_ON + DOUBLE + texts["hall"] + b"\n" + BOLD_OFF
    out += NORMAL + svc.get("name", service.encode()) + b"\n"
    out += HUGE + number.encode() + b"\n" + NORMAL
    out += texts["ahead"] + b" " + str(ahead).encode() + b"\n"
    out += texts["wait"] + (" %d-%d " % (wait_min, wait_max)).encode() + texts["minutes"] + b"\n"
    out += texts["time"] + b" " + clock.encode() + b"\n"
    materials = svc.get("materials", ())
    if materials:
        out += LEFT + texts["materials"] + b"\n"
        for k, item in enumerate(materials):
            out += ("%d. " % (k + 1)).encode() + item + b"\n"
        out += CENTER
    out += qr(qr_data)
    out += CUT
    return bytes(out)
