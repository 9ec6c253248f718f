"""The lower bound of pod/GPU-hours a trace contains (sim.report.analysis) never exceeds what a run
that completed every request paid, and is tight where the arithmetic says it must be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.clock import Simulation
from sim.load import Arrival, LoadSystem, Sample, StaticEndpoints, pipeline_from_service
from sim.load.service_models import ModelKind
from sim.report.analysis import (
    pod_seconds,
    role_cost_models,
    template_gpus,
    work_lower_bound,
)
from sim.report.timeseries import TimeSeries

GPU = {"requests": {"cpu": "4", "nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}
EMBEDDING: dict[str, Any] = {
    "metadata": {"name": "emb", "namespace": "default"},
    "spec": {
        "serviceType": "Embedding",
        "roles": [
            {"name": "router", "roleType": "Router"},
            {"name": "tokenizer", "roleType": "Tokenizer"},
            {
                "name": "inference",
                "roleType": "Inference",
                "dependsOn": ["tokenizer"],
                "template": {"spec": {"containers": [{"name": "e", "image": "x", "resources": GPU}]}},
            },
        ],
    },
}
PD: dict[str, Any] = {
    "metadata": {"name": "llm", "namespace": "default"},
    "spec": {
        "roles": [
            {"name": "router", "roleType": "Router"},
            {"name": "prefill", "roleType": "Prefill"},
            {"name": "decode", "roleType": "Decode"},
        ]
    },
}


def test_cost_models_follow_the_pipeline_and_gpus() -> None:
    models = role_cost_models(EMBEDDING, {"tokenizer": {"tokensPerS": 20000}})
    assert [(m.role, m.kind, m.gpus_per_pod) for m in models.values()] == [
        ("router", ModelKind.ROUTER, 0.0),
        ("tokenizer", ModelKind.TOKENIZER, 0.0),
        ("inference", ModelKind.EMBEDDING, 1.0),  # from the template, not the profile default
    ]
    assert models["tokenizer"].params.tokens_per_s == 20000  # type: ignore[union-attr]
    pd = role_cost_models(PD)
    assert [(m.role, m.gpus_per_pod) for m in pd.values()] == [
        ("router", 0.0),
        ("prefill", 1.0),
        ("decode", 1.0),
    ]
    assert template_gpus({"spec": {"containers": [{"name": "a"}, {"name": "b", "resources": GPU}]}}) == 1.0
    assert template_gpus({"spec": {"containers": [{"name": "a"}]}}) is None


def test_bound_values_per_model() -> None:
    models = role_cost_models(PD)
    b = work_lower_bound([(0.0, 1000, 100), (1.0, 3000, 1)], models)
    # router: overhead 2 ms over 1024 workers per request
    assert b["router"].pod_seconds == pytest.approx(2 * 0.002 / 1024)
    # prefill: 4000 tokens / 12000 tok/s + 10 ms x max(2/256, 1000/8192 + 3000/8192)
    assert b["prefill"].pod_seconds == pytest.approx(4000 / 12000 + 0.01 * (4000 / 8192))
    # decode: 0.2 ms x 101 tokens + 15 ms x max(101/256, (100 x 1100 + 1 x 3001) / 200000): the KV
    # cache, not max_num_seqs, limits the batch
    assert b["decode"].pod_seconds == pytest.approx(0.0002 * 101 + 0.015 * (113_001 / 200_000))
    assert b["decode"].gpu_hours == pytest.approx(b["decode"].pod_seconds / 3600)
    assert b["router"].gpu_hours == 0.0
    assert [x.requests for x in b.values()] == [2, 2, 2]
    big = work_lower_bound([(0, 199_000, 2000)], models)
    assert (big["decode"].unservable, big["decode"].pod_seconds) == (1, 0.0)


def test_bound_is_tight_within_one_batch_overhead() -> None:
    """256 prompts of 32 tokens at t=0: the first reaches prefill alone and starts a batch of one,
    the other 255 fill the next batch. The pod was busy for two batch overheads plus every token;
    the bound (all 256 in one full batch: size and token budget both exactly used) is one overhead
    less."""
    reqs = [Arrival(0.0, 32, 1) for _ in range(256)]
    run = _run(PD, reqs, {"router": 1, "prefill": 1, "decode": 1})
    bound = work_lower_bound(reqs, role_cost_models(PD))
    busy = run["busy"]["prefill"]
    assert busy == pytest.approx(2 * 0.01 + 8192 / 12000)
    assert bound["prefill"].pod_seconds == pytest.approx(busy - 0.01)


def _run(ds: dict[str, Any], reqs: list[Arrival], replicas: dict[str, int]) -> dict[str, Any]:
    """Fixed replicas until every request completed; the replica time series sampled every second
    (plus t=0) as the scenario runner records it, and each role's busy pod time."""
    sim = Simulation(1)
    ts = TimeSeries(list(replicas))
    for role, n in replicas.items():
        ts.add(0.0, role, {"ready": n, "starting": 0})

    def on_sample(s: Sample) -> None:
        for rs in s.roles:
            ts.add(s.t, rs.role, {"ready": rs.ready_pods, "starting": 0})

    ls = LoadSystem(
        sim,
        pipeline_from_service(ds),
        iter(reqs),
        StaticEndpoints.replicas(replicas),
        buffer=10**6,
        buffer_timeout=1e9,
        on_sample=on_sample,
    )
    ls.start()
    t = 0.0
    while ls.acc.completed + ls.acc.dropped < len(reqs) and t < 1e6:
        t += 30.0
        sim.run(until=t)
    sim.run(until=sim.now + 1.0)  # one more sample after the last completion
    busy: dict[str, float] = {}
    for role, stage in ls.roles.items():
        total = 0.0
        for srv in stage.servers.values():
            area, active = srv.areas(sim.now)
            if srv.kind in (ModelKind.EMBEDDING, ModelKind.PREFILL, ModelKind.DECODE):
                total += active  # one batch (or decode step) at a time: busy while anything runs
            else:
                total += area / getattr(srv, "concurrency", 1)
        busy[role] = total
    return {"ts": ts, "acc": ls.acc, "busy": busy}


