"""Wait estimates measured against what then happened, in a simulated day: the routing core's
estimate must beat the naive one (people ahead x mean service time / open windows)."""
import pytest

from firmware.routing.config import HallConfig
from hall import at
from host_sim.ticketlevel import TicketLevelHall

SHARED_HALL = {
    "services": [
        {"prefix": "A", "service_min": 5, "max_wait_min": 60},
        {"prefix": "B", "service_min": 11, "max_wait_min": 60},
        {"prefix": "C", "service_min": 3, "max_wait_min": 30},
    ],
    "windows": [
        {"number": 1, "services": ["A", "B"]}, {"number": 2, "services": ["A", "C"]},
        {"number": 3, "services": [["B", 2], "A"]}, {"number": 4, "services": ["B"]},
        {"number": 5, "services": ["C", "A"]},
    ],
    "staff": {"S%d" % i: "staff %d" % i for i in range(1, 6)},
}
RATES = {"A": 24, "B": 12, "C": 20}
MEANS = {"A": 300, "B": 660, "C": 180}


def day(seed, **kw):
    return TicketLevelHall(HallConfig(SHARED_HALL), at("08:30"), at("16:30"), RATES, MEANS,
                           seed=seed, **kw).run()


@pytest.mark.parametrize("kw", [{"service_cv": 1.0}, {"service_cv": 0.5},
                                {"service_cv": 0.5, "priority_share": 0.1}],
                         ids=["exponential", "lognormal", "lognormal+priority"])
def test_estimate_beats_naive_on_mean_absolute_error(kw):
    results = [day(seed, **kw) for seed in range(1, 6)]
    core = sum(r.mae("core") for r in results)
    naive = sum(r.mae("naive") for r in results)
    assert all(r.served > 200 for r in results)
    assert core / naive <= 0.7, (core / naive, core / 5, naive / 5)


def test_every_served_ticket_has_estimate_and_actual_recorded():
    result = day(7, service_cv=0.5)
    assert result.served == len(result.waits) == len(result.estimates) == len(result.naive)
    assert min(result.waits) >= 0 and max(result.estimates) > 0
