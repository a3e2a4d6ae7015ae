# Routing core scenarios with exact expected outputs, in virtual time, on both runtimes.
# The heap is larger than the default 64K: on this 64-bit port the routing code alone, loaded as
# .mpy into RAM, takes ~50K (an ESP32 hub freezes it into flash instead; see tools/bench.py).
HEAPSIZE = "256K"
from firmware.routing.core import RoutingCore
from protocol.codes import (OK, NOBODY_WAITING, WRONG_STATE, NOT_LOGGED_IN, UNKNOWN_TICKET,
    RECALL_LIMIT, REFUSED, PRIORITY, APPOINTMENT, RECORDED, WRONG_WINDOW, EXPIRED, ALREADY_RATED,
    REASON_REQUIRED, BAD_LEVEL, FINISHED, NO_SHOW, CANCELLED, TRANSFERRED, UNSERVED,
    WAIT_TOO_LONG, OVER_TIME_LIMIT, WINDOW_IDLE, OPEN_WINDOW, EARLY_CLOSE, CALLED, SERVING, IDLE,
    PAUSED, CLOSED)
from firmware.routing.config import HallConfig, ConfigError
from hall import at, config, open_hall, take, tickets


def called(core):
    return [(core.cfg.numbers[o[1]], core.ticket_name(o[2], o[3]), o[4]) for o in take(core, "called")]


def test_tickets_are_numbered_per_service_and_refused_with_reasons():
    core = open_hall()
    t = at("09:00")
    assert core.issue(t, "A") == OK and core.issue(t, "A") == OK and core.issue(t, "B") == OK
    assert tickets(core) == ["A001", "A002", "B001"]
    assert core.issue(at("08:00"), "A") == REFUSED          # before opening
    assert core.issue(at("16:45"), "A") == REFUSED          # after the last-ticket time
    assert core.issue(at("12:30"), "C") == REFUSED          # C closes at noon
    assert core.issue(t, "Z") == REFUSED                    # no such service
    assert [o[2] for o in take(core, "refused")] == [1, 3, 1, 4]
    for _ in range(3):
        core.issue(t, "C")
    assert core.issue(t, "C") == REFUSED                    # quota of 3
    assert take(core, "refused") == [("refused", "C", 2)]


def test_issue_reports_people_ahead_and_an_estimate_range():
    core = open_hall(windows=(1,))
    t = at("09:00")
    core.issue(t, "A")
    core.issue(t + 1, "A")
    issued = take(core, "issued")
    assert [o[4] for o in issued] == [0, 1]
    assert issued[0][5] == 0                                # a window is free: no wait
    low, high = issued[1][5], issued[1][6]
    assert 0 < low < high                                   # one ahead, 5-minute service


def test_call_next_serves_in_issue_order_and_tracks_the_window():
    core = open_hall(windows=(1,))
    t = at("09:00")
    for k in range(3):
        core.issue(t + k, "A")
    take(core)
    assert core.call_next(t + 60, 1) == OK
    assert called(core) == [(1, "A001", 0)]
    assert core.window_view(0) == (1, CALLED, "A001", 0, 2, "S1")
    assert core.call_next(t + 61, 1) == WRONG_STATE         # finish this one first
    assert core.start(t + 90, 1) == OK and core.phase[0] == SERVING
    assert core.finish(t + 390, 1) == OK
    ended = take(core, "ended")
    assert ended == [("ended", 0, 1, FINISHED, 60, 0)]
    assert core.call_next(t + 400, 1) == OK
    assert called(core) == [(1, "A002", 0)]


def test_nobody_waiting_and_not_logged_in():
    core = open_hall(windows=(1,))
    assert core.call_next(at("09:00"), 1) == NOBODY_WAITING
    core.logout(at("09:00"), 1)
    core.issue(at("09:00"), "A")
    assert core.call_next(at("09:01"), 1) == NOT_LOGGED_IN
    assert core.call_next(at("09:01"), 2) == WRONG_STATE    # window 2 is closed


