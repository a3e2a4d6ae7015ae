"""The hall's people as the simulators drive them: what staff read on their caller board and
which key they press for what they mean, through the caller's own key map (a hall that
renames its keys is driven the same way), and the citizen's rating at the evaluator."""
import re

from firmware.roles.caller import KEYMAP
from host_sim.scenario import REACT_S, draw

CALL = re.compile(r"^请([A-Z]{1,2}\d+)号到(\d+)号窗口(\(重呼\))?$")
WAITING = re.compile(r"等候(\d+)人")
SERVING = "正在办理"
NOBODY = "无人等候"


def read_call(text):
    """(ticket, window, recall) when the board shows a call, else None."""
    call = CALL.match(text)
    if call is None:
        return None
    return call.group(1), int(call.group(2)), bool(call.group(3))


def serving(text):
    """The ticket the board shows in service, or None."""
    return text.split()[0] if text.endswith(SERVING) else None


def waiting(text):
    """People waiting as the idle board shows it (0 for nobody), or None."""
    if text == NOBODY:
        return 0
    found = WAITING.search(text)
    return int(found.group(1)) if found else None


def keys(config):
    """action -> key number on this caller (its config's "keymap", or the default)."""
    keymap = config.get("keymap", KEYMAP)
    return {action: int(key) for key, action in keymap.items()}


def rating(rng, weights, reason_from):
    """(level, reason or None) a citizen gives: a reason from the level the hall asks one."""
    level = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
    return level, (rng.randrange(5) if level >= reason_from else None)


class Staff:
    """One member of staff at a window, acting only on what their caller board shows: ask for
    the next citizen when idle and someone waits, start when the citizen reaches the window,
    finish when done, recall once when nobody comes and then mark the no-show, and leave for
    a break or the day's end once the current citizen is done. Every simulated hall drives the
    same staff; the hall gives them their world:

        hall.later(seconds, fn, *args)   run fn after so many hall seconds
        hall.clock()                     the hall's time, in its own units
        hall.key(window, action)         press the key the window's caller maps to action
        hall.coming(ticket, arrive)      the called citizen comes: the hall runs arrive(ticket)
                                         when they reach the window (never: not coming)
        hall.service_s(ticket)           how long serving this citizen takes
        hall.asked(window) / hall.call_seen(window, ticket)    (for the hall's own figures)
        hall.served(window, ticket, started)    a citizen's service ended
        hall.left(window)                                        staff left the window
    """
    ASK_AGAIN_S = 30          # a call asked for and not shown: ask again
    RECALL_S = 60             # nobody came: recall once,
    NO_SHOW_S = 30            # then mark the no-show (过号)
    CONFIRM_S = 0.5           # the confirm key after a destructive one

    def __init__(self, hall, window, staff_id, rng, react=REACT_S):
        # react: (low, high) seconds to notice the board (the scenario's [people] react_s).
        self.hall = hall
        self.react = react
        self.window = window
        self.id = staff_id
        self.rng = rng
        self.on = False           # on duty at the window
        self.state = "idle"       # idle, asked, calling, starting, serving, away
        self.ticket = None
        self.leave = None         # "pause" | "close" once the current citizen is done
        self.started = None       # hall time the current service started
        self.asked_at = None

    def react_s(self):
        # Staff notice their board within the scenario's react_s (1 to 4 s unless it says).
        return draw(self.rng, self.react)

    def on_duty(self):
        self.on, self.state, self.leave = True, "idle", None
        self.hall.later(self.react_s(), self.next)

    def going(self, how):
        # A break ("pause") or the end of the shift ("close"), once the citizen is done.
        self.leave = how
        if self.state == "idle":
            self.go()

    def go(self):
        how = self.leave
        if how is None:
            return                                       # already gone
        self.on, self.leave, self.state = False, None, "away"
        self.hall.left(self.window)
        self.hall.key(self.window, how)
        self.hall.later(self.CONFIRM_S, self.hall.key, self.window, "confirm")

    def next(self):
        if not self.on or self.state != "idle":
            return
        if self.leave:
            self.go()
            return
        self.state = "asked"
        self.asked_at = asked = object()
        self.hall.asked(self.window)
        self.hall.key(self.window, "next")
        self.hall.later(self.ASK_AGAIN_S, self._ask_again, asked)

    def _ask_again(self, asked):
        if self.state == "asked" and self.asked_at is asked:
            self.state = "idle"                          # no answer on the board: ask again
            self.next()

    def board(self, text):
        # The caller board changed: text is what it shows.
        call = read_call(text)
        if call and not call[2]:
            ticket = call[0]
            self.hall.call_seen(self.window, ticket)
            self.asked_at = None
            if self.state in ("asked", "idle"):
                self.state, self.ticket = "calling", ticket
                self.hall.later(self.RECALL_S, self._not_coming, ticket, 1)
                self.hall.coming(ticket, self._arrived)
                # nobody comes: recall, then mark the no-show, and the board says so
        elif serving(text) and self.state == "starting":
            self.state = "serving"
            self.hall.later(self.hall.service_s(serving(text)), self._finish)
        elif "等候" in text or text == NOBODY:
            if self.state == "calling":
                self.state = "idle"                      # the no-show was recorded
            if self.state == "asked" and text == NOBODY:
                self.state = "idle"
                return                                   # wait for the board to show someone
            if self.state == "idle" and self.on:
                if self.leave:
                    self.go()
                elif waiting(text):
                    self.hall.later(self.react_s(), self.next)

    def _not_coming(self, ticket, step):
        if self.state != "calling" or self.ticket != ticket:
            return
        if step == 1:
            self.hall.key(self.window, "recall")
            self.hall.later(self.NO_SHOW_S, self._not_coming, ticket, 2)
        else:
            self.hall.key(self.window, "no_show")
            self.hall.later(self.CONFIRM_S, self.hall.key, self.window, "confirm")

    def _arrived(self, ticket):
        if self.state == "calling" and self.ticket == ticket:
            self.state, self.started = "starting", self.hall.clock()
            self.hall.key(self.window, "start")

    def _finish(self):
        self.state = "idle"
        self.hall.served(self.window, self.ticket, self.started)
        self.hall.key(self.window, "finish")
        if self.leave:
            self.hall.later(1, self.go)
        else:
            self.hall.later(self.react_s(), self.next)
