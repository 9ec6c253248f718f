"""`dsim report DIR`: re-render the plots and report.html of a finished run."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.errors import InputError


@click.command(name="report")
@click.argument("folder", type=click.Path(path_type=Path))
def report(folder: Path) -> None:
    """Re-render FOLDER's PNG plots and report.html from its summary.json, timeseries.csv and
    events.jsonl (no re-simulation)."""
    from sim.report.render import render_folder

    try:
        path = render_folder(folder)
    except InputError as err:
        click.echo(f"dsim report: {err}", err=True)
        sys.exit(2)
    click.echo(f"wrote {path}")
