"""budscaler_vectors.json through the production code, and the runner/CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.commands.conformance import conformance
from sim.conformance.bud import HANDLERS
from sim.conformance.runner import VectorFileError, load_vectors, run_files

DATA = Path(__file__).resolve().parents[1] / "data" / "conformance"
BUD = DATA / "budscaler_vectors.json"
VECTORS = json.loads(BUD.read_text())["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_every_bud_vector_passes(vector: dict) -> None:
    result = HANDLERS[vector["kind"]](vector)
    assert result.passed, result.detail


def test_every_kind_in_the_file_has_a_handler() -> None:
    assert {v["kind"] for v in VECTORS} <= set(HANDLERS)
    assert len(VECTORS) == 79


def test_runner_counts_and_summary_line() -> None:
    report = run_files([str(BUD)])
    assert report.summary() == "79 passed, 0 failed, 0 skipped"
    assert report.exit_code == 0
    assert report.kinds["bud.starting_pod_gate"].passed == 11


def test_kind_glob_filters() -> None:
    report = run_files([str(BUD)], "bud.cost.*")
    assert sorted(report.kinds) == [
        "bud.cost.hourly_cost",
        "bud.cost.project_daily",
        "bud.cost.scaling_recommendation",
        "bud.cost.tracker",
        "bud.cost.within_budget",
    ]
    assert report.summary() == "14 passed, 0 failed, 0 skipped"


def _write(tmp_path: Path, vectors: list[dict]) -> str:
    p = tmp_path / "v.json"
    p.write_text(json.dumps({"meta": {}, "vectors": vectors}))
    return str(p)


def test_unknown_kind_is_skipped_and_wrong_expectation_fails(tmp_path: Path) -> None:
    good = dict(VECTORS[0])
    bad = json.loads(json.dumps(VECTORS[2]))
    bad["expected"] = {"replicas": 7}
    path = _write(tmp_path, [good, bad, {"id": "x-1", "kind": "nobody.knows", "inputs": {}, "expected": {}}])
    report = run_files([path])
    assert report.summary() == "1 passed, 1 failed, 1 skipped"
    assert report.exit_code == 1
    assert [(f.vector_id, f.detail) for f in report.failures] == [("bud-003", "replicas: expected 7, got 6")]


def test_raising_handler_is_a_failure_with_the_exception_text(tmp_path: Path) -> None:
    broken = {"id": "b-1", "kind": "bud.policy_limit", "inputs": {}, "expected": {"allowed_change": 1}}
    report = run_files([_write(tmp_path, [broken])])
    assert report.summary() == "0 passed, 1 failed, 0 skipped"
    assert report.failures[0].detail == "raised KeyError: 'policy'"


def test_bad_files_raise_input_errors(tmp_path: Path) -> None:
    with pytest.raises(VectorFileError, match="no such vector file"):
        load_vectors(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(VectorFileError) as exc:
        load_vectors(str(tmp_path / "bad.json"))
    assert str(exc.value).startswith(f"{tmp_path / 'bad.json'}:1: invalid JSON")
    (tmp_path / "shape.json").write_text('{"vectors": {}}')
    with pytest.raises(VectorFileError, match="no top-level `vectors` list"):
        load_vectors(str(tmp_path / "shape.json"))


def test_cli_exit_codes_and_final_line(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(conformance, [str(BUD)])
    assert ok.exit_code == 0
    assert ok.output.splitlines()[-1] == "79 passed, 0 failed, 0 skipped"

    bad = json.loads(json.dumps(VECTORS[2]))
    bad["expected"] = {"replicas": 7}
    failing = runner.invoke(conformance, [_write(tmp_path, [bad]), "--verbose"])
    assert failing.exit_code == 1
    assert "bud-003 [bud.policies.scale_up]" in failing.output
    assert "actual:   replicas: expected 7, got 6" in failing.output
    assert failing.output.splitlines()[-1] == "0 passed, 1 failed, 0 skipped"

    missing = runner.invoke(conformance, [str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "Traceback" not in missing.output
    assert "no such vector file" in missing.output
