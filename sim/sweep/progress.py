"""The sweep's progress bar (rich, on stderr): runs done of runs to do, elapsed time and ETA, and
how many rows so far are not `ok`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.sweep.engine import Progress


class RichProgress(Progress):
    def __init__(self, title: str) -> None:
        from rich.console import Console

        self.title = title
        self.console = Console(stderr=True)
        self._bar: Any = None
        self._task: Any = None
        self._bad = 0

    def start(self, total: int, done: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[bad]}"),
            console=self.console,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.title, total=total, completed=done, bad="")

    def advance(self, row: Mapping[str, Any]) -> None:
        if row.get("status") not in ("ok", "failed"):
            self._bad += 1
        if self._bar is not None:
            bad = f"[red]{self._bad} error(s)[/]" if self._bad else ""
            self._bar.update(self._task, advance=1, bad=bad)

    def message(self, text: str) -> None:
        self.console.print(f"[yellow]{text}[/]")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class QuietProgress(Progress):
    """No bar; messages (interruptions) still go to stderr."""

    def message(self, text: str) -> None:
        import click

        click.echo(f"dsim sweep: {text}", err=True)
