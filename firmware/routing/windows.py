# The sixteen window operations: calls, recalls, service, no-show, hold and call-back,
# transfer, open, pause, resume, close, staff login and logout, and what a caller board shows.
from firmware.routing.config import S_MAX_WAIT
from protocol.codes import (OK, NOBODY_WAITING, WRONG_STATE, NOT_LOGGED_IN, UNKNOWN_TICKET,
    RECALL_LIMIT, UNKNOWN_WINDOW, UNKNOWN_SERVICE, REFUSED, CLOSED, OPEN, PAUSED, IDLE, CALLED,
    SERVING, EARLY_CLOSE, FINISHED, NO_SHOW, TRANSFERRED, NONE)


class Windows:
    def _window(self, window):
        return self.cfg.window(window)

    def _ready(self, w):
        if w < 0:
            return UNKNOWN_WINDOW
        if self.state[w] != OPEN:
            return WRONG_STATE
        if self.staff[w] is None:
            return NOT_LOGGED_IN
        return OK

    def _at_window(self, window, phase, busy=False):
        # (window index, result) for a staff command: the window must be open and staffed, and
        # in `phase` (or, with busy=True, in any phase but idle).
        w = self._window(window)
        result = self._ready(w)
        if result == OK and ((self.phase[w] == IDLE) if busy else (self.phase[w] != phase)):
            result = WRONG_STATE
        return w, result

    def _call_next(self, now, window, hint):
        # hint: the ticket chosen when the call was made. Replay takes that same ticket, so a
        # damaged record before it cannot make the hall's later calls diverge.
        w, result = self._at_window(window, IDLE)
        if result == OK:
            entry = None
            choice = self._chosen
            self._chosen = None
            if hint is not None and choice is not None and not self.replaying:
                entry = self._take(choice)            # (live: chosen for the hint just now)
            elif hint is not None:
                hint = tuple(hint)
                choice = self.choose(w, now)
                if choice is not None and self._peek(choice) == hint:
                    entry = self._take(choice)
                else:
                    entry = self._take_ticket(hint[0], hint[1])
            if entry is None:
                result = NOBODY_WAITING
            else:
                service, number, kind, issued, estimate = entry
                self._set_current(w, service, number, kind, issued, estimate, now)
                self._announce(w, now)
        return result

    def _set_current(self, w, service, number, kind, issued, estimate, now):
        self.cur_service[w] = service
        self.cur_number[w] = number
        self.cur_kind[w] = kind
        self.cur_issued[w] = issued
        self.cur_estimate[w] = estimate
        self.first_call[w] = now
        self.recalls[w] = 0
        self.phase[w] = CALLED
        self.flags[w] = 0
        self.out.append(("queue", service, self.waiting(service)))

    def _announce(self, w, now):
        self.last_call[w] = now
        self.out.append(("called", w, self.cur_service[w], self.cur_number[w], self.recalls[w]))
        self.out.append(("window", w))

    def _call_ticket(self, now, window, ticket):
        w, result = self._at_window(window, IDLE)
        if result == OK:
            s, number = self.parse_ticket(ticket)
            entry = self._take_ticket(s, number)
            if entry is None:
                result = UNKNOWN_TICKET
            else:
                self._set_current(w, *entry, now=now)
                self._announce(w, now)
        return result

    def _recall(self, now, window):
        w, result = self._at_window(window, CALLED)
        if result == OK:
            result = self._do_recall(w, now)
        return result

    def _do_recall(self, w, now):
        if self.recalls[w] >= self.cfg.recall_limit:
            self._end_current(w, NO_SHOW, now)
            return RECALL_LIMIT
        self.recalls[w] += 1
        self._announce(w, now)
        return OK

    def _start(self, now, window):
        w, result = self._at_window(window, CALLED)
        if result == OK:
            self.phase[w] = SERVING
            self.started[w] = now
            self.out.append(("window", w))
        return result

    def _finish(self, now, window):
        w, result = self._at_window(window, SERVING)
        if result == OK:
            service, number = self.cur_service[w], self.cur_number[w]
            duration = now - self.started[w]
            # wait, SLA and the estimate's error count the tickets served, when they are
            # served: a ticket started and then held, transferred or cut off at close is
            # not among the served and must not be among those within the maximum wait
            wait = self.first_call[w] - self.cur_issued[w]
            self.stats.served(service, w, duration, self.staff[w])
            self.stats.served_wait(service, wait, wait <= self.cfg.services[service][S_MAX_WAIT])
            self.stats.estimates(self.cur_estimate[w], wait)
            # the window was taken from the call on (the citizen's walk included), which is
            # what spaces one call from the next
            self.estimator.served(service, now - self.first_call[w])
            self.last_done[w] = (service, number, self.staff[w], now, False)
            self._end_current(w, FINISHED, now)
            self.out.append(("rating_request", w, service, number, self.staff[w]))
        return result

    def _end_current(self, w, how, now):
        self._ended(self.cur_service[w], self.cur_number[w], how,
                    self.first_call[w] - self.cur_issued[w], self.cur_estimate[w])
        self._clear_current(w)
        self.idle_since[w] = now
        self.out.append(("window", w))

    def _clear_current(self, w):
        self.cur_service[w] = NONE
        self.cur_number[w] = 0
        self.phase[w] = IDLE
        self.recalls[w] = 0
        self.flags[w] = 0

    def _no_show(self, now, window):
        w, result = self._at_window(window, CALLED)
        if result == OK:
            self._end_current(w, NO_SHOW, now)
        return result

    def _hold(self, now, window):
        # 挂起: the current ticket steps aside (missing papers...) and can be called back later.
        w, result = self._at_window(window, IDLE, busy=True)
        if result == OK:
            self.held.append((self.cfg.numbers[w], self.cur_service[w], self.cur_number[w],
                              self.cur_kind[w], self.cur_issued[w], self.cur_estimate[w]))
            self._clear_current(w)
            self.idle_since[w] = now
            self.out.append(("window", w))
        return result

    def _call_back(self, now, window, ticket):
        w, result = self._at_window(window, IDLE)
        if result == OK:
            s, number = self.parse_ticket(ticket)
            result = UNKNOWN_TICKET
            for k in range(len(self.held)):
                h = self.held[k]
                if h[0] == self.cfg.numbers[w] and h[1] == s and h[2] == number:
                    self.held.pop(k)
                    self._set_current(w, s, number, h[3], h[4], h[5], now)
                    self._announce(w, now)
                    result = OK
                    break
        return result

    def _transfer(self, now, window, prefix, to_window):
        # The current ticket moves to another service (or a given window); it keeps its issue
        # time and goes ahead of ordinary and priority tickets there.
        w = self._window(window)
        result = self._ready(w)
        s = self.service_index(prefix)
        if result == OK and self.phase[w] == IDLE:
            result = WRONG_STATE
        elif result == OK and s < 0:
            result = UNKNOWN_SERVICE
        elif result == OK and to_window and self._window(to_window) < 0:
            result = UNKNOWN_WINDOW
        if result == OK:
            self._ended(self.cur_service[w], self.cur_number[w], TRANSFERRED,
                        self.first_call[w] - self.cur_issued[w], self.cur_estimate[w])
            self.transfers.append((to_window, s, self.cur_number[w] if s == self.cur_service[w]
                                   else self._transfer_number(s), self.cur_issued[w], 0))
            self._clear_current(w)
            self.idle_since[w] = now
            self.out.append(("window", w))
            self.out.append(("queue", s, self.waiting(s)))
        return result

    def _transfer_number(self, s):
        # A transferred ticket is known by a number of its new service from then on.
        self.next_number[s] += 1
        self.stats.issued[s] += 1
        return self.next_number[s]

    def _window_open(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] == OPEN else OK
        if result == OK:
            self._set_state(w, OPEN)
            self.idle_since[w] = now
            self.flags[w] = 0
            self.out.append(("window", w))
        return result

    def _leave(self, now, w, state):
        # Pause or close: the window's current ticket goes back to the front of the line, and
        # stopping before closing time while people wait for its services is recorded.
        if self.cur_service[w] != NONE:
            self.transfers.insert(0, (0, self.cur_service[w], self.cur_number[w],
                                      self.cur_issued[w], self.cur_estimate[w]))
            self._clear_current(w)
        self._set_state(w, state)
        waiting = 0
        for s in self.cfg.window_services[w]:
            waiting += self.waiting(s)
        if waiting and self.clock(now) < self.cfg.closing_s:
            self.stats.early_stop(w)
            self.out.append(("alert", EARLY_CLOSE, w, NONE, 0, waiting))
        self.out.append(("window", w))

    def _pause(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] != OPEN else OK
        if result == OK:
            self._leave(now, w, PAUSED)
        return result

    def _resume(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] != PAUSED else OK
        if result == OK:
            self._set_state(w, OPEN)
            self.idle_since[w] = now
            self.out.append(("window", w))
        return result

    def _window_close(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.state[w] == CLOSED else OK
        if result == OK:
            self._leave(now, w, CLOSED)
            self.staff[w] = None
        return result

    def _login(self, now, window, staff):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else OK
        if result == OK and staff not in self.cfg.staff:
            result = REFUSED
        if result == OK:
            self.staff[w] = staff
            self.out.append(("window", w))
        return result

    def _logout(self, now, window):
        w = self._window(window)
        result = UNKNOWN_WINDOW if w < 0 else WRONG_STATE if self.phase[w] != IDLE else OK
        if result == OK:
            self.staff[w] = None
            self.out.append(("window", w))
        return result

    def window_view(self, w):
        # What a window's caller board shows: (state, phase, ticket, recalls, waiting, staff).
        ticket = self.ticket_name(self.cur_service[w], self.cur_number[w]) \
            if self.cur_service[w] != NONE else ""
        waiting = 0
        for s in self.window_services(w):
            waiting += self.waiting(s)
        return (self.state[w], self.phase[w], ticket, self.recalls[w], waiting, self.staff[w] or "")
