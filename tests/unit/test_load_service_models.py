"""Exact timings of the per-role service models, request by request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from sim.clock import Simulation
from sim.load import Arrival, LoadSystem, PipelineSpec, Request, Sample, StaticEndpoints
from sim.load.pipeline import RoleStep
from sim.load.service_models import ModelKind
from tests.helpers.conservation import assert_conserved_all


def run(
    kind: ModelKind,
    arrivals: Sequence[tuple[float, int, int]],
    params: Mapping[str, Any] | None = None,
    pods: int = 1,
    until: float = 100.0,
    setup: Callable[[Simulation, StaticEndpoints], None] | None = None,
    **kw: Any,
) -> tuple[LoadSystem, list[Request], list[Request], list[Sample]]:
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", kind),))
    ep = StaticEndpoints.replicas({"r": pods})
    done: list[Request] = []
    dropped: list[Request] = []
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(*a) for a in arrivals],
        ep,
        {"r": params or {}},
        on_complete=done.append,
        on_drop=dropped.append,
        on_sample=samples.append,
        sample_interval=0.01,
        **kw,
    )
    if setup is not None:
        setup(sim, ep)
    ls.start()
    sim.run(until=until)
    assert assert_conserved_all(samples) > 0
    return ls, done, dropped, samples


def times(reqs: list[Request]) -> list[tuple[int, float]]:
    return [(r.id, round(r.completed_at, 9)) for r in reqs]


def test_router_fixed_overhead_and_concurrency() -> None:
    _, done, _, _ = run(
        ModelKind.ROUTER, [(0, 10, 1), (0, 10, 1), (0.5, 10, 1)], {"overheadS": 1.0, "concurrency": 3}
    )
    assert times(done) == [(0, 1.0), (1, 1.0), (2, 1.5)]


def test_router_queues_beyond_concurrency() -> None:
    _, done, _, _ = run(ModelKind.ROUTER, [(0, 10, 1)] * 3, {"overheadS": 1.0, "concurrency": 2})
    assert times(done) == [(0, 1.0), (1, 1.0), (2, 2.0)]
    assert [round(r.stamps["r"][1], 9) for r in done] == [0.0, 0.0, 1.0]


def test_tokenizer_time_is_overhead_plus_tokens_over_rate() -> None:
    _, done, _, _ = run(
        ModelKind.TOKENIZER, [(0, 100, 1)] * 3, {"overheadS": 0.01, "tokensPerS": 1000.0, "concurrency": 2}
    )
    assert times(done) == [(0, 0.11), (1, 0.11), (2, 0.22)]


def test_prefill_batches_within_token_budget() -> None:
    _ls, done, _, _ = run(
        ModelKind.PREFILL,
        [(0, 100, 1), (0, 150, 1), (0, 100, 1), (0, 100, 1)],
        {"batchOverheadS": 0.01, "tokensPerS": 1000.0, "maxBatchTokens": 300},
    )
    # batch 1: the first request alone (it found the pod idle); batch 2: 150 + 100 (250 <= 300); batch 3: 100
    assert times(done) == [(0, 0.11), (1, 0.37), (2, 0.37), (3, 0.48)]
    assert done[1].service_time["r"] == pytest.approx(0.26 * 150 / 250)
    assert done[2].service_time["r"] == pytest.approx(0.26 * 100 / 250)


def test_embedding_batch_size_bound() -> None:
    _, done, _, _ = run(
        ModelKind.EMBEDDING,
        [(0, 10, 0)] * 4,
        {"batchOverheadS": 0.1, "secondsPerToken": 0.01, "maxBatchSize": 2, "maxBatchTokens": 1000},
    )
    assert times(done) == [(0, 0.2), (1, 0.5), (2, 0.5), (3, 0.7)]


DECODE = {"stepOverheadS": 0.01, "stepPerSeqS": 0.001, "maxNumSeqs": 8, "kvCapacityTokens": 10_000}


def test_decode_single_sequence_takes_n_steps() -> None:
    _, done, _, _ = run(ModelKind.DECODE, [(0, 100, 10)], DECODE)
    assert times(done) == [(0, 0.11)]
    assert done[0].first_token_at == pytest.approx(0.011)


def test_decode_step_time_grows_with_batch() -> None:
    _, done, _, _ = run(ModelKind.DECODE, [(0, 100, 10), (0, 100, 10)], DECODE)
    assert times(done) == [(0, 0.12), (1, 0.12)]


def test_decode_join_mid_flight_is_analytical() -> None:
    # A runs alone 5 steps (0.055 s), then both run 5 steps at 0.012 s, then B alone 5 steps at 0.011 s
    ls, done, _, _ = run(ModelKind.DECODE, [(0, 100, 10), (0.055, 100, 10)], DECODE)
    assert times(done) == [(0, 0.115), (1, 0.17)]
    # one timer per admission or completion, never one per token
    srv = ls.roles["r"].servers["r-000"]
    assert srv.generation_tokens == 20


def test_decode_kv_capacity_bounds_admission() -> None:
    params = dict(DECODE, kvCapacityTokens=150)
    _, done, dropped, _ = run(ModelKind.DECODE, [(0, 100, 10), (0, 30, 20), (0, 200, 1)], params)
    assert times(done) == [(0, 0.11), (1, 0.33)]
    assert done[1].stamps["r"][1] == pytest.approx(0.11)
    assert [(r.id, r.dropped) for r in dropped] == [(2, "ExceedsKVCapacity")]


def test_decode_max_num_seqs() -> None:
    params = dict(DECODE, maxNumSeqs=1)
    _, done, _, _ = run(ModelKind.DECODE, [(0, 1, 2), (0, 1, 2)], params)
    assert times(done) == [(0, 0.022), (1, 0.044)]


def test_no_ready_pod_buffers_then_dispatches() -> None:
    def setup(sim: Simulation, ep: StaticEndpoints) -> None:
        def later() -> Any:
            yield sim.env.timeout(3.0)
            ep.set_ready("r", ["r-000"])

        sim.env.process(later())

    ls, done, dropped, _ = run(
        ModelKind.ROUTER,
        [(0, 1, 1), (1, 1, 1), (2, 1, 1)],
        {"overheadS": 0.5},
        pods=0,
        setup=setup,
        buffer=2,
        buffer_timeout=10.0,
    )
    assert times(done) == [(0, 3.5), (1, 3.5)]
    assert [(r.id, r.dropped, r.completed_at) for r in dropped] == [(2, "BufferFull", 2.0)]
    assert ls.stats().drops_by_reason == {"BufferFull": 1}


def test_buffer_timeout_counts_drops() -> None:
    ls, done, dropped, samples = run(
        ModelKind.ROUTER, [(0, 1, 1), (1, 1, 1)], pods=0, buffer=5, buffer_timeout=5.0, until=20.0
    )
    assert done == []
    assert [(r.id, r.dropped, r.completed_at) for r in dropped] == [
        (0, "BufferTimeout", 5.0),
        (1, "BufferTimeout", 6.0),
    ]
    st = ls.stats()
    assert (st.arrived, st.completed, st.dropped, st.in_flight) == (2, 0, 2, 0)
    assert max(s.roles[0].waiting for s in samples) == 2


def test_round_robin_and_least_loaded() -> None:
    arr = [(0, 1, 1)] * 4
    ls, _, _, _ = run(ModelKind.ROUTER, arr, {"overheadS": 1.0, "concurrency": 1}, pods=2)
    assert sorted((n, s.served) for n, s in ls.roles["r"].servers.items()) == [("r-000", 2), ("r-001", 2)]
    # least-loaded: a long request pins pod 0, so the next three go where the load is lowest
    ls, _done, _, _ = run(
        ModelKind.TOKENIZER,
        [(0, 1000, 1), (0.1, 1, 1), (0.2, 1, 1), (0.3, 1, 1)],
        {"overheadS": 0.0, "tokensPerS": 100.0, "concurrency": 1},
        pods=2,
        balancing="leastLoaded",
    )
    assert sorted((n, s.served) for n, s in ls.roles["r"].servers.items()) == [("r-000", 1), ("r-001", 3)]
