"""Every shipped scenario's summary.json carries `cost` and `findings`, and `slo` when the scenario
sets one, with the keys `dsim sweep` and the reports read."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.answers import effective_slo
from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))

COST_KEYS = {"gpu_hours", "total_gpu_hours", "idle_gpu_hours", "lower_bound_gpu_hours", "efficiency"}
SLO_KEYS = {"attainment", "goodput_rps", "roles", "thresholds", "over_time"}
FINDING_KEYS = {"kind", "severity", "role", "start_s", "end_s", "message", "evidence", "hint"}


@pytest.mark.parametrize("name", SHIPPED)
def test_summary_has_cost_findings_and_slo_when_set(name: str, tmp_path: Path) -> None:
    resolved = load_scenario(ROOT / "scenarios" / name, until=90)
    summary = run_scenario(resolved, tmp_path / "run", render=False).summary
    assert set(summary["cost"]) >= COST_KEYS
    assert set(summary["cost"]["gpu_hours"]) == set(summary["role_order"])
    assert isinstance(summary["findings"], list)
    for f in summary["findings"]:
        assert set(f) == FINDING_KEYS
    if effective_slo(resolved.scenario) is None:
        assert "slo" not in summary
    else:
        assert set(summary["slo"]) >= SLO_KEYS
        assert 0.0 <= summary["slo"]["attainment"] <= 1.0
    if resolved.scenario.workload is not None:
        assert "latency_over_time" in summary


def test_llm_scenarios_set_an_slo() -> None:
    for name in ("llm-prefill-decode.yaml", "azure-conversation-replay.yaml", "cold-start-cliff.yaml"):
        assert load_scenario(ROOT / "scenarios" / name).scenario.slo is not None
