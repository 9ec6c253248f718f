"""The four upstream defects a property can express, each as the scenario `dsim check` exported when
it found it (tests/regression/upstream_defects/): under `upstream` the scenario's invariant
expectation fails with that invariant's violation; under `corrected` it holds.

    zero-replica-dependency  dependents_start   ds_ready_requires_nonzero
    no-scale-from-zero       wakes_from_zero    no_scale_from_zero
    cross-kind-double-control no_fights         conflict_blind_to_generated_deployment
    panic-at-2-percent       panic_threshold    panic_threshold_divided_by_100

Each runs in-process through the same loader, World and expectation checks as `dsim run` (without
rendering plots); one also goes through the `dsim run` command line end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.quirks import Quirk
from sim.scenario.expectations import evaluate
from sim.scenario.load import load_scenario
from sim.scenario.world import World

HERE = Path(__file__).resolve().parent / "upstream_defects"
CASES = {
    "zero-replica-dependency-dependents-start.yaml": ("dependents_start", "ds_ready_requires_nonzero"),
    "no-scale-from-zero-wakes-from-zero.yaml": ("wakes_from_zero", "no_scale_from_zero"),
    "cross-kind-double-control-no-fights.yaml": ("no_fights", "conflict_blind_to_generated_deployment"),
    "panic-at-2-percent-panic-threshold.yaml": ("panic_threshold", "panic_threshold_divided_by_100"),
}


def test_every_exported_scenario_is_listed() -> None:
    assert sorted(p.name for p in HERE.glob("*.yaml")) == sorted(CASES)


def _verdicts(path: Path, profile: str) -> list[dict[str, object]]:
    resolved = load_scenario(path, profile=profile)
    world = World(resolved)
    world.build()
    world.run()
    return evaluate(resolved.scenario.expectations, world.facts(), profile)


@pytest.mark.parametrize("file", sorted(CASES))
def test_violation_under_upstream_only(file: str) -> None:
    invariant, quirk = CASES[file]
    upstream = _verdicts(HERE / file, "upstream")
    assert [(v["name"], v["passed"]) for v in upstream] == [(f"invariant {invariant} holds", False)]
    assert str(upstream[0]["detail"]).startswith(f"{invariant} violated at ")
    corrected = _verdicts(HERE / file, "corrected")
    assert corrected == [
        {"name": f"invariant {invariant} holds", "passed": True, "detail": f"{invariant}: no violation"}
    ]
    # the scenario switched the quirk off alone also passes: the quirk is the cause
    resolved = load_scenario(HERE / file, profile="upstream")
    alone = resolved.scenario.model_copy(update={"quirks": {**resolved.scenario.quirks, Quirk(quirk): False}})
    world = World(type(resolved)(**{**resolved.__dict__, "scenario": alone}))
    world.build()
    world.run()
    assert [v["passed"] for v in evaluate(alone.expectations, world.facts(), "upstream")] == [True]


def test_dsim_run_reproduces_from_the_command_line(tmp_path: Path) -> None:
    file = HERE / "zero-replica-dependency-dependents-start.yaml"
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(file),
            "--profile",
            "upstream",
            "--quiet",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed"
    (exp,) = summary["expectations"]
    assert exp["name"] == "invariant dependents_start holds" and exp["passed"] is False
    assert "embedding-pipeline role inference still has no Deployment" in exp["detail"]
