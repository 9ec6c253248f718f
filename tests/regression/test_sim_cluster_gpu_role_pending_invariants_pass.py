"""Symptom: the pytest `sim_cluster` fixture could not give nodes GPUs, so a GPU role stayed Pending,
and `assert_invariants()` still passed while nothing was served.

The fixture takes node pools with GPUs (`@pytest.mark.dsim_cluster(node_pools=[...])`), and the
`load_served` invariant fails when offered load goes unserved at pods that never become Ready."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.testing.cluster import SimCluster

ROOT = Path(__file__).resolve().parents[2]
LLM = ROOT / "scenarios" / "manifests" / "llm-prefill-decode.yaml"


def _serve(cluster: SimCluster) -> None:
    cluster.apply(LLM)
    cluster.advance(120)
    cluster.load("llm-pipeline", 2.0, input_tokens=256, output_tokens=16)
    cluster.advance(400)


def test_without_gpu_nodes_the_pending_gpu_role_fails_load_served() -> None:
    cluster = SimCluster(seed=1)  # 4 CPU-only nodes
    _serve(cluster)
    found = cluster.violations(["load_served"])
    assert found, "a GPU role that never schedules must not pass silently"
    assert "not Ready" in found[0].detail and "nvidia.com/gpu" in found[0].detail
    with pytest.raises(AssertionError, match="load_served"):
        cluster.assert_invariants(["load_served"])


@pytest.mark.dsim_cluster(
    node_pools=[
        {"name": "gpu", "count": 2, "cpu": "64", "memory": "512Gi", "gpus": 8},
        {"name": "cpu", "count": 1},
    ]
)
def test_fixture_takes_gpu_node_pools_and_serves(sim_cluster: SimCluster) -> None:
    nodes: list[dict[str, Any]] = sim_cluster.objects("Node")
    assert sorted(n["metadata"]["name"] for n in nodes) == ["cpu-0", "gpu-0", "gpu-1"]
    _serve(sim_cluster)
    requests = sim_cluster.requests()
    assert requests is not None and requests["completed"] > 0
    sim_cluster.assert_invariants(["load_served", "request_conservation"])
