"""Conservation under arbitrary churn: random arrivals, Ready sets that flap (including to zero pods), small
buffers, short timeouts and KV caches too small for some requests. At every sampled instant:
arrived = completed + dropped + in flight, per role entered = left + dropped + in role; at the end every
request is accounted for exactly once."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sim.clock import Simulation
from sim.load import (
    LoadSystem,
    Request,
    Sample,
    pipeline_from_service,
)
from tests.helpers.conservation import PD, assert_conserved_all, pd_minute_load

ROLES = ["router", "prefill", "decode"]

flips = st.lists(
    st.tuples(st.floats(0.0, 80.0), st.sampled_from(ROLES), st.integers(0, 3)),
    max_size=12,
)


@given(
    seed=st.integers(0, 2**16),
    rate=st.floats(0.5, 20.0),
    buffer=st.integers(0, 20),
    timeout=st.floats(0.5, 20.0),
    kv=st.integers(500, 20000),
    changes=flips,
    balancing=st.sampled_from(["round-robin", "least-loaded"]),
)
def test_conservation_under_churn(
    seed: int,
    rate: float,
    buffer: int,
    timeout: float,
    kv: int,
    changes: list[tuple[float, str, int]],
    balancing: str,
) -> None:
    sim = Simulation(seed)
    arr, ep = pd_minute_load(sim, rate)
    samples: list[Sample] = []
    finished: dict[int, str] = {}

    def done(req: Request) -> None:
        assert req.id not in finished
        finished[req.id] = "completed"

    def dropped(req: Request) -> None:
        assert req.id not in finished
        finished[req.id] = str(req.dropped)

    ls = LoadSystem(
        sim,
        pipeline_from_service(PD),
        arr,
        ep,
        {"decode": {"kvCapacityTokens": kv, "maxNumSeqs": 8}, "prefill": {"tokensPerS": 8000.0}},
        buffer=buffer,
        buffer_timeout=timeout,
        balancing=balancing,
        on_sample=samples.append,
        on_complete=done,
        on_drop=dropped,
        sample_interval=0.5,
        client={"timeoutSeconds": 0},  # no client deadline: the drain below may take hours
    )

    def flapper() -> Any:
        for at, role, n in sorted(changes):
            if at > sim.now:
                yield sim.env.timeout(at - sim.now)
            ep.set_ready(role, [f"{role}-{i:03d}" for i in range(n)])
        yield sim.env.timeout(max(0.0, 90.0 - sim.now))
        for role in ROLES:  # pods come back so the run can drain
            ep.set_ready(role, [f"{role}-000"])

    sim.env.process(flapper())
    ls.start()
    sim.run(until=100.0)
    while ls.stats().in_flight and sim.now < 20_000.0:  # drain (a tiny KV cache serves one at a time)
        sim.run(until=sim.now + 100.0)
    assert assert_conserved_all(samples) > 0
    st_ = ls.stats()
    assert st_.in_flight == 0
    assert st_.arrived == len(finished) == st_.completed + st_.dropped
    assert sum(st_.drops_by_reason.values()) == st_.dropped
