"""`dsim run SCENARIO`: simulate a scenario, check its expectations, write a report folder."""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from model.errors import InputError
from model.scenario import parse_duration


def _fail_input(err: InputError) -> None:
    click.echo(f"dsim run: {err}", err=True)
    sys.exit(2)


@click.command(name="run")
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--seed", type=int, default=None, help="Override the scenario's seed (a non-negative integer).")
@click.option(
    "--profile",
    type=click.Choice(["upstream", "corrected"]),
    default=None,
    help="upstream = the Go code with its quirks; corrected = every quirk off.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder (default reports/<scenario-name>/). Replaced atomically.",
)
@click.option(
    "--until",
    default=None,
    help="Stop at this simulated time instead of the scenario's duration (e.g. 90, 5m).",
)
@click.option(
    "--quiet",
    is_flag=True,
    help="No progress bar and no summary screen; on failure, the failed expectations and the error "
    "findings are still printed (to stderr).",
)
@click.option(
    "--allow-outside", is_flag=True, help="Allow manifest/trace paths outside the scenario's folder tree."
)
def run(
    scenario: Path,
    seed: int | None,
    profile: str | None,
    out: Path | None,
    until: str | None,
    quiet: bool,
    allow_outside: bool,
) -> None:
    """Replay SCENARIO (a dsim/v1 Scenario YAML file) and write events.jsonl, timeseries.csv,
    summary.json, PNG plots and report.html.

    Exit 0 when every expectation holds, 1 when one fails (they are listed), 2 on bad input (nothing
    is written)."""
    from sim.scenario.load import load_scenario
    from sim.scenario.runner import run_scenario

    try:
        if seed is not None and seed < 0:
            raise InputError("--seed must be a non-negative integer", value=seed, allowed="0, 1, 2, ...")
        until_s: float | None = None
        if until is not None:
            try:
                until_s = parse_duration(until)
            except ValueError as exc:
                raise InputError(f"--until: {exc}", value=until) from None
        resolved = load_scenario(
            scenario, seed=seed, profile=profile, until=until_s, allow_outside=allow_outside
        )
    except InputError as err:
        _fail_input(err)
        return
    target = out if out is not None else Path("reports") / resolved.scenario.name
    # A simulation allocates many short-lived dicts and few cycles: a higher gen-0 threshold makes
    # runs 25-45 % faster (docs/control-plane.md) and changes no result.
    gc.set_threshold(100_000, 50, 100)
    try:
        if quiet:
            result = run_scenario(resolved, target)
            if result.exit_code != 0 and not result.error:
                from sim.report.answers_text import failure_report

                for line in failure_report(result.summary):
                    click.echo(line, err=True)
        else:
            result = _run_with_progress(resolved, target)
            print_summary(result.summary, result.out)
    except KeyboardInterrupt:
        click.echo(f"dsim run: interrupted; {target} was left as it was", err=True)
        sys.exit(130)
    if result.error:
        last = result.error.strip().splitlines()[-1]
        click.echo(
            f"dsim run: the simulation stopped with an error: {last} (details in {result.out}/error.txt)",
            err=True,
        )
    sys.exit(result.exit_code)


def _run_with_progress(resolved: Any, target: Path) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.scenario.runner import run_scenario

    duration = float(resolved.scenario.duration)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>7.0f}/{task.total:.0f} s sim"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[roles]}"),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(resolved.scenario.name, total=duration, roles="")

        def progress(now: float, roles: Mapping[str, tuple[int, int]]) -> None:
            text = "  ".join(f"{r} {ready}/{spec}" for r, (ready, spec) in roles.items())
            bar.update(task, completed=now, roles=text)

        def stage(text: str) -> None:
            bar.update(task, description=f"{resolved.scenario.name}: {text}")

        return run_scenario(resolved, target, progress=progress, on_stage=stage)


def print_summary(summary: Mapping[str, Any], out: Path) -> None:
    """The one-screen summary after a run."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from sim.report.answers_text import cost_line, findings_lines, slo_line, verdict_text

    con = Console()
    findings = summary.get("findings") or []
    if findings:
        colour = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        con.print(f"[bold]findings ({len(findings)})[/]")
        for f, line in zip(findings, findings_lines(findings, limit=len(findings))):
            con.print(f" [{colour.get(str(f.get('severity')), 'white')}]{escape(line)}[/]", highlight=False)
            if f.get("hint"):
                con.print(f"   [dim]hint: {escape(str(f.get('hint')))}[/]", highlight=False)
    req = summary.get("requests", {})
    speed = summary.get("speedup")
    con.print(
        f"[bold]{summary.get('scenario')}[/]  profile={summary.get('profile')}  seed={summary.get('seed')}  "
        f"simulated {summary.get('sim_seconds', 0):.0f} s in {summary.get('wall_seconds', 0):.2f} s wall"
        + (f" ({speed:,.0f}× real time)" if speed else "")
    )
    con.print(
        f"requests: arrived {req.get('arrived', 0)}, completed {req.get('completed', 0)}, "
        f"dropped {req.get('dropped', 0)}, in flight {req.get('in_flight', 0)}   events: {summary.get('events', 0)}"
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in ("role", "ready min–max", "first Ready (s)", "scale ↑/↓", "p50 (s)", "p99 (s)"):
        table.add_column(col, justify="left" if col == "role" else "right")
    roles = summary.get("roles", {})
    for role in summary.get("role_order", []):
        r = roles.get(role, {})
        lat = r.get("latency") or {}
        first = r.get("first_ready_s")
        table.add_row(
            role,
            f"{r.get('replicas_min', '–')}–{r.get('replicas_max', '–')}",
            "never" if first is None else f"{first:g}",
            f"{r.get('scale_ups', 0)}/{r.get('scale_downs', 0)}",
            _num(lat.get("p50")),
            _num(lat.get("p99")),
        )
    con.print(table)
    for extra in (slo_line(summary.get("slo")), cost_line(summary.get("cost"))):
        if extra:
            con.print(extra, highlight=False)
    for e in summary.get("expectations", []):
        mark = "[green]✔[/]" if e.get("passed") else "[bold red]✘[/]"
        con.print(f" {mark} {e.get('name')}  [dim]{e.get('detail')}[/]")
    for note in summary.get("notes", []):
        con.print(f" [yellow]note:[/] {note}")
    failed = [e for e in summary.get("expectations", []) if not e.get("passed")]
    triggered = {k: v for k, v in summary.get("quirks_triggered", {}).items() if v}
    if triggered:
        con.print("quirks that changed a decision: " + ", ".join(f"{k}×{v}" for k, v in triggered.items()))
    from sim.findings.types import at_least

    text = verdict_text(summary)
    bad = summary.get("error") or failed or at_least(findings, "error")
    verdict = f"[bold red]{text}[/]" if bad else f"[bold green]{text}[/]"
    con.print(f"{verdict}   digest {str(summary.get('digest', ''))[:16]}…   report: {out / 'report.html'}")


def _num(value: object) -> str:
    return "–" if value is None else f"{float(value):.3g}"  # type: ignore[arg-type]
