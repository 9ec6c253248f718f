"""`dsim conformance FILE... [--kind GLOB] [--verbose]`: upstream test vectors through the production code.

Prints a per-kind table (passed / failed / skipped) and a final line `N passed, M failed, K skipped`.
Exit 0 when nothing failed, 1 on any failure, 2 on a bad or missing file."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from sim.conformance.runner import RunReport, VectorFileError, run_files


def _table(report: RunReport) -> Table:
    table = Table(title="conformance vectors by kind", title_justify="left")
    table.add_column("kind")
    table.add_column("passed", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("skipped", justify="right")
    for kind in sorted(report.kinds):
        c = report.kinds[kind]
        table.add_row(kind, str(c.passed), str(c.failed), str(c.skipped))
    return table


@click.command(name="conformance")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--kind",
    "kind_glob",
    default=None,
    metavar="GLOB",
    help="Only vectors whose kind matches, e.g. 'bud.cost.*'.",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="List every failure with its vector id, expected and actual."
)
def conformance(files: tuple[str, ...], kind_glob: str | None, verbose: bool) -> None:
    """Run upstream test vectors (FILE...) through the production decision functions.

    Adapters: Kubernetes HPA (replica_calc.*, hpa_*), BudAIScaler (bud.*), Knative KPA (kpa.*) and
    AIBrix PodAutoscaler (aibrix.*); e.g. `dsim conformance tests/data/conformance/*.json`. Kinds no
    adapter implements are reported as skipped. Exit 1 if any vector fails."""
    try:
        report = run_files(files, kind_glob)
    except VectorFileError as exc:
        click.echo(f"dsim conformance: {exc}", err=True)
        sys.exit(2)
    console = Console(highlight=False, soft_wrap=True, markup=False)
    for module, why in sorted(report.unavailable.items()):
        console.print(f"note: {module} not available, its kinds are skipped ({why})")
    if report.kinds:
        console.print(_table(report))
    elif kind_glob is not None:
        console.print(f"no vector kind matches {kind_glob!r}")
    if report.failures:
        if verbose:
            console.print("failures:")
            for f in report.failures:
                console.print(f"  {f.vector_id} [{f.kind}] ({f.file})")
                console.print(f"    expected: {json.dumps(f.expected, sort_keys=True)}")
                console.print(f"    actual:   {f.detail}")
        else:
            ids = ", ".join(f.vector_id for f in report.failures[:20])
            more = "" if len(report.failures) <= 20 else f" and {len(report.failures) - 20} more"
            console.print(f"failed: {ids}{more} (use --verbose for details)")
    click.echo(report.summary())
    sys.exit(report.exit_code)
