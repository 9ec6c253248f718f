"""Conservation with clients that time out and retry, under every routing mode and pod churn that
includes terminations with a grace period: at every sampled instant arrived = completed + dropped +
timed out + in flight (in flight counts requests waiting out a backoff), per role entered = left + dropped
+ cancelled + in role; at the end every request has exactly one outcome, reported once."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
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
MODES = ["round-robin", "least-loaded", "least-outstanding", "kv-aware", "router-queue"]

churn = st.lists(
    st.tuples(
        st.floats(0.0, 80.0),
        st.sampled_from(ROLES),
        st.integers(0, 3),
        st.one_of(st.none(), st.floats(0.0, 10.0)),  # None: leaves the endpoints; else deleted with grace
    ),
    max_size=12,
)


@settings(deadline=None)
@given(
    seed=st.integers(0, 2**16),
    rate=st.floats(0.5, 20.0),
    buffer=st.integers(0, 20),
    buffer_timeout=st.floats(0.5, 20.0),
    timeout=st.one_of(st.just(0.0), st.floats(0.2, 30.0)),
    ttft=st.one_of(st.none(), st.floats(0.1, 10.0)),
    limit=st.integers(0, 3),
    backoff=st.floats(0.0, 3.0),
    jitter=st.floats(0.0, 1.0),
    retry_on=st.sampled_from([[], ["timeout"], ["dropped"], ["timeout", "dropped"]]),
    kv=st.integers(500, 20000),
    changes=churn,
    modes=st.tuples(*[st.sampled_from(MODES) for _ in ROLES]),
)
def test_conservation_with_timeouts_retries_and_pod_churn(
    seed: int,
    rate: float,
    buffer: int,
    buffer_timeout: float,
    timeout: float,
    ttft: float | None,
    limit: int,
    backoff: float,
    jitter: float,
    retry_on: list[str],
    kv: int,
    changes: list[tuple[float, str, int, float | None]],
    modes: tuple[str, ...],
) -> None:
    sim = Simulation(seed)
    arr, ep = pd_minute_load(sim, rate)
    samples: list[Sample] = []
    finished: dict[int, str] = {}

    def outcome(kind: str) -> Any:
        def record(req: Request) -> None:
            assert req.id not in finished, (req, finished[req.id], kind)
            finished[req.id] = kind
            assert req.completed_at >= 0
            assert req.attempt <= limit

        return record

    client: dict[str, Any] = {
        "timeoutSeconds": timeout,
        "retries": {"limit": limit, "backoffSeconds": backoff, "jitter": jitter},
        "retryOn": retry_on,
    }
    if ttft is not None and (timeout == 0 or ttft <= timeout):
        client["ttftTimeoutSeconds"] = ttft
    ls = LoadSystem(
        sim,
        pipeline_from_service(PD),
        arr,
        ep,
        {"decode": {"kvCapacityTokens": kv, "maxNumSeqs": 8}, "prefill": {"tokensPerS": 8000.0}},
        buffer=buffer,
        buffer_timeout=buffer_timeout,
        balancing=dict(zip(ROLES, modes, strict=True)),
        on_sample=samples.append,
        on_complete=outcome("completed"),
        on_drop=outcome("dropped"),
        on_timeout=outcome("timed_out"),
        sample_interval=0.5,
        client=client,
    )
    generation = [0]

    def flapper() -> Any:
        for at, role, n, grace in sorted(changes, key=lambda c: (c[0], c[1], c[2], c[3] or -1.0)):
            if at > sim.now:
                yield sim.env.timeout(at - sim.now)
            current = list(ep.ready_pods(role))
            generation[0] += 1
            wanted = [f"{role}-{generation[0]:03d}-{i}" for i in range(n)]
            if grace is None:
                ep.set_ready(role, wanted)
            else:
                ep.terminate(role, current, grace)
                ep.set_ready(role, wanted)
        yield sim.env.timeout(max(0.0, 90.0 - sim.now))
        for role in ROLES:  # pods come back so the run can drain
            ep.set_ready(role, [*ep.ready_pods(role), f"{role}-final"])

    sim.env.process(flapper())
    ls.start()
    sim.run(until=100.0)
    while ls.stats().in_flight and sim.now < 20_000.0:
        sim.run(until=sim.now + 100.0)
    assert assert_conserved_all(samples) > 0
    st_ = ls.stats()
    assert st_.in_flight == 0
    assert st_.arrived == len(finished) == st_.completed + st_.dropped + st_.timed_out
    assert sum(st_.timed_out_by_class.values()) == st_.timed_out
    assert sum(1 for k in finished.values() if k == "timed_out") == st_.timed_out
    if timeout == 0 and "ttftTimeoutSeconds" not in client:
        assert st_.timed_out == 0
    if limit == 0:
        assert st_.retries == 0
