# Key debouncing and long presses, in virtual milliseconds.
from firmware.keys import KeyScanner, PRESS, LONG, RELEASE
from protocol.ticks import ticks_add


def feed(scanner, timeline, start=0, step=5, until=None):
    # timeline: list of (from ms, raw mask); scans every `step` ms.
    events = []
    end = until if until is not None else timeline[-1][0] + 100
    t = start
    k = 0
    raw = 0
    while t <= end:
        while k < len(timeline) and timeline[k][0] <= t:
            raw = timeline[k][1]
            k += 1
        for e in scanner.scan(raw, ticks_add(0, t)):
            events.append((t, e[0], e[1]))
        scanner.take()
        t += step
    return events


def test_bouncing_contact_gives_one_press_and_one_release():
    s = KeyScanner(4)
    bounce = [(0, 0), (100, 1), (103, 0), (106, 1), (109, 0), (112, 1), (300, 0), (302, 1), (304, 0)]
    events = feed(s, bounce, until=500)
    assert [(e[1], e[2]) for e in events] == [(PRESS, 0), (RELEASE, 0)]
    assert events[0][0] >= 112 + KeyScanner.DEBOUNCE_MS


def test_a_glitch_shorter_than_the_debounce_time_is_ignored():
    s = KeyScanner(2)
    assert feed(s, [(0, 0), (50, 2), (60, 0)], until=300) == []


def test_long_press_once_then_release():
    s = KeyScanner(2)
    events = feed(s, [(0, 0), (10, 2), (2000, 0)], until=2200)
    assert [(e[1], e[2]) for e in events] == [(PRESS, 1), (LONG, 1), (RELEASE, 1)]


def test_two_keys_independently_and_across_tick_wraparound():
    s = KeyScanner(2)
    start = (1 << 30) - 50                       # the ms tick counter wraps during the presses
    events = []
    raw_at = [(0, 1), (40, 3), (120, 2), (200, 0)]
    t = 0
    while t <= 300:
        raw = [r for at, r in raw_at if at <= t][-1]
        for e in s.scan(raw, ticks_add(start, t)):
            events.append((e[0], e[1]))
        s.take()
        t += 5
    assert events == [(PRESS, 0), (PRESS, 1), (RELEASE, 0), (RELEASE, 1)]
