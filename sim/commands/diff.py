"""`dsim diff RUN_A RUN_B`: two finished runs side by side, in the terminal and as HTML."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.errors import InputError


@click.command(name="diff")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for diff.html and its figures (default reports/diff-<A>-vs-<B>/).",
)
@click.option("--only-diff", is_flag=True, help="Show only the facts that differ in the terminal table.")
def diff(run_a: Path, run_b: Path, out: Path | None, only_diff: bool) -> None:
    """Compare RUN_A and RUN_B (folders written by `dsim run`), e.g. the same scenario under the
    upstream and corrected profiles. Exit 0 whether or not they differ; 2 on bad input."""
    from sim.report.diff import diff_runs

    target = out if out is not None else Path("reports") / f"diff-{run_a.name}-vs-{run_b.name}"
    try:
        path = diff_runs(run_a, run_b, target, only_diff=only_diff)
    except InputError as err:
        click.echo(f"dsim diff: {err}", err=True)
        sys.exit(2)
    click.echo(f"wrote {path}")
