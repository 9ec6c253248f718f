"""Helpers for the bad-input regression tests: a copy of a shipped scenario and its manifests in a
temporary folder, edited by plain text replacement, and `dsim run` / `dsim validate` in-process."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
LINE = re.compile(r"^dsim run: (?P<file>[^:\n]+):(?P<line>\d+): (?P<path>[^:\n]+): (?P<message>.+)$")
"""The one line `dsim run` prints for bad input: `FILE:LINE: PATH: message`."""


@dataclass
class CliResult:
    exit_code: int
    output: str
    out: Path


FROZEN = ROOT / "tests" / "data" / "badinput"
"""A frozen copy of the default scenario and its manifest, so that the text edits of these tests do
not break when the shipped default scenario changes."""


def copy_scenario(tmp: Path, name: str = "embedding-pipeline") -> Path:
    """`scenarios/<name>.yaml` and `scenarios/manifests/` copied into `tmp` (the default scenario
    from its frozen copy in tests/data/badinput); returns the scenario path."""
    shutil.copytree(SCENARIOS / "manifests", tmp / "manifests")
    target = tmp / f"{name}.yaml"
    frozen = FROZEN / f"{name}.yaml"
    shutil.copy(frozen if frozen.exists() else SCENARIOS / f"{name}.yaml", target)
    for manifest in (FROZEN / "manifests").glob("*.yaml") if frozen.exists() else ():
        shutil.copy(manifest, tmp / "manifests" / manifest.name)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def dsim_run(scenario: Path | str, tmp: Path, *args: str) -> CliResult:
    from sim.cli import cli

    out = tmp / "run-out"
    result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(out), "--quiet", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.output, out)


def dsim_validate(*paths: Path) -> CliResult:
    from sim.cli import cli

    result = CliRunner().invoke(cli, ["validate", *(str(p) for p in paths)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.output, Path())


def assert_bad_input(result: CliResult) -> re.Match[str]:
    """Exit 2, exactly one well-formed `FILE:LINE: PATH: message` line, nothing written."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    match = LINE.match(lines[0])
    assert match is not None, lines[0]
    assert not result.out.exists()
    return match
