"""Regression (issue 21, case 4): a lifecycle delay `{distribution: lognormal, median: 45, sigma:
1e30}` raised `OverflowError: math range error` in sim/cluster/stages.py `sample_delay` at run
time. Distribution parameters are bounded at load (model.scenario MAX_DELAY_SECONDS,
MAX_LOGNORMAL_SIGMA; docs/scenarios.md), and no draw can overflow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from model.scenario import MAX_LOGNORMAL_SIGMA, DelaySpec
from sim.cluster.stages import sample_delay
from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit, line_of


@pytest.mark.parametrize(
    ("delay", "field"),
    [
        ("{distribution: lognormal, median: 45, sigma: 1e30}", "sigma"),
        ("{distribution: lognormal, median: 1.0e+300, sigma: 1}", "median"),
        ("{distribution: normal, mean: .inf, stddev: 1}", "mean"),
        ("{distribution: uniform, low: 0, high: .nan}", "high"),
        ("{distribution: empirical, values: [1, 1.0e+308]}", "values[1]"),
    ],
)
def test_run_lognormal_huge_sigma_exits_2(tmp_path: Path, delay: str, field: str) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "manifests:\n", f"lifecycle:\n  inference:\n    ready: {delay}\nmanifests:\n")
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == f"lifecycle.inference.ready.{field}"
    assert int(match["line"]) == line_of(scenario, "    ready: ")


def test_sample_delay_never_overflows_at_the_bound() -> None:
    spec = DelaySpec(distribution="lognormal", median=1e6, sigma=MAX_LOGNORMAL_SIGMA)
    rng = np.random.default_rng(0)
    draws = [sample_delay(spec, rng) for _ in range(10_000)]
    assert all(math.isfinite(d) and d >= 0 for d in draws)
