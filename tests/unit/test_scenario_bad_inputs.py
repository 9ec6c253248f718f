"""Bad scenarios: one clear message naming file, line and YAML path; exit 2; no traceback; nothing
written (tests/data/bad_scenarios/expected.yaml lists the expected line and message fragment)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sim.cli import cli

BAD = Path(__file__).resolve().parents[1] / "data" / "bad_scenarios"
EXPECTED: dict[str, list[object]] = yaml.safe_load((BAD / "expected.yaml").read_text())


def test_every_bad_scenario_is_listed() -> None:
    files = sorted(p.name for p in BAD.glob("*.yaml") if p.name != "expected.yaml")
    assert files == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_scenario_exits_2_with_one_clear_message(name: str, tmp_path: Path) -> None:
    line, fragment = EXPECTED[name]
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(BAD / name), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1, message
    assert message.startswith("dsim run: ")
    assert str(fragment) in message
    if line is not None:
        assert f"{name}:{line}: " in message
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_allow_outside_lets_the_escaping_path_through(tmp_path: Path) -> None:
    from sim.scenario.load import load_scenario

    resolved = load_scenario(BAD / "path-escapes.yaml", allow_outside=True)
    assert resolved.roles == ("router", "tokenizer", "inference")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seed", "-1"], "--seed must be a non-negative integer"),
        (["--until", "soon"], "--until: expected a number of seconds"),
        (["--until", "0"], "--until must be a positive number of seconds"),
    ],
)
def test_bad_command_line_values_exit_2(args: list[str], fragment: str, tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "embedding-pipeline.yaml"
    result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(tmp_path / "o"), "--quiet", *args])
    assert result.exit_code == 2
    assert fragment in result.output
    assert not (tmp_path / "o").exists()


def test_missing_scenario_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "nope.yaml"), "--quiet"])
    assert result.exit_code == 2
    assert "nope.yaml: no such file" in result.output
