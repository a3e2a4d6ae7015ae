# Hub role: the bridge between the devices' messages and the routing core, and the registry of
# every device (online or not, last seen, its last status). Sans-IO: message() and tick() take
# the time twice, ms ticks for link timing and UTC seconds for the core, and append
# ("send", address, message dict) actions to out.
from protocol.codes import OK, REFUSED, PRINTER, DEVICE_OFFLINE, MISBEHAVING, BUS_OUT_OF_TURN, \
    RATE_LIMITED, NONE, VOICE_CALL, VOICE_RECALL, RECORDED
from firmware.routing.config import S_PREFIX

_COMMANDS = {"call_next": "call_next", "recall": "recall", "start": "start", "finish": "finish",
             "no_show": "no_show", "hold": "hold", "pause": "pause", "resume": "resume",
             "window_open": "window_open", "window_close": "window_close",
             "staff_logout": "logout"}
_WITH_TICKET = {"call_ticket": "call_ticket", "call_back": "call_back"}
_UNLIMITED = ("status", "heartbeat")    # signs of life: cheap, and never journalled


class Device:
    # What the hub knows of one device.
    def __init__(self, address, ident, role, window):
        self.address = address
        self.id = ident
        self.role = role
        self.window = window
        self.last_seen = None        # UTC seconds
        self.online = False
        self.status = None           # the last status message
        self.tokens = HubRole.BURST  # refusals it may still cost, in halves (one back a second)
        self.token_time = 0
        self.refused = 0             # messages dropped: over its rate, or failing to handle
        self.faults = 0              # messages whose handling raised (a bug shown by this device)
        self.reported = False        # its misbehaviour told to the hall (once per spell)
        self.out_of_turn = 0         # times the bus master found it talking out of turn


