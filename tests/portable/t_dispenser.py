# The dispenser role with its ESC/POS driver: key -> request -> print -> checked -> reported.
from firmware.drivers import escpos
from firmware.roles.dispenser import DispenserRole
from firmware.texts import printer_texts
from firmware.clock import local_text, civil

# What hallctl provision writes (GB18030 hex; tests/test_texts.py checks it against the codec).
TEXTS = {"hall": "c4b3c4b3c7f8d5fecef1b7fecef1d6d0d0c4",
         "services": {"A": {"name": "c9e7b1a3d2b5cef1", "materials": ["c9edb7ddd6a4", "bba7bfdab1be"]}},
         "ahead": "c7b0c3e6b5c8b4fdc8cbcafd", "wait": "d4a4bcc6b5c8b4fd", "minutes": "b7d6d6d3",
         "time": "c8a1bac5cab1bce4", "materials": "c7ebd7bcb1b8d2d4cfc2b2c4c1cf3a"}
CONFIG = {"id": "disp-1", "role": "dispenser", "hall": "district-1", "board": "host",
          "bus_address": 17, "service_keys": [{"service": "A"}, {"service": "A", "kind": "priority"}]}
ISSUED = 1795392000 - 8 * 3600 + 9 * 3600 + 5 * 60     # 2026-11-23 09:05 local


def role():
    return DispenserRole(CONFIG, printer_texts(TEXTS), now=0, first_req=100)


def take(r, kind=None):
    out = [a for a in r.out if kind is None or a[0] == kind]
    r.out = []
    return out


def issued(req, ticket="A012"):
    return {"type": "ticket_issued", "req": req, "ticket": ticket, "service": "A", "kind": 0,
            "ahead": 4, "wait_min": 600, "wait_max": 900, "issued": ISSUED}


def test_calendar_text_is_the_halls_local_time():
    assert civil(0) == (1970, 1, 1) and civil(20414) == (2025, 11, 22)
    assert local_text(ISSUED, 8 * 3600) == "2026-11-23 09:05"


def test_key_asks_for_a_ticket_and_the_ticket_prints_in_chinese_with_a_qr_code():
    r = role()
    r.key(1, 10)
    sent = take(r, "send")
    assert sent == [("send", {"type": "ticket_request", "req": 101, "service": "A", "kind": 1,
                              "booking": ""})]
    r.message(issued(101), 50)
    actions = take(r)
    assert [a[0] for a in actions] == ["print", "query"]
    data = actions[0][1]
    assert data.startswith(escpos.INIT + escpos.CHINESE_ON)
    texts = printer_texts(TEXTS)
    for part in (texts["hall"], texts["services"]["A"]["name"], b"A012", texts["ahead"] + b" 4",
                 b" 10-15 " + texts["minutes"], b"2026-11-23 09:05", b"1. " + texts["services"]["A"]["materials"][0],
                 b"QMS1|district-1|20261123|A012", escpos.CUT):
        assert data.find(part) >= 0, part
    assert actions[1][1] == escpos.QUERY_OFFLINE
    r.printer_reply(escpos.QUERY_OFFLINE, 0x12, 60)          # online: it printed
    assert take(r, "query") == [("query", escpos.QUERY_PAPER)]
    r.printer_reply(escpos.QUERY_PAPER, 0x12, 70)            # plenty of paper
    assert take(r, "send") == [("send", {"type": "print_result", "ticket": "A012", "result": 0})]
    assert r.printed == 1


def test_paper_out_during_a_print_is_reported_so_the_hub_can_reprint():
    r = role()
    r.key(0, 0)
    r.message(issued(101, "A013"), 10)
    take(r)
    r.printer_reply(escpos.QUERY_OFFLINE, 0x32, 20)          # stopped at paper end
    actions = take(r)
    assert ("send", {"type": "print_result", "ticket": "A013", "result": 1}) in actions
    assert ("status",) in actions and ("show", "out_of_paper", 0) in actions
    r.key(0, 30)                                             # no paper: no more requests
    assert take(r, "send") == [] and r.printer == escpos.PAPER_OUT


def test_printer_that_does_not_answer_is_a_fault_and_the_ticket_is_reported():
    r = role()
    r.key(0, 0)
    r.message(issued(101), 10)
    take(r)
    r.tick(10 + DispenserRole.PRINTER_TIMEOUT_MS)
    actions = take(r)
    assert ("send", {"type": "print_result", "ticket": "A012", "result": 3}) in actions
    assert r.printer == escpos.FAULT


def test_paper_low_is_noticed_while_idle_and_one_request_at_a_time():
    r = role()
    r.tick(DispenserRole.PAPER_CHECK_MS)
    assert take(r, "query") == [("query", escpos.QUERY_PAPER)]
    r.printer_reply(escpos.QUERY_PAPER, 0x1E, 1)            # near end
    assert take(r) == [("status",)] and r.printer == escpos.PAPER_LOW
    r.key(0, 2)
    r.key(0, 3)                                              # a second press while waiting
    assert len(take(r, "send")) == 1


def test_refusal_and_a_silent_hub_are_shown():
    r = role()
    r.key(0, 0)
    r.message({"type": "ticket_refused", "req": 101, "service": "A", "reason": 3}, 5)
    assert take(r, "show") == [("show", "wait", 0), ("show", "refused", 3)]
    r.key(0, 10)
    take(r)
    r.tick(10 + DispenserRole.REQUEST_TIMEOUT_MS)
    assert take(r, "show") == [("show", "offline", 0)]
    r.tick(20 + 2 * DispenserRole.REQUEST_TIMEOUT_MS)
    assert take(r, "show") == []                             # said once
    r.key(0, 20000)
    assert take(r, "send") == []                             # the request is still on its way
    r.message({"type": "ticket_issued", "req": 102, "ticket": "A007", "service": "A", "kind": 0,
               "ahead": 0, "wait_min": 0, "wait_max": 60, "issued": 1795392000}, 30000)
    assert len(take(r, "print")) == 1                        # its ticket prints when it comes
