"""The simulated hall's devices, built once for every simulator with one address plan: the
frame-level hall, the real-time hall (pseudo-terminals or a broker) and hallsim boards all
take their device configs from here, as hallctl provision would write them."""
from firmware.routing.config import S_PREFIX, S_NAME, S_MATERIALS
from hallpc.texts import printer_texts

# Bus addresses (SPEC.md: 1..247 devices, 0 the hub, 255 everyone), as the example hall's
# first devices have them (tools/hallctl/hall.example.json), with room for a city's hall
DISPLAYS = 1            # hall displays 1..16
DISPENSERS = 17         # dispensers 17..32
CALLERS = 33            # the caller of the k-th window: 33 + k (up to 96 windows)
EVALUATORS = 129        # its evaluator: 129 + k
MAX_WINDOWS = EVALUATORS - CALLERS


def dispenser(hall, k=0, board=None):
    """The k-th dispenser: a key for every service, then one for every service's priority."""
    services = hall.services
    config = {"id": "disp-%d" % (k + 1), "role": "dispenser", "hall": hall.hall,
              "bus_address": DISPENSERS + k, "printer": {"confirm": "gs_h"},
              "texts": printer_texts(hall.hall, {s[S_PREFIX]: (s[S_NAME], list(s[S_MATERIALS]))
                                                 for s in services}),
              "service_keys": [{"service": s[S_PREFIX]} for s in services] +
              [{"service": s[S_PREFIX], "kind": "priority"} for s in services]}
    if board is not None:
        config["board"] = board
    return config


def devices(hall, dispensers=1, displays=1, board=None):
    """Configs for a hall's devices: dispensers, hall displays, a caller at every window and
    an evaluator at every window that has one (told the hall's rating rules)."""
    if len(hall.numbers) > MAX_WINDOWS:
        raise ValueError("a simulated hall has room for %d windows" % MAX_WINDOWS)
    extra = {} if board is None else {"board": board}
    configs = [dispenser(hall, k, board) for k in range(dispensers)]
    for k in range(displays):
        configs.append(dict(extra, id="display-%d" % (k + 1), role="display", hall=hall.hall,
                            bus_address=DISPLAYS + k))
    for k, number in enumerate(hall.numbers):
        configs.append(dict(extra, id="caller-%d" % number, role="caller", hall=hall.hall,
                            bus_address=CALLERS + k, window=number))
        if hall.evaluator[k] is not None:          # (a window without one is not rated)
            configs.append(dict(extra, id=hall.evaluator[k], role="evaluator", hall=hall.hall,
                                bus_address=EVALUATORS + k, window=number,
                                rating_levels=hall.rating_levels,
                                reason_from=hall.reason_required_from))
    return configs