class HubRole:
    OFFLINE_AFTER_S = 75             # no frame for this long (2.5 status periods): offline
    # A device's requests that are refused (and so journalled for nothing) are limited: a
    # token bucket of BURST refusals, refilled one every 2 s. Requests that succeed cost
    # nothing, so a busy window is never slowed; a flood of refused ones is cut off.
    BURST = 60                       # in half refusals
    COST = 2

    def __init__(self, core, devices):
        # devices: iterable of device configs (id, role, bus_address, window).
        self.core = core
        self.out = []
        self.devices = {}
        for doc in devices:
            dev = Device(doc["bus_address"], doc["id"], doc["role"], doc.get("window"))
            self.devices[dev.address] = dev
        self.by_window = {}
        for dev in self.devices.values():
            if dev.window is not None:
                self.by_window[(dev.role, dev.window)] = dev.address
        self.faults = {}                 # (device id, error name) -> count, each logged once
        self.log = None                  # optional callable(text)
        # optional callable(now, outputs): sees every batch of the routing core's outputs
        # before the hub turns them into messages (the simulators keep the day's record so)
        self.observe = None
        self.on_alert = None             # optional callable(kind, window, subject, value)
        if core.out:                     # what recovery found (a damaged journal): tell the hall
            self._relay(0)

    def _send(self, address, msg):
        if address is not None:
            self.out.append(("send", address, msg))

    def _displays(self, msg):
        for dev in self.devices.values():
            if dev.role == "display":
                self._send(dev.address, msg)

    def _alert(self, kind, window, service, subject, value):
        # An alert for the hall: on every display, and to on_alert (the hall PC's log).
        self._displays({"type": "alert", "kind": kind, "window": window, "service": service,
                        "ticket": subject, "value": value})
        if self.on_alert is not None:
            self.on_alert(kind, window, subject or service, value)

    def clock(self, utc):
        # The hall's clock, broadcast by the hub's node every minute.
        return {"type": "time_sync", "utc": utc, "tz_min": self.core.cfg.tz_offset_s // 60}

    def message(self, msg, now, src):
        # A message from the device at bus address src, at UTC second now. Each is handled on
        # its own: whatever one device sends, the hub goes on serving the others.
        dev = self.devices.get(src)
        if dev is None:
            return                                     # not one of ours
        self._seen(dev, now)
        limited = msg["type"] not in _UNLIMITED
        if limited and not self._allowed(dev, now):
            self._refuse(dev, now)
            self._throttled(src, msg)
            return
        mark = len(self.out)
        try:
            if self._handle(dev, src, msg, now) and limited:
                dev.tokens -= self.COST                 # refused: it spent a token
        except Exception as exc:                       # a bug a device found
            del self.out[mark:]
            self.core.out = []
            dev.tokens -= self.COST
            dev.faults += 1
            self.fault(dev.id, "%s from %s" % (msg.get("type"), dev.id), exc)
            self._refuse(dev, now)

    def fault(self, who, what, exc):
        # An error the hub caught and went on from: counted per source and kind, logged once.
        key = (who, type(exc).__name__)
        count = self.faults.get(key, 0)
        self.faults[key] = count + 1
        if count == 0 and self.log is not None:
            self.log("hub: %s raised %s: %s" % (what, key[1], exc))

    def _allowed(self, dev, now):
        if now != dev.token_time:
            dev.tokens = min(self.BURST, dev.tokens + max(now - dev.token_time, 0))
            dev.token_time = now
        if dev.tokens >= self.BURST // 2:
            dev.reported = False                        # behaving again: report a new spell
        return dev.tokens >= self.COST

    def _throttled(self, src, msg):
        # The answer to a request the hub no longer takes from this device: not journalled.
        kind = msg["type"]
        if kind == "ticket_request":
            self._send(src, {"type": "ticket_refused", "req": msg["req"],
                             "service": msg["service"], "reason": RATE_LIMITED})
        elif "req" in msg and "window" in msg:
            self._send(src, {"type": "command_result", "req": msg["req"], "window": msg["window"],
                             "result": REFUSED})

    def _refuse(self, dev, now):
        dev.refused = dev.refused + 1 if dev.refused < 0xFFFF else 0xFFFF
        if not dev.reported:
            dev.reported = True
            self._alert(MISBEHAVING, dev.window or 0, "", dev.id[:32], dev.refused)

    def _handle(self, dev, src, msg, now):
        # Carry out one message; True if it was refused.
        kind = msg["type"]
        core = self.core
        core.out = []
        if kind == "status":
            before = dev.status
            dev.status = msg
            if before is not None and msg["uptime"] < before["uptime"]:
                self._reshow(dev)                      # it rebooted: show it its window again
            return False
        if kind == "ticket_request" and dev.role == "dispenser":
            result = core.issue(now, msg["service"], msg["kind"], device=dev.id, req=msg["req"])
            self._relay(now, reply_to=(src, msg["req"]))
            return result != OK
        if kind == "print_result" and dev.role == "dispenser":
            # not printed: void it and tell the hall, but only a ticket this dispenser printed
            # and that still waits (a dispenser acts on its own tickets alone, once)
            if not msg["result"]:
                return False
            if not core.issued_by(dev.id, msg["ticket"]):
                return True
            core.cancel(now, msg["ticket"])
            self._alert(PRINTER, 0, "", msg["ticket"], msg["result"])
            self._relay(now)
            return False
        if kind in _COMMANDS or kind in _WITH_TICKET or kind in ("transfer", "staff_login"):
            window = msg["window"]
            if dev.role != "caller" or dev.window != window:
                self._send(src, {"type": "command_result", "req": msg["req"], "window": window,
                                 "result": REFUSED})   # only a window's own caller runs it
                return True
            if kind in _COMMANDS:
                result = getattr(core, _COMMANDS[kind])(now, window, device=dev.id, req=msg["req"])
            elif kind in _WITH_TICKET:
                result = getattr(core, _WITH_TICKET[kind])(now, window, msg["ticket"],
                                                           device=dev.id, req=msg["req"])
            elif kind == "transfer":
                result = core.transfer(now, window, msg["service"], msg["to_window"],
                                       device=dev.id, req=msg["req"])
            else:
                result = core.login(now, window, msg["staff"], device=dev.id, req=msg["req"])
            self._send(src, {"type": "command_result", "req": msg["req"], "window": window,
                             "result": result})
            self._relay(now)
            return result != OK
        if kind == "rating" and dev.role == "evaluator":
            result = core.rate(now, msg["window"], msg["ticket"], msg["level"], msg["reasons"],
                               evaluator=dev.id)
            self._relay(now)
            return result != RECORDED
        return kind != "heartbeat" and kind != "rating_timeout"

    def _relay(self, now, reply_to=None):
        # Turn the core's outputs into messages for the devices that show them.
        core = self.core
        cfg = core.cfg
        if self.observe is not None:
            self.observe(now, core.out)
        for o in core.out:
            kind = o[0]
            if kind == "issued" and reply_to is not None:
                self._send(reply_to[0], {
                    "type": "ticket_issued", "req": reply_to[1], "ticket": core.ticket_name(o[1], o[2]),
                    "service": cfg.services[o[1]][S_PREFIX], "kind": o[3], "ahead": o[4],
                    "wait_min": o[5], "wait_max": o[6], "issued": o[7]})
            elif kind == "refused" and reply_to is not None:
                self._send(reply_to[0], {"type": "ticket_refused", "req": reply_to[1],
                                         "service": o[1], "reason": o[2]})
            elif kind == "window":
                self._window_state(o[1])
            elif kind == "called":
                number = cfg.numbers[o[1]]
                self._displays({"type": "display_update", "window": number,
                                "ticket": core.ticket_name(o[2], o[3]), "text": "",
                                "voice": VOICE_RECALL if o[4] else VOICE_CALL, "blink": 5})
            elif kind == "rating_request":
                number = cfg.numbers[o[1]]
                staff = o[4] or ""
                self._send(self.by_window.get(("evaluator", number)), {
                    "type": "rating_request", "window": number, "ticket": core.ticket_name(o[2], o[3]),
                    "staff": staff, "staff_name": cfg.staff.get(staff, ""),
                    "levels": cfg.rating_levels, "timeout_s": cfg.rating_window_s})
            elif kind == "rating_result":
                self._send(self.by_window.get(("evaluator", o[1])), {
                    "type": "rating_result", "window": o[1], "ticket": o[2], "result": o[3]})
            elif kind == "queue":
                open_windows = 0
                for w in range(cfg.window_count()):
                    serves = core.is_open(w) and o[1] in cfg.window_services[w]
                    open_windows += serves
                    if serves and o[2] == 1 and core.is_idle(w):
                        self._window_state(w)          # someone waits now: tell idle staff
                self._displays({"type": "queue_status", "service": cfg.services[o[1]][S_PREFIX],
                                "waiting": o[2], "open": open_windows})
            elif kind == "alert":
                self._alert(o[1], cfg.numbers[o[2]] if o[2] != NONE else 0,
                            cfg.services[o[3]][S_PREFIX] if o[3] != NONE else "",
                            core.ticket_name(o[3], o[4]) if o[4] and o[3] != NONE else "",
                            min(o[5], 0xFFFF))
        core.out = []

    def _window_state(self, w):
        number = self.core.cfg.numbers[w]
        state, phase, ticket, recalls, waiting, staff = self.core.window_view(w)
        self._send(self.by_window.get(("caller", number)), {
            "type": "window_state", "window": number, "state": state, "phase": phase,
            "ticket": ticket, "recalls": recalls, "waiting": min(waiting, 0xFFFF), "staff": staff})

    def presence(self, address, online, now):
        # The broker says a device connected (its birth message) or went away (its last will).
        dev = self.devices.get(address)
        if dev is None:
            return
        if online:
            self._seen(dev, now)
        elif dev.online:
            dev.online = False
            self._offline(dev)

    def _seen(self, dev, now):
        # A sign of life; on (re)contact, show the device the truth.
        dev.last_seen = now
        if not dev.online:
            dev.online = True
            self._reshow(dev)

    def _reshow(self, dev):
        # A caller's board shows its window's state again (after contact or a reboot), and a
        # device not yet heard of reports its status now rather than in up to 30 s.
        if dev.status is None:
            self._send(dev.address, {"type": "status_request"})
        if dev.role == "caller" and self.core.cfg.window(dev.window) >= 0:
            self._window_state(self.core.cfg.window(dev.window))

    def out_of_turn(self, address, frames):
        # The bus master heard this device talk out of turn and told it to be quiet.
        dev = self.devices.get(address)
        name = dev.id if dev is not None else "bus-%d" % address
        if dev is not None:
            dev.out_of_turn = dev.out_of_turn + 1 if dev.out_of_turn < 0xFFFF else 0xFFFF
        self._alert(BUS_OUT_OF_TURN, (dev.window or 0) if dev is not None else 0, "", name[:32],
                    min(frames, 0xFFFF))

    def _offline(self, dev):
        self._alert(DEVICE_OFFLINE, dev.window or 0, "", dev.id[:32], 0)

    def tick(self, now):
        self.core.out = []
        self.core.tick(now)
        self._relay(now)
        for dev in self.devices.values():
            if dev.online and dev.last_seen is not None and now - dev.last_seen > self.OFFLINE_AFTER_S:
                dev.online = False
                self._offline(dev)

    def hall_status(self, now, hub=None):
        # The whole hall for an operator (hallctl status): the hub itself, then every device.
        core = self.core
        waiting = {}
        for k in range(len(core.cfg.services)):
            waiting[core.cfg.services[k][S_PREFIX]] = core.waiting(k)
        return {"hall": core.cfg.hall, "now": now, "hub": hub or {}, "waiting": waiting,
                "journal": core.damage(), "devices": self.status_table()}

    def status_table(self):
        # One row per device, for hallctl status: no secrets are held here to leak.
        rows = []
        for address in sorted(self.devices):
            dev = self.devices[address]
            st = dev.status or {}
            rows.append({"id": dev.id, "address": address, "role": dev.role, "window": dev.window,
                         "online": dev.online, "last_seen": dev.last_seen,
                         "fw": st.get("fw"), "uptime": st.get("uptime"),
                         "reset_cause": st.get("reset_cause"), "free_heap": st.get("free_heap"),
                         "rx_errors": st.get("rx_errors"), "printer": st.get("printer"),
                         "rssi": st.get("rssi"), "refused": dev.refused, "faults": dev.faults,
                         "out_of_turn": dev.out_of_turn})
        return rows
