"""`dsim check SCENARIO_OR_MANIFESTS`: property-test your own manifests.

Starting from the manifests (or a scenario), Hypothesis explores seeds, load shapes and fault
schedules around them; every example runs through the same simulator as `dsim run` and is judged by
the named invariants (sim/invariants.py). The first violation is shrunk and written to --out as a
scenario that `dsim run` reproduces. Exit 0 nothing found, 1 a counterexample was written, 2 bad
input."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.errors import InputError
from model.scenario import parse_duration
from sim.invariants import INVARIANTS, Violation


def _fail_input(err: InputError) -> None:
    click.echo(f"dsim check: {err}", err=True)
    sys.exit(2)


def parse_properties(text: str | None) -> list[str]:
    """`a,b` -> ['a', 'b'] (all invariants when empty or 'all'); unknown names are bad input."""
    import difflib

    if not text or text.strip() == "all":
        return list(INVARIANTS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in INVARIANTS:
            hint = difflib.get_close_matches(n, list(INVARIANTS), n=1)
            raise InputError(
                f"unknown property {n!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                path="--properties",
                value=n,
                allowed=", ".join(INVARIANTS),
            )
    return list(dict.fromkeys(names))


@click.command(name="check")
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--properties",
    default="all",
    show_default=True,
    help="Comma-separated invariant names (sim/invariants.py), or 'all'.",
)
@click.option(
    "--examples",
    type=int,
    default=20,
    show_default=True,
    help="Simulations to run (the scenario as given first) before giving up; shrinking a violation "
    "found runs a few more.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("counterexamples"),
    show_default=True,
    help="Folder for the counterexample scenario.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Fix the root seed (default: explored, starting from the scenario's).",
)
@click.option(
    "--profile",
    type=click.Choice(["upstream", "corrected"]),
    default=None,
    help="Quirk profile (default: the scenario's, or corrected for bare manifests).",
)
@click.option("--duration", default=None, help="Simulated length of each example (e.g. 300, 5m).")
@click.option(
    "--max-rate", type=float, default=40.0, show_default=True, help="Highest request rate explored (req/s)."
)
@click.option(
    "--shrink-seconds", type=float, default=120.0, show_default=True, help="Wall-clock budget for shrinking."
)
@click.option(
    "--allow-outside", is_flag=True, help="Allow scenario paths outside the scenario's folder tree."
)
def check(
    source: Path,
    properties: str,
    examples: int,
    out: Path,
    seed: int | None,
    profile: str | None,
    duration: str | None,
    max_rate: float,
    shrink_seconds: float,
    allow_outside: bool,
) -> None:
    """Explore load and faults around SOURCE (a dsim/v1 scenario, a manifest file or a folder of
    manifests) and look for violations of --properties.

    \b
    Examples:
      dsim check manifests/pipeline.yaml --properties dependents_start,no_fights --examples 30
      dsim check scenarios/scale-to-zero.yaml --profile upstream --out counterexamples/
      dsim run counterexamples/<name>.yaml       # reproduces the violation (exit 1)"""
    from sim.testing.explore import explore, export_finding, resolve_input

    try:
        names = parse_properties(properties)
        if examples < 1:
            raise InputError("--examples must be at least 1", value=examples, allowed="1, 2, ...")
        if seed is not None and seed < 0:
            raise InputError("--seed must be a non-negative integer", value=seed, allowed="0, 1, 2, ...")
        if max_rate <= 0:
            raise InputError("--max-rate must be positive", value=max_rate, allowed="> 0")
        length: float | None = None
        if duration is not None:
            try:
                length = parse_duration(duration)
            except ValueError as exc:
                raise InputError(f"--duration: {exc}", value=duration) from None
            if length <= 0:
                raise InputError("--duration must be positive", value=duration, allowed="> 0")
        base = resolve_input(source, duration=length, allow_outside=allow_outside)
    except InputError as err:
        _fail_input(err)
        return
    is_scenario = source.is_file() and _is_scenario(source)
    chosen = profile or (base.scenario.profile.value if is_scenario else "corrected")

    def progress(runs: int, found: list[Violation]) -> None:
        click.echo(f"  example {runs}: {'VIOLATION' if found else 'ok'}", err=True)

    click.echo(
        f"dsim check: {source} profile={chosen} properties={','.join(names)} examples={examples}", err=True
    )
    finding, runs = explore(
        base,
        names,
        profile=chosen,
        examples=examples,
        seed=seed,
        shrink_seconds=shrink_seconds,
        max_rate=max_rate,
        progress=progress,
    )
    if finding is None:
        click.echo(f"no violation of {', '.join(names)} in {runs} runs")
        sys.exit(0)
    path = export_finding(base, finding, names, chosen, out)
    click.echo(f"counterexample after {runs} runs, written to {path}")
    for v in finding.violations:
        click.echo(f"  {v.name} at {v.time:g}s: {v.detail}")
    click.echo(f"reproduce: dsim run {path}")
    sys.exit(1)


def _is_scenario(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False
    return "dsim/v1" in head and "kind: Scenario" in head
