"""`dsim run` end to end on a small scenario: artefacts, exit codes, atomic replacement, crash
artefacts, `dsim report` and `dsim diff`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.scenario import world as world_module

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
apiVersion: dsim/v1
kind: Scenario
name: tiny
seed: 1
duration: 40
manifests:
  - path: manifests/embedding-pipeline.yaml
workload:
  synthetic: {shape: constant, rate: 5, inputTokens: 128, outputTokens: 0}
expectations:
  - {type: roleReady, role: inference, by: 30}
  - {type: completed, min: 50}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    (tmp_path / "manifests").mkdir()
    shutil.copy(ROOT / "scenarios" / "manifests" / "embedding-pipeline.yaml", tmp_path / "manifests")
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_run_writes_every_artefact_and_exits_0(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run(str(scenario), "--out", str(out))
    assert code == 0, output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "events.jsonl",
        "latency.png",
        "manifests.resolved.yaml",
        "queue.png",
        "replicas.png",
        "report.html",
        "scenario.resolved.yaml",
        "summary.json",
        "timeseries.csv",
        "ttft_tpot.png",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert summary["seed"] == 1 and summary["profile"] == "upstream" and summary["sim_seconds"] == 40.0
    req = summary["requests"]
    assert req["arrived"] == req["completed"] + req["dropped"] + req["in_flight"]
    assert set(summary["roles"]) == {"router", "tokenizer", "inference"}
    assert summary["role_order"] == ["router", "tokenizer", "inference"]
    assert [e["passed"] for e in summary["expectations"]] == [True, True]
    scaler = summary["autoscalers"]["BudAIScaler/default/inference-scaler"]
    assert scaler["target"] == "DisaggregatedService/embedding-pipeline/inference"
    assert scaler["last_decision"]["code"] == "NoMetrics"
    assert {"type": "Ready", "status": "True", "reason": "ScalerReady"}.items() <= scaler["conditions"][
        0
    ].items()
    assert "all expectations hold" in output
    first = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()[:1]]
    assert first[0]["type"] == "api" and first[0]["t"] == 0.0
    assert not list(tmp_path.glob(".out.*"))  # no temporary folders left behind


def test_failed_expectation_exits_1_and_is_listed(scenario: Path, tmp_path: Path) -> None:
    code, output = run(str(scenario), "--out", str(tmp_path / "o"), "--until", "3")
    assert code == 1
    assert "✘ inference Ready by 30s" in output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["sim_seconds"] == 3.0


def test_output_folder_is_replaced_atomically(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("from an older run")
    code, _ = run(str(scenario), "--out", str(out), "--quiet")
    assert code == 0
    assert not (out / "stale.txt").exists()
    assert (out / "summary.json").exists()


def test_crash_mid_run_still_writes_artefacts_with_the_error(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = world_module.World._fault_process

    def boom(self: world_module.World) -> object:
        yield self.sim.env.timeout(7.0)
        raise RuntimeError("injected crash at 7 s")

    monkeypatch.setattr(world_module.World, "_schedule_faults", lambda self: self.sim.env.process(boom(self)))
    out = tmp_path / "out"
    code, output = run(str(scenario), "--out", str(out), "--quiet")
    assert code == 1
    assert "the simulation stopped with an error: RuntimeError: injected crash at 7 s" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "error" and summary["sim_seconds"] == 7.0
    assert "RuntimeError: injected crash at 7 s" in (out / "error.txt").read_text()
    assert (out / "scenario.resolved.yaml").exists() and (out / "report.html").exists()
    assert "Run error" in (out / "report.html").read_text()
    assert original is world_module.World._fault_process


def test_seed_changes_the_digest_and_profile_is_recorded(scenario: Path, tmp_path: Path) -> None:
    run(str(scenario), "--out", str(tmp_path / "a"), "--quiet")
    run(str(scenario), "--out", str(tmp_path / "b"), "--quiet", "--seed", "2", "--profile", "corrected")
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["digest"] != b["digest"]
    assert (b["seed"], b["profile"]) == (2, "corrected")
    assert all(v is False for v in b["quirks"].values())


def test_report_rerenders_and_diff_compares(scenario: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run(str(scenario), "--out", str(a), "--quiet")
    run(str(scenario), "--out", str(b), "--quiet", "--profile", "corrected")
    (a / "report.html").unlink()
    (a / "replicas.png").unlink()
    result = CliRunner().invoke(cli, ["report", str(a)])
    assert result.exit_code == 0 and (a / "report.html").exists() and (a / "replicas.png").exists()
    result = CliRunner().invoke(cli, ["diff", str(a), str(b), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "profile" in result.output and "corrected" in result.output
    assert (tmp_path / "d" / "diff.html").exists()


@pytest.mark.parametrize("command", ["report", "diff"])
def test_report_and_diff_refuse_folders_that_are_not_runs(command: str, tmp_path: Path) -> None:
    args = [command, str(tmp_path)] + ([str(tmp_path)] if command == "diff" else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "no summary.json here: not a run folder" in result.output
    assert "Traceback" not in result.output
