# Hall display role (综合屏): the last calls, people waiting per service, and the voice
# announcement of each call. Sans-IO; actions: ("screen", lines), ("voice", clips).
from firmware.drivers.dfplayer import call_clips

ROWS = 8
PHRASES = ("请", "号到", "号窗口", "等候:", "人", "系统连接中断")   # glyphs prepared at provisioning


class DisplayRole:
    def __init__(self, config, now):
        self.calls = []          # (ticket, window), newest first
        self.waiting = {}        # service -> people waiting
        self.out = []

    def message(self, msg, now):
        kind = msg["type"]
        if kind == "display_update" and msg["ticket"]:
            entry = (msg["ticket"], msg["window"])
            if entry in self.calls:
                self.calls.remove(entry)
            self.calls.insert(0, entry)
            del self.calls[ROWS:]
            if msg["voice"]:
                self.out.append(("voice", call_clips(msg["ticket"], msg["window"], msg["voice"] == 2)))
            self.render()
        elif kind == "queue_status":
            self.waiting[msg["service"]] = msg["waiting"]
            self.render()

    def hub_lost(self, now):
        self.out.append(("screen", ["系统连接中断"] + ["请%s号到%d号窗口" % c for c in self.calls[:3]]))

    def hub_back(self, now):
        self.render()

    def render(self):
        lines = ["请%s号到%d号窗口" % call for call in self.calls]
        if self.waiting:
            lines.append("等候: " + "  ".join("%s %d人" % (s, self.waiting[s])
                                               for s in sorted(self.waiting)))
        self.out.append(("screen", lines))
