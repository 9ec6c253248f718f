"""Bad sweep files: one `FILE:LINE: PATH: message` line, exit 2, nothing run or written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli
from tests.helpers.sweeps import SWEEP, write_tiny


def sweep_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sweep", *args], catch_exceptions=False)
    return result.exit_code, result.output


CASES = [
    # (replace, with, expected line, expected text)
    (
        "seeds: [1, 2]",
        "seeds: [1, 2]\nsampling: {method: grid, points: 3}",
        12,
        "sampling: a grid takes every combination",
    ),
    (
        "seeds: [1, 2]",
        "seed: 1\nsampling: {method: lhs}",
        12,
        "sampling: sampling method 'lhs' needs 'points'",
    ),
    ("seeds: [1, 2]", "seedz: [1, 2]", 11, "seedz: unknown field; did you mean 'seed'?"),
    (
        "values: [2, 8]",
        "distribution: {kind: uniform, low: 1, high: 4}",
        7,
        "parameters[0].distribution: a grid cannot enumerate a distribution",
    ),
    (
        "values: [2, 8]",
        "values: [2, 8]\n    range: {start: 1, stop: 3, step: 1}",
        6,
        "give exactly one of 'values'",
    ),
    (
        "manifests[BudAIScaler/inference-scaler]",
        "manifests[BudAIScaler/decode-scaler]",
        9,
        "parameters[1].path: no manifest BudAIScaler/decode-scaler in the base scenario",
    ),
    (
        "path: workload.synthetic.rate",
        "path: workload.synthetik.rate",
        6,
        "parameters[0].path: the base scenario has nothing",
    ),
    (
        "path: workload.synthetic.rate",
        "path: workload.synthetic.rat",
        6,
        "the scenario has no field 'workload.synthetic.rat'",
    ),
    (
        "slo:\n  - {le: [e2e_p99_s, 5]}",
        "slo:\n  - {le: [e2e_p99, 5]}",
        13,
        "slo[0].le[0]: unknown name 'e2e_p99'; did you mean 'e2e_p99_s'?",
    ),
    (
        "slo:\n  - {le: [e2e_p99_s, 5]}",
        "constraints:\n  - {lte: [maxReplicas, 3]}",
        13,
        "constraints[0].lte: unknown operator 'lte'; did you mean 'lt'?",
    ),
    (
        "slo:\n  - {le: [e2e_p99_s, 5]}",
        "constraints:\n  - {le: [maxReplica, 3]}",
        13,
        "unknown name 'maxReplica'; did you mean 'maxReplicas'?",
    ),
    (
        "slo:\n  - {le: [e2e_p99_s, 5]}",
        "constraints:\n  - {le: [maxReplicas]}",
        13,
        "constraints[0].le: le takes a list of two operands",
    ),
    ("base: tiny.yaml", "base: missing.yaml", 4, "base: base scenario not found"),
    ("name: maxReplicas", "name: seed", 8, "parameters[1].name: parameter name 'seed' is a result column"),
    (
        "name: maxReplicas",
        "name: workload.synthetic.rate",
        8,
        "two parameters are named 'workload.synthetic.rate'",
    ),
    (
        "path: workload.synthetic.rate",
        "path: seed",
        6,
        "parameters[0].name: parameter name 'seed' is a result column",
    ),
]


@pytest.mark.parametrize(("old", "new", "line", "text"), CASES)
def test_bad_sweep_is_one_line_with_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, text: str
) -> None:
    assert old in SWEEP
    path = write_tiny(tmp_path, SWEEP.replace(old, new, 1))
    out = tmp_path / "out"
    code, output = sweep_cli(str(path), "--out", str(out), "--quiet")
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(f"dsim sweep: {path}:{line}: "), output
    assert text in lines[0], output
    assert not out.exists()


def test_bad_yaml_and_wrong_kind(tmp_path: Path) -> None:
    path = write_tiny(tmp_path, SWEEP.replace("kind: Sweep", "kind: Scenario"))
    code, output = sweep_cli(str(path), "--quiet")
    assert code == 2 and f"{path}:2: kind: 'Scenario' is not allowed" in output
    path.write_text("apiVersion: dsim/v1\nkind: Sweep\nparameters: [\n")
    code, output = sweep_cli(str(path), "--quiet")
    assert code == 2 and str(path) in output and "Traceback" not in output


def test_bad_dask_address(tmp_path: Path) -> None:
    path = write_tiny(tmp_path)
    code, output = sweep_cli(str(path), "--dask", "nowhere", "--out", str(tmp_path / "o"))
    assert code == 2 and "--dask: 'nowhere' is not a scheduler address" in output
