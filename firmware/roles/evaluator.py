# Evaluator role (服务评价器): after each finished service the hub asks for a rating; the
# evaluator shows the staff member's name and ID (亮身份), lights the rating keys only while it
# asks, takes a reason for 不满意 or worse, times out, and thanks the citizen.
# Sans-IO; actions: ("send", msg), ("screen", lines), ("lights", bitmask of lit keys).
from protocol.ticks import ticks_add, ticks_diff

LEVELS_5 = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
LEVELS_4 = ("非常满意", "满意", "基本满意", "不满意")
REASONS = ("态度不好", "等候太久", "业务不熟", "材料反复", "其他")    # key k -> reason code k+1

# Every fixed phrase the screen shows, for the glyphs prepared at provisioning (with the
# characters of the hall's staff names, which the hub sends at run time).
PHRASES = LEVELS_5 + REASONS + ("工号", "请对本次服务评价", "请选择原因", "谢谢您的评价",
                                 "欢迎再次光临", "评价未被记录", "号窗口", "系统连接中断")


class EvaluatorRole:
    THANKS_MS = 3000

    def __init__(self, config, now):
        self.window = config["window"]
        self.levels = config.get("rating_levels", 5)
        # this level and worse need a reason: the hall's rules.reason_required_from (provision)
        self.reason_from = config.get("reason_from", 4)
        self.out = []
        self.asking = None                   # (ticket, staff, name, deadline ms)
        self.level = 0                       # chosen, waiting for a reason
        self.thanks_until = None
        self.staff = ("", "")

    def message(self, msg, now, src=0):
        if msg.get("window") != self.window:
            return
        if msg["type"] == "rating_request":
            self.levels = msg["levels"] or self.levels
            self.asking = (msg["ticket"], msg["staff"], msg["staff_name"],
                           ticks_add(now, msg["timeout_s"] * 1000))
            self.staff = (msg["staff_name"], msg["staff"])
            self.level = 0
            names = LEVELS_5 if self.levels == 5 else LEVELS_4
            self.out.append(("screen", ["%s 工号%s" % self.staff, "请对本次服务评价",
                                        " ".join(names)]))
            self.out.append(("lights", (1 << self.levels) - 1))
        elif msg["type"] == "rating_result" and self.asking is None and msg["result"]:
            self.out.append(("screen", ["%s 工号%s" % self.staff, "评价未被记录"]))

    def key(self, index, now):
        if self.asking is None:
            return
        ticket = self.asking[0]
        if self.level:                                  # second step: the reason
            if index < len(REASONS):
                self._send(ticket, self.level, [index + 1], now)
            return
        if index >= self.levels:
            return
        level = index + 1
        if level >= self.reason_from:
            self.level = level
            self.out.append(("screen", ["请选择原因", " ".join(REASONS)]))
            self.out.append(("lights", (1 << len(REASONS)) - 1))
        else:
            self._send(ticket, level, [], now)

    def _send(self, ticket, level, reasons, now):
        self.out.append(("send", {"type": "rating", "window": self.window, "ticket": ticket,
                                  "level": level, "reasons": reasons}))
        self._close(now, "谢谢您的评价")

    def _close(self, now, text):
        self.asking = None
        self.level = 0
        self.out.append(("lights", 0))
        self.out.append(("screen", ["%s 工号%s" % self.staff, text]))
        self.thanks_until = ticks_add(now, self.THANKS_MS)

    def hub_lost(self, now):
        if self.asking is not None:           # no rating can reach the hub now
            self.asking = None
            self.out.append(("lights", 0))
        self.out.append(("screen", ["%s 工号%s" % self.staff, "系统连接中断"]))

    def hub_back(self, now):
        self.out.append(("screen", ["%s 工号%s" % self.staff, "%d号窗口" % self.window]))

    def next_wake(self, now):
        # Milliseconds until tick() has something to do (None: nothing pending).
        if self.asking is not None:
            return ticks_diff(self.asking[3], now)
        if self.thanks_until is not None:
            return ticks_diff(self.thanks_until, now)
        return None

    def tick(self, now):
        if self.asking is not None and ticks_diff(now, self.asking[3]) >= 0:
            ticket = self.asking[0]
            self.out.append(("send", {"type": "rating_timeout", "window": self.window,
                                      "ticket": ticket}))
            self._close(now, "欢迎再次光临")
        elif self.thanks_until is not None and ticks_diff(now, self.thanks_until) >= 0:
            self.thanks_until = None
            self.out.append(("screen", ["%s 工号%s" % self.staff, "%d号窗口" % self.window]))
