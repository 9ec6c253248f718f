"""The lower bound of engine-backed roles uses the engine's step-time model (sim/report/engine_demand.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.load.engine import EngineMode
from sim.load.service_models import ModelKind
from sim.report.analysis import RoleCostModel, scenario_cost_models, windowed_lower_bound
from sim.report.engine_demand import EngineDemand, decode_pod_seconds, prefill_pod_seconds
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class FakeProfile:
    """step = 10 ms + 1 µs per prefill token + 0.1 ms per decode sequence."""

    max_num_seqs: int = 8
    max_num_batched_tokens: int = 1000
    block_size: int = 10
    kv_blocks: int = 100  # 1,000 tokens of KV
    kv_bytes_per_token: int = 1
    tp: int = 1

    def step_time(self, pt: int, pa: int, ds: int, dc: int, ps: int = 0) -> float:
        return 0.010 + 1e-6 * pt + 1e-4 * ds


def test_prefill_share_of_a_full_step() -> None:
    # a full 1,000-token step takes 11 ms; a 250-token prompt is a quarter of it
    assert prefill_pod_seconds(FakeProfile(), 250) == pytest.approx(0.011 / 4)


def test_decode_batch_limited_by_kv_capacity() -> None:
    # footprint 100 + 101 = 201 tokens: 4 fit in 1,000 (below maxNumSeqs 8); 100 steps of 10.4 ms / 4
    assert decode_pod_seconds(FakeProfile(), 100, 101) == pytest.approx(100 * 0.0104 / 4)


def test_decode_batch_limited_by_max_num_seqs() -> None:
    # footprint 11 tokens: 90 would fit, maxNumSeqs caps the batch at 8; 9 decode steps (the first
    # token comes from the prefill) of 10.8 ms / 8
    assert decode_pod_seconds(FakeProfile(), 1, 10) == pytest.approx(9 * 0.0108 / 8)


def test_windowed_bound_counts_engine_demand() -> None:
    model = RoleCostModel("decode", ModelKind.DECODE, EngineDemand(FakeProfile(), EngineMode.DECODE), 1.0)
    # 100 requests in a 10 s window, each 0.26 pod-s (as above): 26 pod-s -> 3 replicas
    requests = [(i * 0.1, 100, 101) for i in range(100)]
    bound = windowed_lower_bound(requests, {"decode": model}, window=10.0, duration=10.0)
    assert bound.replicas["decode"] == [3]


def test_shipped_engine_scenario_bounds_with_its_engines() -> None:
    resolved = load_scenario(ROOT / "scenarios" / "llm-prefill-decode.yaml")
    models = scenario_cost_models(resolved)
    engine_roles = {r for r, m in models.items() if isinstance(m.params, EngineDemand)}
    assert engine_roles == set(resolved.engines)
    assert {models[r].params.mode for r in engine_roles} == {EngineMode.PREFILL, EngineMode.DECODE}  # type: ignore[union-attr]
