"""Issue 15: "The backlog stays on the pods that were Ready first. 200 Ready prefill replicas drained it at
the rate of one."

Requests buffered while a role had no Ready pod were all handed to the first pod that became Ready; pods
Ready a moment later got none of that backlog. With `least-outstanding`, `kv-aware` and `router-queue`
routing the backlog now waits at the role's entrance and is released only into free slots, so every new
Ready pod pulls from it at once. Round-robin keeps work already assigned to a pod where it is (as a plain
Kubernetes Service does); a client deadline then moves stranded requests (their retries land on new pods)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.clock import Simulation
from sim.load import Arrival, LoadSystem, PipelineSpec, Sample, StaticEndpoints
from sim.load.pipeline import RoleStep
from sim.load.service_models import ModelKind
from tests.helpers.conservation import assert_conserved_all

PODS = 20


def backlog(mode: str, client: dict[str, Any] | None = None) -> tuple[LoadSystem, list[Sample]]:
    """200 requests (1 s each, one slot per pod) wait for a role with no Ready pod; one pod becomes Ready
    at t=10, nineteen more at t=11."""
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("prefill", "X", ModelKind.FIXED),))
    ep = StaticEndpoints({"prefill": []})
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(i * 0.01, 100, 1) for i in range(200)],
        ep,
        {"prefill": {"overheadS": 1.0, "concurrency": 1}},
        balancing=mode,
        buffer_timeout=1000.0,
        on_sample=samples.append,
        client=client or {"timeoutSeconds": 0},
    )

    def ready() -> Any:
        yield sim.env.timeout(10.0)
        ep.set_ready("prefill", ["p-000"])
        yield sim.env.timeout(1.0)
        ep.set_ready("prefill", [f"p-{i:03d}" for i in range(PODS)])

    sim.env.process(ready())
    ls.start()
    sim.run(until=400.0)
    return ls, samples


@pytest.mark.parametrize("mode", ["least-outstanding", "kv-aware", "router-queue"])
def test_new_ready_pods_pull_the_backlog(mode: str) -> None:
    ls, samples = backlog(mode)
    st = ls.stats()
    assert st.completed == 200
    served = [s.served for s in ls.roles["prefill"].servers.values()]
    assert len(served) == PODS and min(served) >= 8  # every pod took its share
    # 200 s of work on 20 pods from t=11: done by about t=21, not t=210
    assert st.e2e_p99 < 25.0
    assert assert_conserved_all(samples) > 0


def test_round_robin_leaves_assigned_work_where_it_is() -> None:
    ls, _ = backlog("round-robin")
    first = ls.roles["prefill"].servers["p-000"]
    assert first.served == 200  # documented: the whole backlog went to the first Ready pod
    assert ls.acc.e2e.max > 200.0


def test_round_robin_with_a_client_deadline_moves_stranded_requests() -> None:
    ls, _ = backlog("round-robin", {"timeoutSeconds": 20, "retries": {"limit": 3, "backoffSeconds": 0.5}})
    st = ls.stats()
    assert st.completed == 200 and st.retries > 0
    assert sum(1 for s in ls.roles["prefill"].servers.values() if s.served) > PODS // 2
