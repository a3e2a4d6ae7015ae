# Ticket dispenser role: a service key asks the hub for a ticket; the issued ticket is printed
# on the ESC/POS printer, and counts as printed only when the printer confirms it has printed
# it; the result goes back to the hub, so a ticket that did not print is voided or reprinted
# there, never silently lost. Sans-IO: methods take the time (ms ticks) and append actions:
#   ("send", message dict)          to the hub (must-deliver ones through the link)
#   ("print", bytes)                to the printer UART
#   ("query", bytes)                a status request to the printer UART; what the printer
#                                   sends back goes to printer_bytes()
#   ("show", what, detail)          the status LED / display: ready, wait, out_of_paper,
#                                   printer_fault, refused (detail: reason), offline
#   ("status",)                     the printer state changed: send a status message now
from firmware.clock import local_date, local_text
from firmware.drivers import escpos
from protocol.codes import PRINT_PAPER_OUT, PRINT_FAULT
from protocol.ticks import ticks_add, ticks_diff

_KINDS = {"ordinary": 0, "priority": 1, "appointment": 2}


class DispenserRole:
    PRINTER_TIMEOUT_MS = 3000     # no real-time status reply this long: a fault
    CONFIRM_TIMEOUT_MS = 15000    # printed, but no confirmation this long: not printed
    POLL_PRINTING_MS = 500        # real-time status checks while a ticket prints
    PAPER_CHECK_MS = 30000        # idle paper-sensor checks
    REQUEST_TIMEOUT_MS = 10000    # no answer from the hub: show offline

    def __init__(self, config, texts, now, first_req=1):
        self.keys = config["service_keys"]
        self.hall = config["hall"]
        self.texts = texts
        self.tz_offset_s = 8 * 3600
        self.out = []
        self.req = first_req & 0xFFFF
        self.pending = None           # (req, sent at, offline shown) while a ticket is asked for
        self.job = None               # (ticket name, step) while a print is being checked
        self.job_at = 0
        self.printer = escpos.OK
        self.next_paper_check = ticks_add(now, self.PAPER_CHECK_MS)
        self.printed = 0
        # How this printer confirms that a ticket has printed (the board's
        # uarts.printer.confirm, copied into the config at provisioning): "gs_h", "gs_r", or
        # "none" (a printer with neither: real-time status only, which answers while the
        # ticket is still in the printer's buffer, so paper that ends mid-ticket goes unseen).
        self.confirm = (config.get("printer") or {}).get("confirm", "none")
        self.reader = escpos.StatusReader()
        self.asked = []               # real-time queries sent and not yet answered, oldest first
        self.ident = 0                # the last process ID asked for
        self.next_poll = 0

    def key(self, index, now):
        if index >= len(self.keys):
            return
        if self.printer in (escpos.PAPER_OUT, escpos.FAULT):
            self.out.append(("show", "out_of_paper" if self.printer == escpos.PAPER_OUT
                             else "printer_fault", 0))
            return
        if self.pending is not None or self.job is not None:
            self.out.append(("show", "wait", 0))      # one ticket at a time
            return
        entry = self.keys[index]
        self.req = (self.req + 1) & 0xFFFF
        self.pending = (self.req, now, False)
        self.out.append(("send", {"type": "ticket_request", "req": self.req,
                                  "service": entry["service"],
                                  "kind": _KINDS[entry.get("kind", "ordinary")], "booking": ""}))
        self.out.append(("show", "wait", 0))

    def message(self, msg, now, src=0):
        kind = msg["type"]
        if kind == "time_sync":
            self.tz_offset_s = msg["tz_min"] * 60
        elif kind == "ticket_issued" and self.pending and msg["req"] == self.pending[0]:
            self.pending = None
            self._print(msg, now)
        elif kind == "ticket_refused" and self.pending and msg["req"] == self.pending[0]:
            self.pending = None
            self.out.append(("show", "refused", msg["reason"]))

    def _print(self, msg, now):
        clock = local_text(msg["issued"], self.tz_offset_s)
        qr_data = "QMS1|%s|%s|%s" % (self.hall, local_date(msg["issued"], self.tz_offset_s),
                                     msg["ticket"])
        data = escpos.ticket(self.texts, msg["service"], msg["ticket"], msg["ahead"],
                             msg["wait_min"] // 60, (msg["wait_max"] + 59) // 60, clock, qr_data)
        # steps: 0 sent, real-time check asked; 1 printing, confirmation asked; 2 paper check
        self.job = (msg["ticket"], 0)
        self.job_at = now
        self.out.append(("print", data))
        self._ask(escpos.QUERY_OFFLINE)

    def _ask(self, query):
        if query[:2] == b"\x10\x04":        # DLE EOT: answered at once, matched in order
            self.asked.append(query)
        self.out.append(("query", query))

    def printer_bytes(self, data, now):
        # What the printer sent. Answers are told apart by their fixed bits and matched to
        # what was asked; anything else (automatic status, flow control) is skipped.
        self.reader.feed(data)
        for kind, value in self.reader.take():
            if kind == escpos.REALTIME:
                if self.asked:
                    self.printer_reply(self.asked[0], value, now)
                else:
                    self.reader.unsolicited += 1
            elif self.job is not None and self.job[1] == 1 and (
                    (kind == escpos.SENSOR and self.confirm == "gs_r") or
                    (kind == escpos.PROCESS_ID and value == self.ident)):
                self._confirmed(kind, value)
            else:
                self.reader.unsolicited += 1

    def printer_reply(self, query, reply, now):
        # The one-byte answer to a DLE EOT query.
        if query in self.asked:
            self.asked.remove(query)
        if query == escpos.QUERY_PAPER:
            self._set_printer(escpos.paper_state(reply))
            if self.job is not None and self.job[1] == 2:
                self._done(0)                  # confirmed printed; the paper state is known
            return
        state = escpos.offline_state(reply)
        if self.job is None:
            if state != escpos.OK:
                self._set_printer(state)
            return
        if state != escpos.OK:                 # stopped (at paper end, cover open): not printed
            self._set_printer(state)
            self._done(PRINT_PAPER_OUT if state == escpos.PAPER_OUT else PRINT_FAULT)
        elif self.job[1] == 0:
            if self.confirm == "none":         # nothing better to ask: take it as printed
                self._paper_check()
            else:
                self.job = (self.job[0], 1)
                self.job_at = now
                self.next_poll = ticks_add(now, self.POLL_PRINTING_MS)
                if self.confirm == "gs_h":
                    self.ident = (self.ident + 1) % 10000
                    self._ask(escpos.query_printed_id(self.ident))
                else:
                    self._ask(escpos.QUERY_PRINTED)

    def _confirmed(self, kind, value):
        if kind == escpos.SENSOR:              # GS r 1: printed, and the paper state with it
            self._set_printer(escpos.printed_state(value))
            self._done(0)
        else:
            self._paper_check()

    def _paper_check(self):
        self.job = (self.job[0], 2)
        self._ask(escpos.QUERY_PAPER)

    def _done(self, result):
        # result: protocol codes.PRINT_RESULTS (0 ok, 1 paper out, 2 fault, 3 timeout)
        ticket = self.job[0]
        self.job = None
        if result == 0:
            self.printed += 1
        else:                                  # voided: the rest must never print
            self.out.append(("query", escpos.CLEAR_BUFFER))
        self.out.append(("send", {"type": "print_result", "ticket": ticket, "result": result}))
        self.out.append(("show", "ready" if result == 0 else
                         ("out_of_paper" if result == 1 else "printer_fault"), 0))

    def _set_printer(self, state):
        if state != self.printer:
            self.printer = state
            self.out.append(("status",))

    def hub_lost(self, now):
        self.out.append(("show", "offline", 0))

    def hub_back(self, now):
        self.out.append(("show", "ready", 0))

    def gave_up(self, msg, now):
        # The link could not deliver a message to the hub; the node sends it again when the
        # hub is back, and the request stays pending so its ticket is printed then.
        if msg.get("type") == "ticket_request":
            self.out.append(("show", "offline", 0))

    def _limit(self):
        return self.CONFIRM_TIMEOUT_MS if self.job[1] == 1 else self.PRINTER_TIMEOUT_MS

    def next_wake(self, now):
        # Milliseconds until tick() has something to do.
        if self.job is not None:
            wait = ticks_diff(ticks_add(self.job_at, self._limit()), now)
            if self.job[1] == 1:
                wait = min(wait, ticks_diff(self.next_poll, now))
            return wait
        wait = ticks_diff(self.next_paper_check, now)
        if self.pending is not None and not self.pending[2]:
            pending = ticks_diff(ticks_add(self.pending[1], self.REQUEST_TIMEOUT_MS), now)
            if pending < wait:
                wait = pending
        return wait

    def tick(self, now):
        if self.job is not None and ticks_diff(now, self.job_at) >= self._limit():
            self._set_printer(escpos.FAULT)   # no answer, or no confirmation: not printed
            self.asked = []
            self._done(3)
        elif self.job is not None and self.job[1] == 1 and ticks_diff(now, self.next_poll) >= 0:
            self.next_poll = ticks_add(now, self.POLL_PRINTING_MS)
            if not self.asked:                # has it stopped? (paper end mid-ticket)
                self._ask(escpos.QUERY_OFFLINE)
        if self.pending is not None and not self.pending[2] and \
                ticks_diff(now, self.pending[1]) >= self.REQUEST_TIMEOUT_MS:
            self.pending = (self.pending[0], self.pending[1], True)   # said; still waiting
            self.out.append(("show", "offline", 0))
        if self.job is None and ticks_diff(now, self.next_paper_check) >= 0:
            self.next_paper_check = ticks_add(now, self.PAPER_CHECK_MS)
            if self.asked:                    # the last check went unanswered: unplugged?
                self.asked = []
                self._set_printer(escpos.FAULT)
            self._ask(escpos.QUERY_PAPER)
