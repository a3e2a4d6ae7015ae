# Ratings (政务服务好差评): the verdict on a rating, recorded for the window, service and staff.
# A refused rating is counted, never journalled.
from firmware.routing.durable import OP_RATE
from firmware.routing.stats import sat16
from protocol.codes import (RECORDED, WRONG_WINDOW, EXPIRED, ALREADY_RATED, NO_SUCH_TICKET,
    REASON_REQUIRED, BAD_LEVEL)


class Ratings:
    def rate(self, now, window, ticket, level, reasons=(), evaluator=None):
        # A rating from `evaluator` (a device id) for `ticket` at `window`. Returns RECORDED
        # or the reason it was rejected; rejections are counted.
        self._roll_day(now, True)
        verdict = self._rating_verdict(now, window, ticket, level, reasons, evaluator)
        if verdict != RECORDED:               # refused: counted, never journalled
            self.rejects[verdict] = sat16(self.rejects[verdict] + 1)
            self.out.append(("rating_result", window, ticket, verdict))
            return verdict
        return self._run(OP_RATE, now, (window, ticket, level, tuple(reasons), evaluator))

    def _rate(self, now, window, ticket, level, reasons, evaluator):
        result = self._rating_verdict(now, window, ticket, level, reasons, evaluator)
        if result == RECORDED:
            w = self._window(window)
            done = self.last_done[w]
            self.last_done[w] = (done[0], done[1], done[2], done[3], True)
            self.stats.rating(done[2], w, done[0], level)
        self.out.append(("rating_result", window, ticket, result))
        return result

    def _rating_verdict(self, now, window, ticket, level, reasons, evaluator):
        w = self._window(window) if type(window) is int else -1
        s, number = self.parse_ticket(ticket)
        done = self.last_done[w] if w >= 0 else None
        if w < 0 or evaluator is None or self.cfg.evaluator[w] != evaluator:
            result = WRONG_WINDOW          # only the evaluator paired with the window counts
        elif done is None or done[0] != s or done[1] != number:
            result = NO_SUCH_TICKET if s < 0 else WRONG_WINDOW
        elif done[4]:
            result = ALREADY_RATED
        elif now - done[3] > self.cfg.rating_window_s:
            result = EXPIRED
        elif type(level) is not int or not 1 <= level <= self.cfg.rating_levels:
            result = BAD_LEVEL
        elif level >= self.cfg.reason_required_from and not reasons:
            result = REASON_REQUIRED
        else:
            result = RECORDED
        return result