def test_priority_before_ordinary_and_transfers_before_priority():
    core = open_hall(windows=(1, 2))
    t = at("09:00")
    core.issue(t, "A")                                      # A001 ordinary, oldest
    core.issue(t + 5, "A", kind=PRIORITY)                   # A002 priority (绿色通道)
    core.issue(t + 6, "B")                                  # B001
    core.call_next(t + 10, 2)                               # window 2 takes the priority ticket
    assert called(core) == [(2, "A002", 0)]
    core.start(t + 11, 2)
    assert core.transfer(t + 20, 2, "B") == OK              # A002 needs service B too
    assert take(core, "ended")[0][3] == TRANSFERRED
    core.call_next(t + 30, 1)                               # window 1 serves B: transfer first
    assert called(core) == [(1, "B002", 0)]


def test_transfer_to_a_named_window_waits_for_that_window():
    core = open_hall(windows=(1, 2))
    t = at("09:00")
    core.issue(t, "A")
    core.issue(t + 1, "A")
    core.call_next(t + 10, 1)
    core.start(t + 11, 1)
    core.transfer(t + 20, 1, "A", to_window=2)
    take(core)
    core.call_next(t + 30, 1)
    assert called(core) == [(1, "A002", 0)]                 # not for window 1
    core.call_next(t + 31, 2)
    assert called(core) == [(2, "A001", 0)]                 # same number, same service


def test_appointments_due_go_before_walk_ins_and_checkin_rules():
    core = open_hall(windows=(1,))
    slot = at("10:00")
    assert core.issue(at("09:00"), "A", kind=APPOINTMENT, slot=slot) == REFUSED   # too early
    assert take(core, "refused") == [("refused", "A", 6)]
    core.issue(at("09:40"), "A")                            # A001 walk-in
    assert core.issue(at("09:45"), "A", kind=APPOINTMENT, slot=slot) == OK        # A002
    issued = take(core, "issued")
    assert issued[1][3] == APPOINTMENT and issued[1][5] > 0
    core.call_next(at("09:46"), 1)                          # slot not yet due: walk-in first
    assert called(core) == [(1, "A001", 0)]
    core.start(at("09:47"), 1)
    core.finish(at("09:50"), 1)
    core.issue(at("09:51"), "A")                            # A003, after the appointment
    core.call_next(at("09:56"), 1)                          # due (5 min grace): A002 first
    assert called(core) == [(1, "A002", 0)]
    core.issue(at("10:30"), "A", kind=APPOINTMENT, slot=slot)   # 30 min late: a walk-in
    assert take(core, "issued")[-1][3] == 0


def test_weights_and_aging_across_services():
    core = open_hall(windows=(2,))                          # window 2 serves B (weight 2) and A
    t = at("09:00")
    core.issue(t, "A")                                      # A001 waits longest
    core.issue(t + 100, "B")                                # B001
    take(core)
    core.call_next(t + 150, 2)                              # A: 151 x 1, B: 51 x 2: A first
    assert called(core) == [(2, "A001", 0)]
    core.start(t + 151, 2)
    core.finish(t + 152, 2)
    core.issue(t + 160, "A")                                # A002 younger than B001
    core.call_next(t + 170, 2)
    assert called(core) == [(2, "B001", 0)]


def test_aged_tickets_are_called_oldest_first_whatever_the_weights():
    core = open_hall(windows=(2,))
    t = at("09:00")
    core.issue(t, "A")                                      # A max wait: 30 min
    core.issue(t + 60, "B")
    take(core)
    core.call_next(t + 31 * 60, 2)                          # A001 is past its maximum wait
    assert called(core) == [(2, "A001", 0)]


def test_recall_limit_and_automatic_recall_then_no_show():
    core = open_hall(windows=(1,), recall_timeout_s=60, recall_limit=2)
    t = at("09:00")
    core.issue(t, "A")
    core.issue(t, "A")
    core.call_next(t + 10, 1)
    take(core)
    assert core.recall(t + 20, 1) == OK
    assert called(core) == [(1, "A001", 1)]
    core.tick(t + 79)
    assert called(core) == []                               # 59 s since the recall
    core.tick(t + 80)
    assert called(core) == [(1, "A001", 2)]                 # timed out: recalled again
    core.tick(t + 140)
    assert take(core, "ended") == [("ended", 0, 1, NO_SHOW, 10, 0)]
    assert core.phase[0] == IDLE
    core.call_next(t + 150, 1)
    assert core.recall(t + 151, 1) == OK and core.recall(t + 152, 1) == OK
    assert core.recall(t + 153, 1) == RECALL_LIMIT          # past the limit: a no-show
    assert take(core, "ended")[0][3] == NO_SHOW


