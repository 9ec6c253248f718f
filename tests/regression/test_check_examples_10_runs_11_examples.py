"""Symptom: `dsim check --examples 10` ran 11 examples, and `--examples 5` ran 12. The budget is
now the number of simulations, the scenario as given included."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.commands.check import check

ROOT = Path(__file__).resolve().parents[2]
EMBED = ROOT / "scenarios/manifests/embedding-pipeline.yaml"


@pytest.mark.parametrize("examples", [5, 10])
def test_examples_is_the_number_of_runs(examples: int, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        check,
        [
            str(EMBED),
            "--properties",
            "no_orphans",
            "--examples",
            str(examples),
            "--duration",
            "30",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"no violation of no_orphans in {examples} runs")
    assert result.output.count("  example ") == examples
