"""The shipped predictive-scaling scenario over its first 12 simulated hours (the full three days
run in about a minute; docs/budscaler.md reports those): prediction runs, is used, and the
learning ConfigMap exists only when the `learning_never_persisted` quirk is off."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.report.analysis import with_duration
from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
SCALER = "BudAIScaler/default/inference-scaler"


@pytest.mark.slow
@pytest.mark.parametrize(("profile", "hours"), [("corrected", 12), ("upstream", 1)])
def test_prediction_is_used_and_persisted_only_when_corrected(
    profile: str, hours: int, tmp_path: Path
) -> None:
    """12 h: the confidence first passes the 0.7 gate on the first morning's plateau (~10:30)."""
    resolved = with_duration(
        load_scenario(ROOT / "scenarios" / "predictive-scaling.yaml", profile=profile), hours * 3600.0
    )
    result = run_scenario(resolved, tmp_path, render=False)
    assert result.error is None
    entry = result.summary["autoscalers"][SCALER]
    pred, learning = entry["prediction"], entry["learning"]
    assert pred["decisions"] == hours * 360
    assert 0.0 < pred["mean_confidence"] < 1.0
    assert learning["observations"] == pred["decisions"]
    assert learning["persisted"] is (profile == "corrected")
    if profile == "corrected":
        assert pred["used"] > 0


def test_reactive_twin_has_no_prediction_facts(tmp_path: Path) -> None:
    resolved = with_duration(
        load_scenario(ROOT / "scenarios" / "predictive-scaling-reactive.yaml", profile="corrected"), 1800.0
    )
    result = run_scenario(resolved, tmp_path, render=False)
    entry = result.summary["autoscalers"][SCALER]
    assert "prediction" not in entry and "learning" not in entry
