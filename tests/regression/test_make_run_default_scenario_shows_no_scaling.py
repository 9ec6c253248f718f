"""Symptom: the default `make run` scenario showed no scaling at all (every decision NoMetrics).

The default scenario now scales at least one role up and back down with the load, and the PR's
inference scaler, whose metric name the engine does not expose, is named by a `stuck_scaler`
finding instead of passing silently."""

from __future__ import annotations

from pathlib import Path

from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_default_scenario_scales_a_role_up_and_down(tmp_path: Path) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "SCENARIO ?= scenarios/embedding-pipeline.yaml" in makefile
    result = run_scenario(
        load_scenario(ROOT / "scenarios" / "embedding-pipeline.yaml"), tmp_path / "r", render=False
    )
    assert result.exit_code == 0, result.failed_expectations
    roles = result.summary["roles"]
    assert any(r["scale_ups"] >= 1 and r["scale_downs"] >= 1 for r in roles.values()), roles
    stuck = [f for f in result.summary["findings"] if f["kind"] == "stuck_scaler"]
    assert [f["role"] for f in stuck] == ["inference"]
