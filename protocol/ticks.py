# Wrap-safe millisecond arithmetic, identical to MicroPython's time.ticks_add/ticks_diff,
# so sans-IO code works with a device's wrapping tick counter and with host clocks alike.
from protocol.compat import const

TICKS_PERIOD = const(1 << 30)
_TICKS_MAX = const((1 << 30) - 1)
_TICKS_HALF = const(1 << 29)


def ticks_add(ticks, delta):
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(end, start):
    # Signed distance end - start, valid while the two are less than half a period apart.
    return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF
