# The evaluator and hall-display roles.
from firmware.roles.evaluator import EvaluatorRole
from firmware.roles.display import DisplayRole

CONFIG = {"id": "eval-3", "role": "evaluator", "hall": "h", "board": "host", "bus_address": 34,
          "window": 3}
REQUEST = {"type": "rating_request", "window": 3, "ticket": "A012", "staff": "S001",
           "staff_name": "张三", "levels": 5, "timeout_s": 30}


def take(r, kind=None):
    out = [a for a in r.out if kind is None or a[0] == kind]
    r.out = []
    return out


def test_asks_with_staff_identity_and_lit_keys_then_thanks():
    r = EvaluatorRole(CONFIG, 0)
    r.key(0, 0)
    assert take(r) == []                                   # nothing asked: keys do nothing
    r.message(REQUEST, 100)
    out = take(r)
    assert out[0][1][0] == "张三 工号S001" and ("lights", 0b11111) in out
    r.key(1, 200)                                          # 满意
    out = take(r)
    assert ("send", {"type": "rating", "window": 3, "ticket": "A012", "level": 2,
                     "reasons": []}) in out
    assert ("lights", 0) in out and out[-1][1][1] == "谢谢您的评价"
    r.key(0, 300)
    assert take(r, "send") == []                           # one rating per request


def test_unsatisfied_needs_a_reason():
    r = EvaluatorRole(CONFIG, 0)
    r.message(REQUEST, 0)
    take(r)
    r.key(3, 10)                                           # 不满意
    assert take(r, "send") == []
    r.key(1, 20)                                           # reason 2: waited too long
    assert take(r, "send")[0][1]["reasons"] == [2]


def test_times_out_and_four_levels():
    r = EvaluatorRole(CONFIG, 0)
    r.message(dict(REQUEST, levels=4), 0)
    assert ("lights", 0b1111) in take(r)
    r.key(4, 10)                                           # no fifth key in 4 levels
    assert take(r, "send") == []
    r.tick(30000)
    assert take(r, "send") == [("send", {"type": "rating_timeout", "window": 3, "ticket": "A012"})]


def test_other_windows_requests_are_not_ours():
    r = EvaluatorRole(CONFIG, 0)
    r.message(dict(REQUEST, window=4), 0)
    assert take(r) == []


def test_hall_display_keeps_recent_calls_and_announces():
    d = DisplayRole({}, 0)
    for k in range(10):
        d.message({"type": "display_update", "window": 1 + k % 3, "ticket": "A%03d" % k,
                   "text": "", "voice": 1, "blink": 3}, k)
    screens = take(d, "screen")
    assert len(screens[-1][1]) == 8 and screens[-1][1][0] == "请A009号到1号窗口"
    d.message({"type": "display_update", "window": 1, "ticket": "A009", "text": "", "voice": 2,
               "blink": 3}, 20)
    out = take(d)
    assert out[0][0] == "voice" and 44 in out[0][1]           # 重呼
    d.message({"type": "queue_status", "service": "A", "waiting": 12, "open": 3}, 30)
    assert take(d, "screen")[-1][1][-1] == "等候: A 12人"
