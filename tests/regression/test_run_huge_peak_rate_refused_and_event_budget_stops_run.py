"""Regression (issue 21, case 6): `workload.synthetic.peakRate: 1e30` was accepted and the run
spun for more than 120 s. Rates above model.scenario.MAX_RATE (100,000 req/s, also after
rateMultiplier) are refused at load; and a run that schedules more simulation events than its
budget (`--event-budget`, default 100,000,000) stops with a clear message, its artefacts written
up to the simulated time reached (status `budget_exhausted`, exit 1, no error.txt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit, line_of


@pytest.mark.parametrize(
    ("new", "path"),
    [
        ("rate: 20\n    peakRate: 1e30\n    shape: step\n    at: 10", "workload.synthetic.peakRate"),
        ("rate: 1.0e+30", "workload.synthetic.rate"),
        ("rate: 200000", "workload.synthetic.rate"),
    ],
)
def test_run_huge_peak_rate_refused(tmp_path: Path, new: str, path: str) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "    shape: constant\n", "")
    edit(scenario, "rate: 20", new)
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == path
    assert int(match["line"]) == line_of(scenario, path.rsplit(".", 1)[1] + ":")


def test_rate_times_multiplier_over_the_limit_is_refused(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "    rate: 20", "    rate: 20000")
    edit(scenario, "  synthetic:\n", "  rateMultiplier: 10\n  synthetic:\n")
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "workload"
    assert "100000 req/s" in match["message"]


def test_event_budget_stops_the_run_with_a_clear_message(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    result = dsim_run(scenario, tmp_path, "--event-budget", "3000")
    assert result.exit_code == 1, result.output
    assert "event budget of 3,000 simulation events is exhausted" in result.output
    summary = json.loads((result.out / "summary.json").read_text())
    assert summary["status"] == "budget_exhausted"
    assert 0 < summary["sim_seconds"] < 300
    assert not (result.out / "error.txt").exists()
    assert (result.out / "report.html").exists()
