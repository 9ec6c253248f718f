"""`dsim sweep SWEEP.yaml --out DIR`: many runs of one scenario, in parallel, into one table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from model.errors import InputError

if TYPE_CHECKING:
    from sim.sweep.engine import Progress


@click.command(name="sweep")
@click.argument("sweep_file", metavar="SWEEP", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder (default reports/sweeps/<sweep-name>/). Rerunning into it resumes.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Parallel runs (default: the cores this process may use). 0 runs them in this process.",
)
@click.option(
    "--dask",
    metavar="ADDRESS|local",
    default=None,
    help="Run on a Dask distributed cluster: a scheduler address (tcp://host:8786), or `local` to "
    "start a LocalCluster of --workers processes on the loopback interface.",
)
@click.option("--keep-runs", is_flag=True, help="Keep each run's folder under DIR/runs/<key>/.")
@click.option(
    "--limit", type=click.IntRange(min=0), default=None, help="Run at most N new runs now (rerun to go on)."
)
@click.option(
    "--dry-run", is_flag=True, help="List the points (and which are done or invalid); run and write nothing."
)
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--no-report", is_flag=True, help="Write the tables but not report.html.")
@click.option(
    "--allow-outside", is_flag=True, help="Allow manifest/trace paths outside the base scenario's folder."
)
def sweep(
    sweep_file: Path,
    out: Path | None,
    workers: int | None,
    dask: str | None,
    keep_runs: bool,
    limit: int | None,
    dry_run: bool,
    quiet: bool,
    no_report: bool,
    allow_outside: bool,
) -> None:
    """Explore configurations of a scenario: every point of SWEEP (a dsim/v1 Sweep file: a base
    scenario, parameters addressed by path, values, profiles, seeds, grid or random/LHS sampling,
    constraints, an SLO) is simulated as `dsim run` would, in parallel, and reduced to one row.
    The file format is in docs/sweeps.md.

    \b
    Writes DIR/results.parquet and DIR/results.csv (one row per point: parameters, seed, profile,
    digest, status, SLO attainment, GPU-hours, latency percentiles, ...), DIR/report.html (Pareto
    front of cost against SLO, heatmaps, marginals, best configurations) and DIR/rows/<key>.json
    (one file per finished run). A rerun skips the runs already done, so an interrupted sweep
    (Ctrl-C, or even kill -9) resumes where it stopped.

    \b
    Examples:
      dsim sweep sweeps/prefill-capacity.yaml --out reports/prefill-capacity
      dsim sweep sweeps/prefill-capacity.yaml --out reports/pc --workers 2 --keep-runs
      dsim sweep sweeps/prefill-capacity.yaml --out reports/pc --dask local
      dsim sweep sweeps/prefill-capacity.yaml --out reports/pc --dask tcp://scheduler:8786

    Exit 0 when every point has a row and none errored, 1 when a run errored, crashed or a point is
    invalid, 2 on bad input (nothing is run), 130 when interrupted (finished rows are kept)."""
    from model.sweep import load_sweep
    from sim.sweep.engine import run_sweep
    from sim.sweep.executors import default_workers
    from sim.sweep.plan import build_plan

    try:
        loaded = load_sweep(sweep_file)
        plan = build_plan(loaded, allow_outside=allow_outside)
    except InputError as err:
        click.echo(f"dsim sweep: {err}", err=True)
        sys.exit(2)
    if dask is not None and dask != "local" and "://" not in dask and ":" not in dask:
        click.echo(
            f"dsim sweep: --dask: {dask!r} is not a scheduler address (allowed: tcp://HOST:PORT or local)",
            err=True,
        )
        sys.exit(2)
    if dask is not None and workers == 0:
        click.echo(
            "dsim sweep: --workers 0 runs in this process; it cannot be combined with --dask", err=True
        )
        sys.exit(2)
    target = out if out is not None else Path("reports") / "sweeps" / loaded.sweep.name
    if dry_run:
        _print_plan(plan, target)
        sys.exit(0)
    n_workers = default_workers() if workers is None else workers
    progress = _progress(loaded.sweep.name, quiet)
    try:
        outcome = run_sweep(
            plan,
            target,
            workers=n_workers,
            dask=dask,
            keep_runs=keep_runs,
            limit=limit,
            progress=progress,
            report=not no_report,
        )
    except KeyboardInterrupt:  # during planning or table writing: rows already written are kept
        click.echo(f"dsim sweep: interrupted; finished runs are kept in {target}/rows", err=True)
        sys.exit(130)
    if not quiet:
        _print_summary(plan, outcome)
    if outcome.interrupted:
        click.echo(
            f"dsim sweep: interrupted; {outcome.left} run(s) left, rerun the same command to finish", err=True
        )
        sys.exit(130)
    bad = sum(outcome.counts.get(s, 0) for s in ("error", "crashed", "invalid"))
    sys.exit(1 if bad else 0)


def _print_plan(plan: object, target: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from sim.sweep.engine import ROWS
    from sim.sweep.plan import Plan

    assert isinstance(plan, Plan)
    table = Table(show_edge=False, pad_edge=False)
    for col in ("point", *plan.params, "seed", "profile", "key / problem"):
        table.add_column(col)
    done = 0
    for run in plan.runs:
        p = run.point
        state = run.invalid or str(run.key)
        if run.key is not None and (target / ROWS / f"{run.key}.json").is_file():
            state += "  (done)"
            done += 1
        table.add_row(str(p.index), *[str(p.params[c]) for c in plan.params], str(p.seed), p.profile, state)
    con = Console()
    con.print(table)
    invalid = sum(1 for r in plan.runs if r.key is None)
    con.print(
        f"{len(plan.runs)} point(s), {invalid} invalid, {done} already done in {target}"
        + (f"; {plan.dropped_by_constraints} dropped by constraints" if plan.dropped_by_constraints else "")
    )


def _progress(title: str, quiet: bool) -> Progress:
    from sim.sweep.progress import QuietProgress, RichProgress

    if quiet or not sys.stderr.isatty():
        return QuietProgress()
    return RichProgress(title)


def _print_summary(plan: object, outcome: object) -> None:
    from rich.console import Console
    from rich.markup import escape

    from sim.sweep.engine import SweepOutcome
    from sim.sweep.plan import Plan
    from sim.sweep.report import best_rows, describe_row, objective_columns

    assert isinstance(plan, Plan) and isinstance(outcome, SweepOutcome)
    con = Console()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items()))
    con.print(
        f"[bold]{plan.loaded.sweep.name}[/]: {len(plan.runs)} point(s)"
        + (f" ({plan.dropped_by_constraints} dropped by constraints)" if plan.dropped_by_constraints else "")
        + f"; ran {outcome.ran}, already done {outcome.skipped}"
        + (f", {outcome.left} left" if outcome.left else "")
        + f"   rows: {counts or 'none'}"
    )
    cost, quality, _ = objective_columns(plan, outcome.rows)
    best = best_rows(plan, outcome.rows, n=1)
    if plan.loaded.sweep.slo:
        meeting = sum(1 for r in outcome.rows if r.get("meets_slo") is True)
        con.print(f"{meeting} of {len(outcome.rows)} row(s) meet the SLO")
    if best:
        con.print("best: " + escape(describe_row(plan, best[0], cost, quality)), soft_wrap=True)
    elif plan.loaded.sweep.slo:
        con.print("[yellow]no configuration meets the SLO[/]")
    con.print(f"results: {outcome.out / 'results.parquet'}   report: {outcome.out / 'report.html'}")
