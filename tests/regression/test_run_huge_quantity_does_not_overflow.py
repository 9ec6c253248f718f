"""Regression (held-out mutation fuzz): a node pool `cpu: "1e400"` (a valid quantity) crashed the
scheduler with `OverflowError: int too large to convert to float`. Milli-values are clamped to
int64, where Kubernetes keeps them (resource.Quantity.MilliValue)."""

from __future__ import annotations

from pathlib import Path

from sim.cluster.podutil import INT64_MAX, pod_requests
from tests.helpers.badinput import copy_scenario, dsim_run, edit


def test_run_huge_node_pool_quantity_does_not_overflow(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, 'cpu: "32"', 'cpu: "1e400"')
    result = dsim_run(scenario, tmp_path, "--max-sim-seconds", "20", "--no-render")
    assert result.exit_code in (0, 1), result.output
    assert not (result.out / "error.txt").exists()


def test_huge_container_request_is_clamped_to_int64() -> None:
    spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1e400", "memory": "1e30"}}}]}
    cpu, mem, _ = pod_requests(spec)
    assert cpu == INT64_MAX and mem == INT64_MAX
