# The caller role and the DFPlayer voice driver.
from firmware.roles.caller import CallerRole
from firmware.drivers import dfplayer

CONFIG = {"id": "caller-3", "role": "caller", "hall": "h", "board": "host", "bus_address": 33,
          "window": 3, "transfer_services": ["B", "C"]}
NEXT, RECALL, START, FINISH, NO_SHOW, HOLD, CALL_BACK, TRANSFER, PAUSE, CONFIRM = range(10)


def take(r, kind=None):
    out = [a for a in r.out if kind is None or a[0] == kind]
    r.out = []
    return out


def state(phase, ticket="", recalls=0, waiting=4, st=1):
    return {"type": "window_state", "window": 3, "state": st, "phase": phase, "ticket": ticket,
            "recalls": recalls, "waiting": waiting, "staff": "S3"}


def test_keys_send_commands_with_fresh_request_ids():
    r = CallerRole(CONFIG, 0, first_req=7)
    r.key(NEXT, 0)
    r.key(START, 10)
    r.key(FINISH, 20)
    assert [a[1] for a in take(r, "send")] == [
        {"type": "call_next", "req": 8, "window": 3}, {"type": "start", "req": 9, "window": 3},
        {"type": "finish", "req": 10, "window": 3}]


def test_a_call_shows_blinks_and_announces():
    r = CallerRole(CONFIG, 0)
    r.message(state(1, "A012"), 0)
    assert take(r, "board") == [("board", "请A012号到3号窗口", 5)]
    r.message(state(1, "A012"), 0)
    assert take(r, "voice") == []                       # same state again: no second call
    r.message(state(1, "A012", recalls=1), 1000)
    out = take(r)
    assert ("board", "请A012号到3号窗口(重呼)", 5) in out
    assert ("voice", dfplayer.call_clips("A012", 3, again=True)) in out
    r.message(state(0, waiting=2), 2000)
    assert take(r, "board") == [("board", "3号窗口 等候2人", 0)]
    r.message(state(0, st=2), 3000)
    assert take(r, "board") == [("board", "暂停服务", 0)]


def test_destructive_keys_need_confirmation_in_time():
    r = CallerRole(CONFIG, 0)
    r.message(state(1, "A012"), 0)
    take(r)
    r.key(NO_SHOW, 100)
    assert take(r) == [("board", "确认过号?", 0)]
    r.key(CONFIRM, 100 + CallerRole.CONFIRM_MS + 1)     # too late: nothing sent
    assert take(r, "send") == []
    r.key(NO_SHOW, 5000)
    r.key(CONFIRM, 5500)
    assert [a[1]["type"] for a in take(r, "send")] == ["no_show"]


def test_transfer_picks_a_service_and_hold_then_call_back():
    r = CallerRole(CONFIG, 0)
    r.message(state(2, "A012"), 0)
    r.key(TRANSFER, 10)
    r.key(CONFIRM, 20)
    assert take(r, "board")[-1] == ("board", "转至: 1=B 2=C", 0)
    r.key(11, 30)                                       # the second choice: C
    assert take(r, "send")[0][1]["service"] == "C"
    r.message(state(2, "A013"), 100)
    r.key(HOLD, 110)
    r.message(state(0), 120)
    r.key(CALL_BACK, 130)
    sent = [a[1] for a in take(r, "send")]
    assert sent[0]["type"] == "hold" and sent[1] == {"type": "call_back", "req": sent[1]["req"],
                                                     "window": 3, "ticket": "A013"}


def test_pause_needs_confirmation_but_resume_does_not():
    r = CallerRole(CONFIG, 0)
    r.message(state(0), 0)
    r.key(PAUSE, 10)
    r.key(CONFIRM, 20)
    assert take(r, "send")[0][1]["type"] == "pause"
    r.message(state(0, st=2), 30)
    r.key(PAUSE, 40)
    assert take(r, "send")[0][1]["type"] == "resume"


def test_dfplayer_frames_and_sequencing():
    assert dfplayer.frame(0x12, 40) == bytes.fromhex("7eff0612000028fec1ef")   # checksum -(0xFF+6+0x12+0x28)
    clips = dfplayer.call_clips("A012", 3)
    assert clips == [45, 40, 1, 30, 31, 32, 41, 42, 33, 41, 43]
    v = dfplayer.VoicePlayer()
    v.play(clips[:3], 0)
    assert v.out == [dfplayer.frame(0x12, 45)]
    v.out = []
    finished = bytes.fromhex("7eff063d0000010000ef")  # "track 1 finished" (checksum not checked:
                                                       # clones get it wrong)
    v.feed(b"\x00" + finished[:4], 100)                  # split and noisy input
    v.feed(finished[4:], 110)
    assert v.out == [dfplayer.frame(0x12, 40)]
    v.out = []
    v.tick(110 + v.CLIP_TIMEOUT_MS)                      # a clone that never reports
    assert v.out == [dfplayer.frame(0x12, 1)]
