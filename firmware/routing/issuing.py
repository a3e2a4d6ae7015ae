# Tickets: names and numbers, who waits for a service, issuing and refusing, finding and taking
# a waiting ticket, and a citizen who leaves.
from firmware.routing.config import S_PREFIX, S_OPEN, S_LAST, S_CLOSE, S_QUOTA
from firmware.routing.stats import sat16, inc
from protocol.codes import (OK, UNKNOWN_TICKET, REFUSED, SERVICE_CLOSED, QUOTA_REACHED,
    AFTER_LAST_TICKET, BOOKING_UNKNOWN, TOO_EARLY, ORDINARY, PRIORITY, APPOINTMENT, CANCELLED)


class Issuing:
    def service_index(self, prefix):
        return self.cfg.service(prefix)

    def parse_ticket(self, ticket):
        # "A012" or "AB012" -> (service index, number), or (-1, 0).
        if type(ticket) is not str or len(ticket) < 2:
            return -1, 0
        cut = 2 if len(ticket) > 2 and "A" <= ticket[1] <= "Z" else 1
        s = self.service_index(ticket[:cut])
        digits = ticket[cut:]
        if s < 0 or not digits or not digits.isdigit():
            return -1, 0
        number = int(digits)
        return (s, number) if 0 < number < 0x8000 else (-1, 0)

    def ticket_name(self, service, number):
        return "%s%03d" % (self.cfg.services[service][S_PREFIX], number)

    def waiting(self, service):
        # People waiting for a service: its queues, due or not yet due appointments, transfers.
        n = self.queues.live[2 * service] + self.queues.live[2 * service + 1]
        for a in self.appointments:
            n += a[1] == service
        for t in self.transfers:
            n += t[1] == service
        return n

    def _issue_verdict(self, now, s, kind, slot):
        # (refusal reason or 0, the class the ticket gets).
        svc = self.cfg.services[s] if s >= 0 else None
        clock = self.clock(now)
        reason = 0
        if svc is None or type(kind) is not int or type(slot) is not int:
            reason = 4
        elif clock < svc[S_OPEN] or clock >= svc[S_CLOSE]:
            reason = SERVICE_CLOSED
        elif clock > svc[S_LAST]:
            reason = AFTER_LAST_TICKET
        elif self.stats.issued[s] >= svc[S_QUOTA]:  # tickets given, not the last number: numbers
            reason = QUOTA_REACHED            # skip past records lost to damage
        elif kind == APPOINTMENT:
            if slot <= 0:
                reason = BOOKING_UNKNOWN
            elif now < slot - self.cfg.appointment_early_s:
                reason = TOO_EARLY
            elif now > slot + self.cfg.appointment_late_s:
                kind = ORDINARY                 # too late for the slot: served as a walk-in
        elif kind != ORDINARY and kind != PRIORITY:
            reason = 4
        return reason, kind

    def _issue_number(self, now, prefix, kind, slot):
        # (number, estimate) the ticket will get (number 0: refused), journalled with the
        # request, so that replay gives the same number and needs no estimator.
        s = self.service_index(prefix) if type(prefix) is str else -1
        reason, kind = self._issue_verdict(now, s, kind, slot)
        if reason:
            return 0, 0
        if kind == APPOINTMENT:
            estimate = (slot - now) if slot > now else 0
        elif self.estimates:
            estimate = self.estimator.estimate(self, s, self.waiting(s), now)
        else:
            estimate = 0
        return min(self.next_number[s] + 1, 0x7FFF), estimate

    def _issue(self, now, prefix, kind, slot, number, estimate):
        # number and estimate: as journalled. In replay the number is the truth even where
        # damage has left the books short: the ticket is in a citizen's hand with that number.
        s = self.service_index(prefix) if type(prefix) is str else -1
        reason, kind = self._issue_verdict(now, s, kind, slot)
        if number == 0 or s < 0:
            self.out.append(("refused", prefix, reason or QUOTA_REACHED))
            self.stats.refused = sat16(self.stats.refused + 1)
            self.stats.changes += 1
            return REFUSED
        if number <= self.next_number[s]:
            number = self.next_number[s] + 1  # (never a number given out already)
        self.next_number[s] = number
        ahead = self.waiting(s)
        if kind == APPOINTMENT:
            self._insert_appointment((slot, s, number, now, estimate))
        else:
            self.queues.push(2 * s + (1 if kind == PRIORITY else 0), number, self._rel(now),
                             min(estimate, 0xFFFF))
        low, high = self.estimator.spread(estimate)
        self.out.append(("issued", s, number, kind, ahead, low, high, now))
        self.out.append(("queue", s, ahead + 1))
        inc(self.stats.issued, s)
        return OK

    def _insert_appointment(self, entry):
        k = 0
        while k < len(self.appointments) and self.appointments[k][0] <= entry[0]:
            k += 1
        self.appointments.insert(k, entry)

    def _ended(self, service, number, how, wait_s, estimate):
        self.out.append(("ended", service, number, how, wait_s, estimate))
        self.stats.ended(service, how)

    def _find_waiting(self, s, number):
        # Where a waiting ticket is: ("q", queue, offset) / ("a", index) / ("t", index) / None.
        for q in (2 * s, 2 * s + 1):
            at = self.queues.find(q, number)
            if at >= 0:
                return "q", q, at
        for k in range(len(self.appointments)):
            if self.appointments[k][1] == s and self.appointments[k][2] == number:
                return "a", k, 0
        for k in range(len(self.transfers)):
            if self.transfers[k][1] == s and self.transfers[k][2] == number:
                return "t", k, 0
        return None

    def _take_ticket(self, s, number):
        # Remove a waiting ticket wherever it waits: (service, number, kind, issued, estimate).
        where = self._find_waiting(s, number) if s >= 0 else None
        if where is None:
            return None
        kind, key, at = where
        if kind == "q":
            n, issued, estimate = self.queues.remove(key, at)
            return s, number, PRIORITY if key & 1 else ORDINARY, self._abs(issued), estimate
        if kind == "a":
            a = self.appointments.pop(key)
            return s, number, APPOINTMENT, a[3], a[4]
        t = self.transfers.pop(key)
        return s, number, ORDINARY, t[3], t[4]

    def _cancel(self, now, ticket):
        # The citizen left (gave up waiting, or cancelled at the dispenser).
        s, number = self.parse_ticket(ticket)
        entry = self._take_ticket(s, number)
        if entry is None:
            return UNKNOWN_TICKET
        self._ended(s, number, CANCELLED, now - entry[3], entry[4])
        self.out.append(("queue", s, self.waiting(s)))
        return OK
