"""Metamorphic: doubling the arrival rate on a role never lowers its mean queue length at fixed replicas.

The doubled stream is the original stream superposed with an independent copy of the same process (the
coupling under which "twice the rate" is a statement about one sample path): every original request is
still there, at the same instant, with the same tokens. The mean queue length is the time average, over
the same horizon, of the requests in the role (buffered, queued at pods, in service)."""

from __future__ import annotations

import heapq

from hypothesis import given
from hypothesis import strategies as st

from sim.clock import Simulation
from sim.load import Arrival, LoadSystem, PipelineSpec, RateWindow, StaticEndpoints, TokenDist, rate_windows
from sim.load.pipeline import RoleStep, TransferStep
from sim.load.service_models import ModelKind
from tests.helpers.conservation import assert_conserved_all

KINDS = [ModelKind.ROUTER, ModelKind.TOKENIZER, ModelKind.EMBEDDING, ModelKind.PREFILL, ModelKind.DECODE]
FAST = {  # parameters that make each role a bottleneck at a few requests per second
    ModelKind.ROUTER: {"overheadS": 0.2, "concurrency": 2},
    ModelKind.TOKENIZER: {"overheadS": 0.01, "tokensPerS": 2000.0, "concurrency": 2},
    ModelKind.EMBEDDING: {
        "batchOverheadS": 0.05,
        "secondsPerToken": 0.0005,
        "maxBatchSize": 4,
        "maxBatchTokens": 2000,
    },
    ModelKind.PREFILL: {"batchOverheadS": 0.02, "tokensPerS": 4000.0, "maxBatchTokens": 1500},
    ModelKind.DECODE: {
        "stepOverheadS": 0.01,
        "stepPerSeqS": 0.002,
        "maxNumSeqs": 8,
        "kvCapacityTokens": 6000,
    },
}


def arrivals(seed: int, stream: str, rate: float, cv: float, duration: float) -> list[Arrival]:
    rng = Simulation(seed).seeds.stream(stream)
    window = RateWindow(duration=duration, rate=rate, cv=cv)
    return list(
        rate_windows(
            [window], rng, TokenDist(mean=300, cv=1.0, maximum=2000), TokenDist(mean=40, cv=1.0, maximum=400)
        )
    )


def mean_in_role(spec: PipelineSpec, arr: list[Arrival], pods: int, horizon: float) -> dict[str, float]:
    sim = Simulation(0)
    params = {s.role: FAST[s.kind] for s in spec.steps if isinstance(s, RoleStep)}
    samples: list = []
    ls = LoadSystem(
        sim,
        spec,
        arr,
        StaticEndpoints.replicas(dict.fromkeys(spec.roles, pods)),
        params,
        on_sample=samples.append,
        sample_interval=5.0,
    )
    ls.start()
    sim.run(until=horizon)
    assert_conserved_all(samples)
    st = ls.stats()
    return {r: st.roles[r].mean_in_role for r in spec.roles}


@given(
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(KINDS),
    pods=st.integers(1, 2),
    rate=st.floats(0.5, 6.0),
    cv=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_doubling_rate_never_lowers_mean_queue_single_role(
    seed: int, kind: ModelKind, pods: int, rate: float, cv: float
) -> None:
    spec = PipelineSpec("p", "default", (RoleStep("r", "X", kind),))
    base = arrivals(seed, "load", rate, cv, 60.0)
    extra = arrivals(seed, "load-extra", rate, cv, 60.0)
    doubled = list(heapq.merge(base, extra, key=lambda a: a.t))
    one = mean_in_role(spec, base, pods, 400.0)
    two = mean_in_role(spec, doubled, pods, 400.0)
    assert two["r"] >= one["r"] - 1e-9, (one, two)


@given(seed=st.integers(0, 2**16), rate=st.floats(0.5, 4.0))
def test_doubling_rate_never_lowers_mean_queue_prefill_decode(seed: int, rate: float) -> None:
    spec = PipelineSpec(
        "p",
        "default",
        (
            RoleStep("router", "Router", ModelKind.ROUTER),
            RoleStep("prefill", "Prefill", ModelKind.PREFILL),
            TransferStep(),
            RoleStep("decode", "Decode", ModelKind.DECODE),
        ),
    )
    base = arrivals(seed, "load", rate, 1.0, 60.0)
    doubled = list(heapq.merge(base, arrivals(seed, "load-extra", rate, 1.0, 60.0), key=lambda a: a.t))
    one = mean_in_role(spec, base, 1, 400.0)
    two = mean_in_role(spec, doubled, 1, 400.0)
    for role in spec.roles:
        assert two[role] >= one[role] - 1e-9, (role, one, two)
