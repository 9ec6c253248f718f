"""Mutation fuzz of every shipped scenario (scenarios/*.yaml) and manifest (scenarios/manifests/*.yaml)
through the `dsim run` command, in-process (click's CliRunner).

Each mutant (sim/testing/mutations.py: wrong types, empty strings, huge/NaN/inf numbers, control
characters, dropped or misspelled keys, lists for maps, deep nesting, duplicate keys, raw bytes,
documents that are not mappings) must end in exit 2 with exactly one `FILE:LINE: PATH: message`
line and nothing written, or in a clean run (exit 0 or 1, no error.txt from an exception).
Mutants that run are capped (`--max-sim-seconds`, `--event-budget`, `--no-render`) so each example
takes a fraction of a second. `make test` (profile ci) runs a few examples, `make deep` thousands.
A counterexample is exported to `fuzz-counterexamples/<symptom>/` (or $DSIM_FUZZ_EXPORT) as a
scenario folder that `dsim run` reproduces; turn it into a regression test named after the symptom."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.yamlio import load_documents
from sim.cli import cli
from sim.testing.mutations import (
    Mutant,
    check_bad_input_or_clean_run,
    export_counterexample,
    mutate_documents,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
EXPORT = Path(os.environ.get("DSIM_FUZZ_EXPORT", ROOT / "fuzz-counterexamples"))
RUN_CAP = ("--quiet", "--no-render", "--max-sim-seconds", "30", "--event-budget", "30000")
EXAMPLES = {"deep": 1200, "ci": 25, "dev": 5}.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), 25)

SCENARIO_FILES = sorted(p.name for p in SCENARIOS.glob("*.yaml"))
MANIFEST_FILES = sorted(p.name for p in (SCENARIOS / "manifests").glob("*.yaml"))
SCENARIO_DOCS: dict[str, list[Any]] = {
    n: [d.data for d in load_documents(SCENARIOS / n)] for n in SCENARIO_FILES
}
MANIFEST_DOCS: dict[str, list[Any]] = {
    n: [d.data for d in load_documents(SCENARIOS / "manifests" / n)] for n in MANIFEST_FILES
}


def _user_of(manifest: str) -> str:
    """The first shipped scenario that references `manifests/<manifest>`."""
    for name, docs in SCENARIO_DOCS.items():
        for ref in docs[0].get("manifests", []):
            if ref.get("path") == f"manifests/{manifest}":
                return name
    raise AssertionError(f"no shipped scenario uses manifests/{manifest}")


MANIFEST_USER = {m: _user_of(m) for m in MANIFEST_FILES}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A copy of scenarios/ (traces linked, not copied) that mutants are written into."""
    tmp = Path(tempfile.mkdtemp(prefix="dsim-fuzz-"))
    shutil.copytree(SCENARIOS, tmp / "scenarios", ignore=shutil.ignore_patterns("traces"))
    (tmp / "scenarios" / "traces").symlink_to(SCENARIOS / "traces", target_is_directory=True)
    yield tmp / "scenarios"
    shutil.rmtree(tmp, ignore_errors=True)


def run_mutant(folder: Path, scenario: Path) -> str | None:
    """`dsim run` on a scenario in-process; the contract's symptom, or None."""
    out = folder.parent / "out"
    shutil.rmtree(out, ignore_errors=True)
    try:
        result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(out), *RUN_CAP])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            exc = result.exception
            return f"dsim run raised {type(exc).__name__}: {exc}"
        return check_bad_input_or_clean_run(result.exit_code, result.output, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def check_scenario_mutant(folder: Path, name: str, mutant: Mutant) -> str | None:
    target = folder / f"mutant-{name}"
    target.write_bytes(mutant.raw)
    try:
        return run_mutant(folder, target)
    finally:
        target.unlink(missing_ok=True)


def check_manifest_mutant(folder: Path, manifest: str, mutant: Mutant) -> str | None:
    target = folder / "manifests" / manifest
    original = target.read_bytes()
    target.write_bytes(mutant.raw)
    try:
        return run_mutant(folder, folder / MANIFEST_USER[manifest])
    finally:
        target.write_bytes(original)


def _fail(folder: Path, symptom: str, mutant: Mutant, target: str) -> None:
    where = export_counterexample(EXPORT, symptom, mutant, target=target, context=folder)
    raise AssertionError(f"{symptom} ({mutant.describe()} of {target}); exported to {where}")


@FUZZ_SETTINGS
@given(
    st.sampled_from(SCENARIO_FILES).flatmap(
        lambda n: mutate_documents(SCENARIO_DOCS[n]).map(lambda m: (n, m))
    )
)
def test_scenario_mutants_exit_2_with_one_line_or_run_cleanly(
    workdir: Path, case: tuple[str, Mutant]
) -> None:
    name, mutant = case
    symptom = check_scenario_mutant(workdir, name, mutant)
    if symptom is not None:
        _fail(workdir, symptom, mutant, f"mutant-{name}")


@FUZZ_SETTINGS
@given(
    st.sampled_from(MANIFEST_FILES).flatmap(
        lambda n: mutate_documents(MANIFEST_DOCS[n]).map(lambda m: (n, m))
    )
)
def test_manifest_mutants_exit_2_with_one_line_or_run_cleanly(
    workdir: Path, case: tuple[str, Mutant]
) -> None:
    manifest, mutant = case
    symptom = check_manifest_mutant(workdir, manifest, mutant)
    if symptom is not None:
        _fail(workdir, symptom, mutant, f"manifests/{manifest}")