def test_no_show_hold_and_call_back():
    core = open_hall(windows=(1,))
    t = at("09:00")
    for _ in range(3):
        core.issue(t, "A")
    core.call_next(t + 10, 1)
    assert core.no_show(t + 20, 1) == OK
    core.call_next(t + 30, 1)                               # A002
    core.start(t + 35, 1)
    assert core.hold(t + 40, 1) == OK                       # 挂起: missing papers
    assert core.phase[0] == IDLE
    core.call_next(t + 50, 1)                               # A003 meanwhile
    core.start(t + 55, 1)
    core.finish(t + 60, 1)
    take(core)
    assert core.call_back(t + 70, 1, "A009") == UNKNOWN_TICKET
    assert core.call_back(t + 71, 1, "A002") == OK          # 回呼
    assert called(core) == [(1, "A002", 0)]
    assert core.call_back(t + 72, 1, "A002") == WRONG_STATE


def test_call_specific_and_cancel():
    core = open_hall(windows=(1,))
    t = at("09:00")
    for _ in range(4):
        core.issue(t, "A")
    take(core)
    assert core.cancel(t + 5, "A002") == OK
    assert take(core, "ended")[0][:5] == ("ended", 0, 2, CANCELLED, 5)
    assert core.cancel(t + 6, "A002") == UNKNOWN_TICKET
    assert core.call_ticket(t + 10, 1, "A003") == OK
    assert called(core) == [(1, "A003", 0)]
    core.start(t + 11, 1)
    core.finish(t + 12, 1)
    core.call_next(t + 13, 1)
    assert called(core) == [(1, "A001", 0)]
    core.no_show(t + 14, 1)
    core.call_next(t + 15, 1)
    assert called(core) == [(1, "A004", 0)]


def test_pause_returns_the_ticket_and_backup_window_takes_over():
    core = open_hall(windows=(1, 2))
    t = at("09:00")
    core.issue(t, "B")
    core.issue(t + 1, "B")
    core.call_next(t + 10, 2)                               # B001 at window 2
    take(core)
    assert core.pause(t + 20, 2) == OK                      # B001 goes back to the front
    assert take(core, "alert") == [("alert", EARLY_CLOSE, 1, 0xFF, 0, 2)]
    assert core.state[1] == PAUSED
    core.call_next(t + 30, 1)
    assert called(core) == [(1, "B001", 0)]
    assert core.resume(t + 40, 2) == OK
    core.call_next(t + 41, 2)
    assert called(core) == [(2, "B002", 0)]
    assert core.stats.early_stops[1] == 1


def test_backup_window_serves_the_absent_windows_services():
    core = open_hall(windows=(2, 3))                        # window 1 closed; 2 backs up nobody
    t = at("09:30")
    core.issue(t, "C")
    core.issue(t + 1, "C")
    core.window_close(t + 2, 3)                             # window 3 closed, no backup: C waits
    take(core)
    assert core.call_next(t + 10, 2) == NOBODY_WAITING
    hall2 = open_hall(windows=(2,))
    hall2.issue(t, "A")
    assert hall2.call_next(t + 5, 2) == OK                  # 2 serves A itself anyway
    core3 = open_hall(windows=(2,))
    core3.window_open(t, 1)                                 # window 1 open without staff...
    core3.pause(t, 1)                                       # ...then paused: 2 is its backup? no,
    assert core3.cfg.backup[0] == 1                         # window 1's backup is window 2


def test_ratings_count_only_from_the_paired_evaluator_once_in_time():
    core = open_hall(windows=(1, 2))
    t = at("09:00")
    core.issue(t, "A")
    core.call_next(t + 10, 1)
    core.start(t + 11, 1)
    core.finish(t + 100, 1)
    assert take(core, "rating_request") == [("rating_request", 0, 0, 1, "S1")]
    assert core.rate(t + 101, 1, "A001", 1, (), "eval-2") == WRONG_WINDOW    # window 2's keypad
    assert core.rate(t + 102, 2, "A001", 1, (), "eval-2") == WRONG_WINDOW    # 2 did not serve it
    assert core.rate(t + 103, 1, "A001", 7, (), "eval-1") == BAD_LEVEL
    assert core.rate(t + 104, 1, "A001", 4, (), "eval-1") == REASON_REQUIRED # 不满意 needs why
    assert core.rate(t + 105, 1, "A001", 4, (3,), "eval-1") == RECORDED
    assert core.rate(t + 106, 1, "A001", 1, (), "eval-1") == ALREADY_RATED
    assert core.stats.staff_ratings["S1"][4] == 1
    assert sum(core.rejects) == 5                           # counted, not journalled
    core.issue(t + 200, "A")
    core.call_next(t + 210, 1)
    core.start(t + 211, 1)
    core.finish(t + 300, 1)
    assert core.rate(t + 300 + 121, 1, "A002", 1, (), "eval-1") == EXPIRED