REQUESTS = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=60.0, allow_nan=False),
        st.integers(min_value=1, max_value=12_000),
        st.integers(min_value=0, max_value=1500),
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=30)
@given(
    raw=REQUESTS,
    pd=st.booleans(),
    r1=st.integers(min_value=1, max_value=3),
    r2=st.integers(min_value=1, max_value=3),
)
def test_bound_never_exceeds_a_complete_run(
    raw: list[tuple[float, int, int]], pd: bool, r1: int, r2: int
) -> None:
    """Any trace, any fixed replica counts: a run that completed every request had at least the
    bound's busy time per role, and paid at least the bound in pod-hours and GPU-hours."""
    ds = PD if pd else EMBEDDING
    roles = ["router", "prefill", "decode"] if pd else ["router", "tokenizer", "inference"]
    replicas = {roles[0]: 1, roles[1]: r1, roles[2]: r2}
    reqs = [Arrival(t, i, o) for t, i, o in sorted(raw)]
    models = role_cost_models(ds)
    bound = work_lower_bound(reqs, models)
    run = _run(ds, reqs, replicas)
    acc = run["acc"]
    if acc.completed != len(reqs):
        return  # only runs that completed every request are bounded
    for role in roles:
        b = bound[role]
        assert b.pod_seconds <= run["busy"][role] * (1 + 1e-9) + 1e-12, role
        paid = pod_seconds(run["ts"], role)
        assert b.pod_seconds <= paid, role
        assert b.gpu_hours <= paid / 3600 * models[role].gpus_per_pod + 1e-15, role


def test_pod_seconds_is_a_left_riemann_sum() -> None:
    ts = TimeSeries(["a"])
    for t, ready, starting in [(0, 1, 0), (1, 1, 1), (2, 2, 0), (4, 0, 0)]:
        ts.add(float(t), "a", {"ready": ready, "starting": starting})
    assert pod_seconds(ts, "a") == 1 * 1 + 2 * 1 + 2 * 2
    assert pod_seconds(ts, "a", ("ready",)) == 1 + 1 + 4


SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("name", ["embedding-pipeline", "azure-conversation-replay"])
def test_bound_below_full_stack_runs_that_complete_everything(name: str) -> None:
    """Whole runs (control plane, scalers, cold starts): a shipped scenario that completes every
    request paid at least the bound in pod-hours and GPU-hours on every role."""
    from sim.report.analysis import scenario_lower_bound, simulate
    from sim.scenario.load import load_scenario

    resolved = load_scenario(SCENARIOS / f"{name}.yaml")
    run = simulate(resolved, label=name)
    assert run.completed_everything, run.requests
    bound = scenario_lower_bound(resolved)
    assert [b.requests for b in bound.values()] == [run.requests["arrived"]] * len(bound)
    for role, b in bound.items():
        assert 0 < b.pod_hours <= run.roles[role].pod_hours or b.pod_seconds == 0.0, role
        assert b.gpu_hours <= run.roles[role].gpu_hours, role
