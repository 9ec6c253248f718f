"""Symptom: `dsim run --quiet` printed nothing on failure, not even which expectation failed."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from sim.cli import cli

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
apiVersion: dsim/v1
kind: Scenario
name: quiet-fail
seed: 1
duration: 30
manifests:
  - path: manifests/embedding-pipeline.yaml
workload:
  synthetic: {shape: constant, rate: 5, inputTokens: 128, outputTokens: 0}
expectations:
  - {type: completed, min: 100000}
  - {type: noFindings, minSeverity: error}
"""


def test_quiet_failure_names_the_failed_expectations_and_error_findings(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    shutil.copy(ROOT / "scenarios" / "manifests" / "embedding-pipeline.yaml", tmp_path / "manifests")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "s.yaml"), "--quiet", "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 1
    assert "FAILED requests completed >= 100000" in res.output
    assert "requests completed" in res.output and "failed" in res.output


def test_quiet_success_stays_silent(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    shutil.copy(ROOT / "scenarios" / "manifests" / "embedding-pipeline.yaml", tmp_path / "manifests")
    (tmp_path / "s.yaml").write_text(
        SCENARIO.replace("min: 100000", "min: 1").replace("  - {type: noFindings, minSeverity: error}\n", "")
    )
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "s.yaml"), "--quiet", "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 0, res.output
    assert res.output == ""
