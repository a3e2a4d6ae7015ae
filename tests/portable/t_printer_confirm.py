# A ticket counts as printed only when the printer has printed it: against a virtual printer
# that answers DLE EOT at once, prints at its head's speed, and confirms (GS ( H, GS r) only
# after printing, a paper end in the middle of a ticket is caught, and bytes the printer sends
# unasked are never taken for an answer. Both runtimes.
from firmware.drivers import escpos
from firmware.roles.dispenser import DispenserRole
from firmware.texts import printer_texts
from host_sim.printer import VirtualPrinter
from t_dispenser import CONFIG, TEXTS, issued


def dispenser(confirm):
    config = dict(CONFIG)
    config["printer"] = {"confirm": confirm}
    return DispenserRole(config, printer_texts(TEXTS), now=0, first_req=100)


def run(role, printer, start, ms):
    # The runtime's part: actions to the printer, its bytes back to the role. 5 ms a pass.
    sent = []
    t = start
    while t < start + ms:
        role.tick(t)
        for action in role.out:
            if action[0] in ("print", "query"):
                printer.write(action[1], t)
            elif action[0] == "send":
                sent.append(action[1])
        role.out = []
        data = printer.read(t)
        if data:
            role.printer_bytes(data, t)
        t += 5
    return sent


def one_ticket(confirm, printer):
    role = dispenser(confirm)
    role.key(0, 0)
    role.out = []
    role.message(issued(101), 10)
    sent = run(role, printer, 10, 20000)
    return role, [m for m in sent if m["type"] == "print_result"]


def test_printed_is_reported_only_after_the_printer_confirms_it():
    for confirm in ("gs_h", "gs_r"):
        printer = VirtualPrinter()
        role, results = one_ticket(confirm, printer)
        assert results == [{"type": "print_result", "ticket": "A012", "result": 0}], confirm
        assert printer.printed.find(b"A012") >= 0 and not printer.buffer
        assert role.printed == 1 and role.printer == escpos.OK


def test_paper_that_ends_in_the_middle_of_a_ticket_is_caught():
    for confirm in ("gs_h", "gs_r"):
        printer = VirtualPrinter(paper=120)           # the roll ends a few lines in
        role, results = one_ticket(confirm, printer)
        assert results == [{"type": "print_result", "ticket": "A012", "result": 1}], confirm
        assert role.printer == escpos.PAPER_OUT and role.printed == 0


def test_without_a_confirming_command_a_paper_end_mid_ticket_goes_unseen():
    # (why the board must say which command its printer has: DLE EOT answers at once)
    printer = VirtualPrinter(paper=120)
    role, results = one_ticket("none", printer)
    assert results == [{"type": "print_result", "ticket": "A012", "result": 0}]


def test_a_printer_that_never_confirms_leaves_the_ticket_not_printed():
    printer = VirtualPrinter()
    printer.run = lambda now: None                    # it never gets round to printing
    role, results = one_ticket("gs_h", printer)
    assert results == [{"type": "print_result", "ticket": "A012", "result": 3}]


def test_bytes_the_printer_sends_unasked_are_not_taken_for_answers():
    # Automatic status back blocks, XON / XOFF and junk before every reply.
    for noise in (b"\x10\x00\x00\x00", b"\x11\x13", b"\x37\x22\x39\x39\x39\x39\x00", b"\xff\x80"):
        for confirm in ("gs_h", "gs_r", "none"):
            printer = VirtualPrinter()
            printer.noise = noise
            role, results = one_ticket(confirm, printer)
            assert results == [{"type": "print_result", "ticket": "A012", "result": 0}], \
                (noise, confirm)
            assert role.reader.unsolicited > 0 or noise == b"\x11\x13"   # (flow control)
        printer = VirtualPrinter(paper=120)
        printer.noise = noise
        role, results = one_ticket("gs_h", printer)
        assert results[0]["result"] == 1, noise


def test_the_status_reader_sorts_by_fixed_bits():
    reader = escpos.StatusReader()
    reader.feed(b"\x12\x10\x01\x02\x03\x00\x37\x22\x30\x30\x30\x37\x00\x11\x72\x1e\xf0")
    assert reader.take() == [(escpos.REALTIME, 0x12), (escpos.SENSOR, 0x00),
                             (escpos.PROCESS_ID, 7), (escpos.REALTIME, 0x72),
                             (escpos.REALTIME, 0x1E)]
    assert reader.unsolicited == 2                   # the status block and 0xF0


def test_a_printer_that_stops_answering_is_a_fault_and_nothing_piles_up():
    role = dispenser("gs_h")
    for k in range(1, 50):
        role.tick(k * DispenserRole.PAPER_CHECK_MS)      # no printer on the UART at all
    assert role.printer == escpos.FAULT and len(role.asked) == 1
    role.printer_bytes(b"\x12", 50 * DispenserRole.PAPER_CHECK_MS)   # it is back
    assert role.printer == escpos.OK and role.asked == []


def test_random_bytes_from_the_printer_never_raise_and_every_ticket_ends():
    # A printer (or a noisy line) sending anything at all: the dispenser never stops on it,
    # and each ticket ends with a result, printed or not.
    from samples import PRNG
    rng = PRNG(5)
    for confirm in ("gs_h", "gs_r", "none"):
        role = dispenser(confirm)
        for k in range(40):
            role.key(0, k * 20000)
            role.out = []
            role.message(issued(101 + k, "A%03d" % (k + 1)), k * 20000 + 1)
            results = []
            t = k * 20000 + 1
            while t < (k + 1) * 20000:
                role.tick(t)
                role.printer_bytes(rng.bytes(rng.below(6)), t)
                results += [a[1]["result"] for a in role.out
                            if a[0] == "send" and a[1]["type"] == "print_result"]
                role.out = []
                t += 50
            assert len(results) == 1, (confirm, k, results)
            role.printer = escpos.OK                     # (paper loaded, fault cleared)
