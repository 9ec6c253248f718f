"""Conservation of requests, asserted at every sampled instant of a load run.

Globally: arrived = completed + dropped + timed out + in flight, where in flight is counted from where
requests are (buffers, pod queues, in service, in KV transfer, waiting out a retry backoff), independently
of the counters. Per role: entered = left + dropped + cancelled + in role. Works on `sim.load.Sample` objects (or anything with the same fields)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sim.clock import Simulation
from sim.load import Arrival, RateWindow, StaticEndpoints, TokenDist, rate_windows


def assert_conserved(sample: Any) -> None:
    """Raise AssertionError naming the instant and the counts if `sample` breaks conservation."""
    timed_out = getattr(sample, "timed_out", 0)
    total = sample.completed + sample.dropped + timed_out + sample.in_flight
    assert sample.arrived == total, (
        f"t={sample.t}: arrived {sample.arrived} != completed {sample.completed} + dropped {sample.dropped}"
        f" + timed out {timed_out} + in flight {sample.in_flight}"
    )
    assert sample.in_flight >= 0 and sample.in_transit >= 0, f"t={sample.t}: negative in-flight count"
    in_roles = 0
    for r in sample.roles:
        cancelled = getattr(r, "total_cancelled", 0)
        assert r.total_entered == r.total_left + r.total_dropped + cancelled + r.in_role, (
            f"t={sample.t} role {r.role}: entered {r.total_entered} != left {r.total_left}"
            f" + dropped {r.total_dropped} + cancelled {cancelled} + in role {r.in_role}"
        )
        assert r.in_role >= 0 and r.waiting >= 0 and r.running >= 0, (
            f"t={sample.t} role {r.role}: negative count"
        )
        in_roles += r.in_role
    if sample.roles:
        backoff = getattr(sample, "in_backoff", 0)
        assert sample.in_flight == in_roles + sample.in_transit + backoff, (
            f"t={sample.t}: in flight {sample.in_flight} != in roles {in_roles} + in transit"
            f" {sample.in_transit} + in backoff {backoff}"
        )


def assert_conserved_all(samples: Iterable[Any]) -> int:
    """Assert conservation at every sample; returns how many were checked (so callers can assert > 0)."""
    n = 0
    for s in samples:
        assert_conserved(s)
        n += 1
    return n


PD: dict[str, object] = {  # router -> prefill -> KV transfer -> decode, the load property tests' pipeline
    "metadata": {"name": "llm", "namespace": "default"},
    "spec": {
        "roles": [
            {"name": "router", "roleType": "Router"},
            {"name": "prefill", "roleType": "Prefill"},
            {"name": "decode", "roleType": "Decode"},
        ]
    },
}


def pd_minute_load(sim: Simulation, rate: float) -> tuple[Iterator[Arrival], StaticEndpoints]:
    """A bursty minute of requests (cv 2, long-tailed sizes) and one Ready pod per role of `PD`."""
    arrivals = rate_windows(
        [RateWindow(duration=60.0, rate=rate, cv=2.0)],
        sim.seeds.stream("load"),
        TokenDist(mean=400, cv=1.5, maximum=10000),
        TokenDist(mean=50, cv=1.0, maximum=1000),
    )
    return iter(arrivals), StaticEndpoints.replicas({"router": 1, "prefill": 1, "decode": 1})
