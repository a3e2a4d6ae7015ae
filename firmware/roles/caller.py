# Window caller role: the staff keypad and the window's LED board (and optional voice module).
# Keys send commands to the hub; the hub's window_state / command_result messages decide what
# the board shows. Destructive actions (no-show, transfer, pause) need the confirm key within
# CONFIRM_MS after them.
# Sans-IO; actions appended to out:
#   ("send", message dict)      commands to the hub (each with a fresh req id)
#   ("board", text, blink_s)    what the LED board shows
#   ("voice", clips)            an announcement for the voice module
from protocol.codes import CLOSED, PAUSED, IDLE, CALLED, SERVING
from protocol.ticks import ticks_diff

from firmware.drivers.dfplayer import call_clips

# Key numbers on the default 4x4 keypad (config "keymap" may rename them).
KEYMAP = {0: "next", 1: "recall", 2: "start", 3: "finish", 4: "no_show", 5: "hold",
          6: "call_back", 7: "transfer", 8: "pause", 9: "confirm", 15: "close"}
DESTRUCTIVE = ("no_show", "transfer", "pause", "close")
COMMANDS = {"next": "call_next", "recall": "recall", "start": "start", "finish": "finish",
            "no_show": "no_show", "hold": "hold"}

MAX_HELD = 8              # held tickets the call-back key cycles through


class CallerRole:
    CONFIRM_MS = 3000
    BLINK_S = 5

    def __init__(self, config, now, first_req=1):
        self.window = config["window"]
        self.keymap = config.get("keymap", KEYMAP)
        self.transfer_to = config.get("transfer_services", [])
        self.req = first_req & 0xFFFF
        self.out = []
        self.armed = None          # (action, at) waiting for confirm
        self.choosing = False      # transfer: the next digit key picks the service
        self.state = CLOSED
        self.phase = IDLE
        self.ticket = ""
        self.waiting = 0
        self.held = []             # tickets this window put on hold, oldest first
        self.online = True
        self._recalls = 0

    def _send(self, kind, **fields):
        self.req = (self.req + 1) & 0xFFFF
        msg = {"type": kind, "req": self.req, "window": self.window}
        msg.update(fields)
        self.out.append(("send", msg))

    def key(self, index, now):
        action = self.keymap.get(index)
        if self.choosing:
            self.choosing = False
            pick = index - 10
            if 0 <= pick < len(self.transfer_to):
                self._send("transfer", ticket=self.ticket, service=self.transfer_to[pick], to_window=0)
            else:
                self.show()
            return
        if action is None:
            return
        if action == "confirm":
            armed = self.armed
            self.armed = None
            if armed is not None and ticks_diff(now, armed[1]) < self.CONFIRM_MS:
                self._do(armed[0], now)
            else:
                self.show()
            return
        if action in DESTRUCTIVE and not (action == "pause" and self.state == PAUSED):
            self.armed = (action, now)
            self.out.append(("board", "确认%s?" % _LABELS[action], 0))
            return
        self._do(action, now)

    def _do(self, action, now):
        if action in COMMANDS:
            if action == "hold" and self.ticket and self.ticket not in self.held:
                self.held.append(self.ticket)
                if len(self.held) > MAX_HELD:     # the hub keeps them all; this is a shortcut
                    self.held.pop(0)
            self._send(COMMANDS[action])
        elif action == "call_back":
            if self.held:
                self._send("call_back", ticket=self.held.pop(0))
        elif action == "transfer":
            if self.transfer_to:
                self.choosing = True
                self.out.append(("board", "转至: " + " ".join(
                    "%d=%s" % (k + 1, s) for k, s in enumerate(self.transfer_to)), 0))
        elif action == "pause":
            self._send("resume" if self.state == PAUSED else "pause",
                       **({} if self.state == PAUSED else {"reason": 0}))
        elif action == "close":
            self._send("window_close")

    def login(self, staff, now):
        # A staff member signs in (ID typed on the keypad, or a card reader): the window opens
        # for them. Opening an open window changes nothing at the hub.
        self._send("window_open")
        self._send("staff_login", staff=staff)

    def message(self, msg, now, src=0):
        kind = msg["type"]
        if kind == "window_state" and msg["window"] == self.window:
            called = msg["phase"] == CALLED and (msg["ticket"] != self.ticket or
                                                 msg["recalls"] != self._recalls)
            self.state, self.phase = msg["state"], msg["phase"]
            self.ticket, self.waiting = msg["ticket"], msg["waiting"]
            again = msg["recalls"] > 0
            self._recalls = msg["recalls"]
            self.online = True
            self.show(blink=self.BLINK_S if called else 0)
            if called:
                self.out.append(("voice", call_clips(self.ticket, self.window, again)))
        elif kind == "command_result" and msg["window"] == self.window and msg["result"]:
            self.out.append(("board", _RESULTS.get(msg["result"], "失败"), 0))

    def show(self, blink=0):
        if not self.online:
            text = "连接中断"
        elif self.state == CLOSED:
            text = "%d号窗口 停止服务" % self.window
        elif self.state == PAUSED:
            text = "暂停服务"
        elif self.phase == CALLED:
            text = "请%s号到%d号窗口" % (self.ticket, self.window) + ("(重呼)" if self._recalls else "")
        elif self.phase == SERVING:
            text = "%s 正在办理" % self.ticket
        else:
            text = "%d号窗口 等候%d人" % (self.window, self.waiting)
        self.out.append(("board", text, blink))

    def hub_lost(self, now):
        self.online = False
        self.show()

    def hub_back(self, now):
        self.online = True
        self.show()


_LABELS = {"no_show": "过号", "transfer": "转移", "pause": "暂停", "close": "下班"}
_RESULTS = {1: "无人等候", 2: "操作无效", 3: "请先登录", 4: "无此号码", 5: "已过号"}

# Every fixed phrase the board shows, for the glyphs prepared at provisioning (hallctl);
# numbers and letters come from the ASCII glyphs.
PHRASES = ("请", "号到", "号窗口", "(重呼)", "停止服务", "暂停服务", "正在办理", "等候", "人",
           "确认", "转至:", "连接中断", "失败") + tuple(_LABELS.values()) + tuple(_RESULTS.values())
