# Hall display role (综合屏): the last calls, people waiting per service, and the voice
# announcement of each call. Sans-IO; actions: ("screen", lines), ("voice", clips).
from firmware.drivers.dfplayer import call_clips
from protocol.ticks import ticks_add, ticks_diff

ROWS = 8
PHRASES = ("请", "号到", "号窗口", "等候:", "人", "系统连接中断",
           "系统告警", "请联系管理员")                           # glyphs prepared at provisioning
_STAFF_ALERTS = (8, 9, 11)   # journal damaged, journal write failed, a device out of turn on the bus
NOTICE_MS = 30 * 60000       # how long such an alert stays on the board


class DisplayRole:
    def __init__(self, config, now):
        self.calls = []          # (ticket, window), newest first
        self.waiting = {}        # service -> people waiting
        self.notice = None       # ms tick until which the staff alert line shows
        self.out = []

    def message(self, msg, now, src=0):
        kind = msg["type"]
        if kind == "display_update" and msg["ticket"]:
            entry = (msg["ticket"], msg["window"])
            if entry in self.calls:
                self.calls.remove(entry)
            self.calls.insert(0, entry)
            del self.calls[ROWS:]
            if msg["voice"]:
                self.out.append(("voice", call_clips(msg["ticket"], msg["window"], msg["voice"] == 2)))
            self.render(now)
        elif kind == "queue_status":
            self.waiting[msg["service"]] = msg["waiting"]
            self.render(now)
        elif kind == "alert" and msg["kind"] in _STAFF_ALERTS:
            # the hub's own trouble (its journal, its bus): shown for the staff to act on
            self.notice = ticks_add(now, NOTICE_MS)
            self.render(now)

    def hub_lost(self, now):
        self.out.append(("screen", ["系统连接中断"] + ["请%s号到%d号窗口" % c for c in self.calls[:3]]))

    def hub_back(self, now):
        self.render()

    def render(self, now=None):
        lines = ["请%s号到%d号窗口" % call for call in self.calls]
        if self.notice is not None and now is not None and ticks_diff(now, self.notice) > 0:
            self.notice = None
        if self.notice is not None:
            lines.insert(0, "系统告警 请联系管理员")
        if self.waiting:
            lines.append("等候: " + "  ".join("%s %d人" % (s, self.waiting[s])
                                               for s in sorted(self.waiting)))
        self.out.append(("screen", lines))
