"""Symptom: prefill flapped between 2 and 200 replicas every 12 minutes on
`vllm:num_requests_waiting`, and the report still said "ALL EXPECTATIONS HOLD" in green.

Two scenarios written as a user would (tests/data/scenarios/): a P/D ramp with queue-driven scalers,
and a constant 50 req/s; under profile upstream each run reports `flapping` for a GPU role (prefill
in the constant case), and the report's badge shows the error findings beside the expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

DATA = Path(__file__).resolve().parents[1] / "data" / "scenarios"
GPU_ROLES = {"prefill", "decode"}


def _findings(name: str, out: Path) -> list[dict[str, object]]:
    resolved = load_scenario(DATA / name, profile="upstream", allow_outside=True)
    result = run_scenario(resolved, out, render=False)
    assert result.error is None
    return list(result.summary["findings"])


@pytest.mark.slow
def test_pd_ramp_with_queue_scalers_reports_flapping_for_a_gpu_role(tmp_path: Path) -> None:
    found = _findings("pd-ramp-queue.yaml", tmp_path / "run")
    flaps = [f for f in found if f["kind"] == "flapping"]
    assert {f["role"] for f in flaps} & GPU_ROLES, found
    assert all(int(f["evidence"]["amplitude"]) >= 1 for f in flaps)  # type: ignore[index]


@pytest.mark.slow
def test_constant_50_rps_on_num_requests_waiting_flaps_prefill(tmp_path: Path) -> None:
    found = _findings("constant-50-queue.yaml", tmp_path / "run")
    assert any(f["kind"] == "flapping" and f["role"] == "prefill" for f in found), found


def test_badge_never_green_alone_over_error_findings() -> None:
    from sim.report.html import status_badge

    summary = {
        "status": "ok",
        "expectations": [{"name": "x", "passed": True}],
        "findings": [{"kind": "flapping", "severity": "error", "role": "prefill", "message": "m"}],
    }
    badge = status_badge(summary)
    assert "ALL EXPECTATIONS HOLD" in badge and "1 ERROR FINDING" in badge
