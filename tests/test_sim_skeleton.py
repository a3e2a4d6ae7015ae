"""The simulator's skeleton: one scheduler, one fleet with one address plan, one model of the
hall's people reading what the firmware shows, one book-keeper."""
import random

import pytest

from firmware.routing.core import RoutingCore
from firmware.routing.journal import MemoryStorage
from hall import at, config
from host_sim import fleet, people
from host_sim import scenario as scenarios
from host_sim.books import Books, DayResult, totals
from host_sim.events import Scheduler, WallClock


def test_events_go_by_time_then_priority_then_insertion():
    events = Scheduler()
    events.push(5, "late")
    events.push(1, "second", priority=2)
    events.push(1, "first", priority=1)
    events.push(1, "third", priority=2)
    events.push(0, "zero")
    order = []
    while events.due(10):
        at_, kind, _ = events.pop()
        order.append((at_, kind))
    assert order == [(0, "zero"), (1, "first"), (1, "second"), (1, "third"), (5, "late")]
    assert events.now == 5 and not events.due(10)


def test_the_wall_clock_scheduler_waits_for_each_event_at_its_speed():
    wall = [100.0]
    slept = []

    def sleep(s):
        slept.append(s)
        wall[0] += s
    events = WallClock(0, speed=60, clock=lambda: wall[0], sleep=sleep)
    events.push(120, "a")                       # two hall minutes: two real seconds
    events.push(60, "b")
    assert events.pop()[1] == "b" and slept == [1.0]
    wall[0] += 5                                 # the host was busy: late, no wait
    assert events.pop()[1] == "a" and slept == [1.0] and events.behind_s == pytest.approx(4.0)


def test_one_address_plan_for_every_simulated_hall():
    sc = scenarios.load(scenarios.SCENARIOS / "city.toml")
    devices = fleet.devices(sc.hall, dispensers=4, displays=2, board="host")
    addresses = [d["bus_address"] for d in devices]
    assert len(addresses) == len(set(addresses)) and max(addresses) < 248 and 0 not in addresses
    by_id = {d["id"]: d for d in devices}
    assert by_id["disp-1"]["bus_address"] == 17 and by_id["caller-1"]["bus_address"] == 33
    evaluators = [d for d in devices if d["role"] == "evaluator"]
    assert evaluators and all(d["reason_from"] == sc.hall.reason_required_from and
                              d["rating_levels"] == sc.hall.rating_levels for d in evaluators)
    assert all(d["board"] == "host" for d in devices)


def test_staff_press_what_their_callers_key_map_says():
    assert people.keys({})["next"] == 0 and people.keys({})["finish"] == 3
    renamed = people.keys({"keymap": {"12": "next", "13": "finish"}})
    assert renamed == {"next": 12, "finish": 13}
    assert people.read_call("请A012号到3号窗口") == ("A012", 3, False)
    assert people.read_call("请AB007号到12号窗口(重呼)") == ("AB007", 12, True)
    assert people.read_call("A012 正在办理") is None
    assert people.serving("A012 正在办理") == "A012"
    assert people.waiting("无人等候") == 0 and people.waiting("空闲 等候7人") == 7


def test_a_rating_asks_a_reason_from_the_halls_level():
    rng = random.Random(1)
    given = [people.rating(rng, [0, 0, 1, 0, 0], reason_from=3) for _ in range(20)]
    assert all(level == 3 and reason is not None for level, reason in given)
    given = [people.rating(rng, [0, 0, 1, 0, 0], reason_from=4) for _ in range(20)]
    assert all(level == 3 and reason is None for level, reason in given)


def test_the_books_keep_every_ticket_and_check_a_restart_against_the_journal():
    storage = MemoryStorage()
    core = RoutingCore(config(), storage, at("09:00"))
    books = Books(DayResult("t"), core)
    core.window_open(at("09:00"), 1)
    core.login(at("09:00"), 1, "S1")
    core.issue(at("09:01"), "A")
    assert books.absorb(at("09:01"), core.out) == "A001"
    core.out = []
    core.call_next(at("09:02"), 1)
    books.absorb(at("09:02"), core.out)
    core.out = []
    assert books.first_calls == ["A001"] and books.tickets["A001"].how == -1
    assert totals(core)["issued"] == 1
    core = books.restart(config(), storage, at("09:03"))
    assert books.result.hub_restarts == 1 and books.core is core
    storage.data[len(storage.data) // 2] ^= 0xFF      # a damaged journal: not the same hub
    with pytest.raises(AssertionError, match="different from its journal"):
        books.restart(config(), storage, at("09:04"))


def test_a_number_given_out_twice_is_a_problem_and_a_repeated_answer_is_not():
    core = RoutingCore(config(), MemoryStorage(), at("09:00"))
    books = Books(DayResult("t"), core)
    issued = ("issued", 0, 7, 0, 0, 0, 60, at("09:01"))
    books.absorb(at("09:01"), [issued])
    books.absorb(at("09:02"), [issued])                       # the same answer, repeated
    assert books.reused == []
    books.absorb(at("09:05"), [issued[:7] + (at("09:05"),)])  # the number again, later
    assert books.reused == ["A007"]


class Window:
    """A staff member's world in virtual seconds: what they press, on the one scheduler."""

    def __init__(self, comes=True):
        self.events = Scheduler()
        self.pressed = []
        self.comes = comes
        self.served_at = []

    def later(self, seconds, fn, *args):
        self.events.push(self.events.now + seconds, "staff", (fn, args))

    def clock(self):
        return self.events.now

    def key(self, window, action):
        self.pressed.append((round(self.events.now, 1), action))

    def coming(self, ticket, arrive):
        if self.comes:
            self.later(15, arrive, ticket)

    def service_s(self, ticket):
        return 300

    def asked(self, window):
        pass

    def call_seen(self, window, ticket):
        pass

    def served(self, window, ticket, started):
        self.served_at.append((ticket, started))

    def left(self, window):
        pass

    def run(self, until):
        while self.events.due(until):
            _, _, (fn, args) = self.events.pop()
            fn(*args)


def test_staff_serve_a_citizen_from_what_the_board_shows():
    hall = Window()
    staff = people.Staff(hall, 3, "S03", random.Random(2))
    staff.on_duty()
    hall.run(10)
    assert [a for _, a in hall.pressed] == ["next"] and staff.state == "asked"
    staff.board("请A001号到3号窗口")
    hall.run(30)
    assert [a for _, a in hall.pressed] == ["next", "start"] and staff.state == "starting"
    staff.board("A001 正在办理")
    hall.run(400)
    assert [a for _, a in hall.pressed][:4] == ["next", "start", "finish", "next"]
    assert hall.served_at and hall.served_at[0][0] == "A001"    # and then asks for the next
    staff.board("无人等候")                            # nobody: waits for the board
    staff.going("close")                              # idle: leaves at once, and confirms
    hall.run(500)
    assert [a for _, a in hall.pressed][-2:] == ["close", "confirm"] and not staff.on


def test_staff_recall_once_then_mark_the_no_show_when_nobody_comes():
    hall = Window(comes=False)
    staff = people.Staff(hall, 1, "S01", random.Random(3))
    staff.on_duty()
    hall.run(10)
    staff.board("请A002号到1号窗口")
    hall.run(200)
    assert [a for _, a in hall.pressed] == ["next", "recall", "no_show", "confirm"]
    staff.board("空闲 等候0人")                         # the no-show recorded: idle, nobody waits
    hall.run(300)
    assert staff.state == "idle" and len(hall.pressed) == 4
