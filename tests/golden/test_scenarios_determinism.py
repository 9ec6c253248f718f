"""Every shipped scenario is deterministic: the same digest twice in one process, under both
profiles where the scenario is meant for both, whatever the output folder; and across
PYTHONHASHSEED values in fresh interpreters (on the two fastest scenarios, to keep the suite fast).
Every shipped scenario's expectations hold (exit code 0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
FAST = ("embedding-pipeline", "scale-to-zero")
PREFIX_ONLY = {"predictive-scaling": 4 * 3600.0, "predictive-scaling-reactive": 4 * 3600.0}
"""Multi-day scenarios (about a minute of CPU each in full): checked here over their first hours, for
determinism only (their expectations need the whole run; tests/unit/test_predictive_scaling_scenario.py
checks a prefix's prediction facts)."""


def _cases() -> list[tuple[str, str | None]]:
    """Each scenario under its own profile and under `corrected` (every shipped scenario states
    what must hold under both; scale-to-zero, scaler-conflicts and hpa-strategy differ by profile)."""
    cases: list[tuple[str, str | None]] = []
    for path in SCENARIOS:
        cases.append((path.stem, None))
        cases.append((path.stem, "corrected"))
    return cases


def test_every_required_scenario_is_shipped() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {
        "embedding-pipeline",
        "llm-prefill-decode",
        "per-role-autoscaling",
        "scale-to-zero",
        "scaler-conflicts",
        "azure-conversation-replay",
        "cold-start-cliff",
        "faults",
    } <= names


@pytest.mark.slow
@pytest.mark.parametrize(("name", "profile"), _cases())
def test_twice_same_digest_and_expectations_hold(name: str, profile: str | None, tmp_path: Path) -> None:
    resolved = load_scenario(ROOT / "scenarios" / f"{name}.yaml", profile=profile)
    again = load_scenario(ROOT / "scenarios" / f"{name}.yaml", profile=profile)
    if name in PREFIX_ONLY:
        from sim.report.analysis import with_duration

        resolved, again = (with_duration(r, PREFIX_ONLY[name]) for r in (resolved, again))
    first = run_scenario(resolved, tmp_path / "a", render=False)
    second = run_scenario(again, tmp_path / "nested" / "b", render=False)
    assert first.error is None, first.error
    failed = [(e["name"], e["detail"]) for e in first.failed_expectations]
    assert name in PREFIX_ONLY or failed == []
    assert first.summary["digest"] == second.summary["digest"]
    assert (tmp_path / "a" / "events.jsonl").read_bytes() == (
        tmp_path / "nested" / "b" / "events.jsonl"
    ).read_bytes()
    assert first.summary["wall_seconds"] < 30.0


def _digest_in_subprocess(name: str, out: Path, hashseed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(ROOT / "scenarios" / f"{name}.yaml"),
            "--out",
            str(out),
            "--quiet",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return str(json.loads((out / "summary.json").read_text())["digest"])


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST)
def test_same_digest_across_hash_seeds_and_folders(name: str, tmp_path: Path) -> None:
    digests = {
        _digest_in_subprocess(name, tmp_path / "x", "0"),
        _digest_in_subprocess(name, tmp_path / "deeper" / "y", "4242"),
    }
    assert len(digests) == 1
