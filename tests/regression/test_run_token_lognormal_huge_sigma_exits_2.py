"""Regression (fuzzing the request-size distributions after they landed): `inputTokens:
{distribution: lognormal, median: 100, sigma: 1e30}` overflowed in sim/load/sizes.py and the
cast to int64 wrapped negative (`ValueError: Negative delay`, error.txt). Token distribution
parameters are bounded at load (MAX_TOKENS, MAX_LOGNORMAL_SIGMA) and draws are clipped to
MAX_TOKENS."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit, line_of


def test_run_token_lognormal_huge_sigma_exits_2(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "inputTokens: 256", "inputTokens: {distribution: lognormal, median: 100, sigma: 1.0e+30}")
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "workload.synthetic.inputTokens.sigma"
    assert int(match["line"]) == line_of(scenario, "inputTokens:")


def test_run_token_lognormal_at_the_bounds_runs_cleanly(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "inputTokens: 256", "inputTokens: {distribution: lognormal, median: 10000000, sigma: 5}")
    result = dsim_run(scenario, tmp_path, "--max-sim-seconds", "20", "--no-render")
    assert result.exit_code in (0, 1), result.output
    assert not (result.out / "error.txt").exists()