def test_four_level_ratings():
    core = open_hall(windows=(1,), rating_levels=4, reason_required_from=4)
    t = at("09:00")
    core.issue(t, "A")
    core.call_next(t, 1)
    core.start(t, 1)
    core.finish(t + 60, 1)
    assert core.rate(t + 61, 1, "A001", 5, (), "eval-1") == BAD_LEVEL
    assert core.rate(t + 62, 1, "A001", 3, (), "eval-1") == RECORDED


def test_alerts_wait_too_long_over_limit_idle_and_crowding():
    core = open_hall(windows=(1,), idle_alert_s=120, waiting_per_window_alert=3)
    t = at("09:00")
    for _ in range(4):
        core.issue(t, "B")
    core.tick(t + 1)
    assert take(core, "alert") == [("alert", OPEN_WINDOW, 0xFF, 1, 0, 2)]   # 4 waiting, 1 window
    core.tick(t + 41 * 60)                                  # B's maximum wait is 40 minutes
    alerts = take(core, "alert")
    assert [(a[1], a[4]) for a in alerts if a[1] == WAIT_TOO_LONG] == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert [(a[1], a[5]) for a in alerts if a[1] == WINDOW_IDLE] == [(WINDOW_IDLE, 41)]
    core.tick(t + 42 * 60)
    assert take(core, "alert") == []                        # each alert once
    core.call_next(t + 43 * 60, 1)
    core.start(t + 43 * 60, 1)
    core.tick(t + 43 * 60 + 30 * 60 + 1)                    # B's time limit is 30 minutes
    assert [a[1] for a in take(core, "alert")] == [OVER_TIME_LIMIT]


def test_close_day_records_the_unserved_and_restarts_numbers():
    core = open_hall(windows=(1,))
    t = at("16:00")
    core.issue(t, "A")
    core.issue(t, "A")
    core.call_next(t + 10, 1)
    take(core)
    core.close_day(at("17:30"))
    ends = take(core, "ended")
    assert sorted((o[2], o[3]) for o in ends) == [(1, UNSERVED), (2, UNSERVED)]
    assert core.state[0] == CLOSED
    core.tick(at("18:00"))
    assert core.day_closed
    tomorrow = at("09:00") + 86400
    core.window_open(tomorrow, 1)
    core.login(tomorrow, 1, "S1")
    core.issue(tomorrow, "A")
    assert tickets(core) == ["A001"]
    assert core.stats.closed_days[-1][1] == 0


def test_duplicate_command_is_answered_not_repeated():
    core = open_hall(windows=(1,))
    t = at("09:00")
    core.issue(t, "A", device="disp-1", req=7)
    core.issue(t, "A", device="disp-1", req=7)              # the same request, retransmitted
    assert tickets(core) == ["A001", "A001"]
    core.issue(t, "A", device="disp-1", req=8)
    assert tickets(core) == ["A002"]
    assert core.call_next(t + 5, 1, device="caller-1", req=1) == OK
    assert core.call_next(t + 6, 1, device="caller-1", req=1) == OK   # answered again...
    assert called(core) == [(1, "A001", 0)]                           # ...not announced twice
    assert core.queues.live[0] == 1


