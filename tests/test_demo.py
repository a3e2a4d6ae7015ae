"""`hallctl demo` (what `make run` shows until the simulator exists): through a noisy line,
every ticket request is answered exactly once."""
from hallctl import demo


def test_every_request_answered_once_despite_noise():
    lines = []
    dispenser, hub = demo.run(tickets=8, seed=3, loss=0.01, corrupt=0.01, out=lines.append)
    assert hub.decoder.rejected() + dispenser.decoder.rejected() > 0          # the noise was real
    assert hub.link.stats["retries"] + dispenser.link.stats["retries"] > 0
    issued = [line for line in lines if "dispenser got" in line]
    reqs = sorted(int(line.split('"req": ')[1].split(",")[0]) for line in issued)
    assert reqs == list(range(1, 9))
    tickets = sorted(line.split('"ticket": "')[1][:4] for line in issued)
    assert tickets == ["A%03d" % n for n in range(1, 9)]                     # no ticket twice
