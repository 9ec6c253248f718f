"""Conservation of requests, asserted at every sampled instant of a load run.

Globally: arrived = completed + dropped + in flight, where in flight is counted from where requests are
(buffers, pod queues, in service, in KV transfer), independently of the three counters. Per role:
entered = left + dropped + in role. Works on `sim.load.Sample` objects (or anything with the same fields)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def assert_conserved(sample: Any) -> None:
    """Raise AssertionError naming the instant and the counts if `sample` breaks conservation."""
    total = sample.completed + sample.dropped + sample.in_flight
    assert sample.arrived == total, (
        f"t={sample.t}: arrived {sample.arrived} != completed {sample.completed} + dropped {sample.dropped}"
        f" + in flight {sample.in_flight}"
    )
    assert sample.in_flight >= 0 and sample.in_transit >= 0, f"t={sample.t}: negative in-flight count"
    in_roles = 0
    for r in sample.roles:
        assert r.total_entered == r.total_left + r.total_dropped + r.in_role, (
            f"t={sample.t} role {r.role}: entered {r.total_entered} != left {r.total_left}"
            f" + dropped {r.total_dropped} + in role {r.in_role}"
        )
        assert r.in_role >= 0 and r.waiting >= 0 and r.running >= 0, (
            f"t={sample.t} role {r.role}: negative count"
        )
        in_roles += r.in_role
    if sample.roles:
        assert sample.in_flight == in_roles + sample.in_transit, (
            f"t={sample.t}: in flight {sample.in_flight} != in roles {in_roles} + in transit {sample.in_transit}"
        )


def assert_conserved_all(samples: Iterable[Any]) -> int:
    """Assert conservation at every sample; returns how many were checked (so callers can assert > 0)."""
    n = 0
    for s in samples:
        assert_conserved(s)
        n += 1
    return n