def test_requests_in_flight_together_are_each_remembered_across_a_power_cut():
    # A caller's link has several requests in flight; the hub loses power before its acks go
    # out; after recovery the retransmissions are answered, none executed again.
    core = open_hall(windows=(1,))
    t = at("09:00")
    for k in range(3):
        core.issue(t + k, "A", device="disp-1", req=10 + k)
    assert core.call_next(t + 5, 1, device="caller-1", req=1) == OK
    assert core.hold(t + 6, 1, device="caller-1", req=2) == OK
    assert core.call_next(t + 7, 1, device="caller-1", req=3) == OK
    again = RoutingCore.recover(core.cfg, core.storage, t + 8)
    before = again.fingerprint()
    assert again.call_next(t + 9, 1, device="caller-1", req=1) == OK
    assert again.hold(t + 9, 1, device="caller-1", req=2) == OK
    assert again.call_next(t + 9, 1, device="caller-1", req=3) == OK
    assert again.issue(t + 9, "A", device="disp-1", req=10) == OK
    assert tickets(again) == ["A001"]                 # the same ticket, not a fourth
    assert again.fingerprint() == before


def test_replay_rebuilds_the_same_state():
    core = open_hall(windows=(1, 2))
    t = at("09:00")
    for k in range(6):
        core.issue(t + k, "AB"[k % 2], kind=PRIORITY if k == 4 else 0)
    core.call_next(t + 10, 1)
    core.start(t + 11, 1)
    core.call_next(t + 12, 2)
    core.hold(t + 13, 2)
    core.finish(t + 200, 1)
    core.rate(t + 201, 1, "A001", 2, (), "eval-1")
    core.cancel(t + 202, "B002")
    core.tick(t + 3000)
    again = RoutingCore.recover(core.cfg, core.storage, t)
    assert again.fingerprint() == core.fingerprint()
    assert again.replay_skipped == 0


def test_compaction_keeps_state_and_shrinks_the_journal():
    core = open_hall(windows=(1,))
    t = at("09:00")
    for k in range(40):
        core.issue(t + k, "A")
    for k in range(10):
        core.call_next(t + 100 + k, 1)
        core.start(t + 100 + k, 1)
        core.finish(t + 100 + k, 1)
    before = core.storage.size()
    core.compact()
    assert core.storage.size() < before
    core.issue(t + 500, "A")
    again = RoutingCore.recover(core.cfg, core.storage, t)
    assert again.fingerprint() == core.fingerprint()


def test_bad_configs_are_rejected_with_key_and_reason():
    cases = [
        ({"services": []}, "services"),
        ({"services": [{"prefix": "a"}], "windows": [{"number": 1, "services": ["a"]}]}, "prefix"),
        ({"services": [{"prefix": "A", "open": "9am"}], "windows": []}, "open"),
        ({"services": [{"prefix": "A"}], "windows": [{"number": 1, "services": ["B"]}]}, "no service"),
        ({"services": [{"prefix": "A"}], "windows": [{"number": 1, "services": ["A"], "backup": 9}]},
         "backup"),
        ({"services": [{"prefix": "A"}], "windows": [{"number": 1, "services": ["A"]}],
          "rules": {"recall_limit": -1}}, "rules.recall_limit"),
        ({"services": [{"prefix": "A", "colour": 1}], "windows": []}, "colour"),
    ]
    for doc, key in cases:
        try:
            HallConfig(doc, "hall.toml")
        except ConfigError as exc:
            assert str(exc).startswith("hall.toml: ") and key in str(exc), str(exc)
            continue
        raise AssertionError("accepted %r" % (doc,))


def test_journal_stays_bounded_over_days_of_operation():
    core = open_hall(windows=(1,))
    sizes = []
    for day in range(3):
        t = at("09:00") + day * 86400
        core.window_open(t, 1)
        core.login(t, 1, "S1")
        for k in range(30):
            core.issue(t + k, "A")
            core.call_next(t + k, 1)
            core.start(t + k, 1)
            core.finish(t + k, 1)
            core.out = []                       # (the hub takes the outputs after each step)
        core.close_day(at("17:30") + day * 86400)
        sizes.append(core.storage.size())
        again = RoutingCore.recover(core.cfg, core.storage, t)
        assert again.fingerprint() == core.fingerprint()
    assert max(sizes) - min(sizes) < 64, sizes      # a snapshot a day, not a growing log
    assert core.stats.closed_days[-1][1] == 30


def test_recovery_starts_on_the_journals_day_whatever_now_it_is_given():
    core = open_hall(windows=(1,))
    core.issue(at("09:00"), "A")
    again = RoutingCore.recover(core.cfg, core.storage, 0)      # a clock not yet set at boot
    assert again.fingerprint() == core.fingerprint()
