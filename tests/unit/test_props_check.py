"""`dsim check`: exit codes (0 nothing found, 1 counterexample written, 2 bad input), the exported
file is a valid scenario that names the violated invariant."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from model.scenario import INVARIANT_NAMES
from sim.commands.check import check
from sim.invariants import INVARIANTS
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
S2Z = ROOT / "scenarios/manifests/scale-to-zero.yaml"
EMBED = ROOT / "scenarios/manifests/embedding-pipeline.yaml"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(check, list(args))
    return result.exit_code, result.output


def test_names_in_model_and_registry_agree() -> None:
    assert tuple(INVARIANTS) == INVARIANT_NAMES


def test_bad_input_exits_2() -> None:
    code, out = _run(str(S2Z), "--properties", "dependents_strat")
    assert code == 2
    assert "unknown property 'dependents_strat'; did you mean 'dependents_start'?" in out
    code, out = _run(str(ROOT / "no-such.yaml"))
    assert code == 2 and "no such file or folder" in out
    code, out = _run(str(S2Z), "--examples", "0")
    assert code == 2 and "--examples must be at least 1" in out
    code, out = _run(str(S2Z), "--duration", "soon")
    assert code == 2 and "--duration" in out


def test_nothing_found_exits_0(tmp_path: Path) -> None:
    code, out = _run(
        str(EMBED), "--properties", "dependents_start,no_orphans", "--examples", "2", "--duration", "60",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    assert out.strip().endswith("no violation of dependents_start, no_orphans in 2 runs")
    assert list(tmp_path.iterdir()) == []


def test_counterexample_written_and_loadable(tmp_path: Path) -> None:
    code, out = _run(
        str(S2Z),
        "--profile",
        "upstream",
        "--properties",
        "dependents_start",
        "--duration",
        "90",
        "--out",
        str(tmp_path),
    )
    assert code == 1, out
    path = tmp_path / "scale-to-zero-dependents-start.yaml"
    assert f"counterexample after 1 runs, written to {path}" in out
    resolved = load_scenario(path)
    sc = resolved.scenario
    assert (sc.name, sc.seed, sc.duration, sc.profile.value) == (
        "scale-to-zero-dependents-start",
        0,
        90.0,
        "upstream",
    )
    assert [e.model_dump(exclude_none=True) for e in sc.expectations] == [
        {"type": "invariant", "invariant": "dependents_start"}
    ]
    assert [m.obj["kind"] for m in resolved.manifests] == ["DisaggregatedService", "BudAIScaler"]
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Counterexample found by `dsim check`")
    assert "# dependents_start at 60s: embedding-pipeline role inference still has no Deployment" in text
