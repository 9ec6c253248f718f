"""Re-render a run folder's plots and report.html from its files (`dsim report DIR`, and the last
step of `dsim run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.errors import InputError
from sim.report.events import of_type, read_events
from sim.report.html import render_html
from sim.report.plots import plot_prediction, render_run_plots
from sim.report.summary import read_summary
from sim.report.timeseries import read_timeseries

RESOLVED_SCENARIO = "scenario.resolved.yaml"


def check_run_folder(folder: Path) -> None:
    """A clear message when `folder` is not a finished run."""
    if not folder.is_dir():
        raise InputError("not a folder", file=str(folder), allowed="a run folder written by `dsim run`")
    if not (folder / "summary.json").exists():
        raise InputError(
            "no summary.json here: not a run folder",
            file=str(folder),
            allowed="a folder written by `dsim run` (it holds summary.json, events.jsonl, timeseries.csv)",
        )


def scale_events(folder: Path) -> list[dict[str, Any]]:
    return of_type(read_events(folder / "events.jsonl"), "scale")


def render_folder(folder: Path, summary: dict[str, Any] | None = None) -> Path:
    """Plots and report.html for the run in `folder`; returns the report path."""
    check_run_folder(folder)
    summary = summary if summary is not None else read_summary(folder / "summary.json")
    ts = read_timeseries(folder / "timeseries.csv")
    roles = summary.get("role_order") or None
    events = read_events(folder / "events.jsonl")
    render_run_plots(
        folder,
        ts,
        of_type(events, "scale"),
        roles=roles,
        name=str(summary.get("scenario", "")),
        faults=of_type(events, "fault"),
        summary=summary,
    )
    stale = folder / "prediction.png"
    if stale.exists():
        stale.unlink()
    plot_prediction(
        events, folder / "prediction.png", title=f"{summary.get('scenario', '')}: prediction and confidence"
    )
    resolved = folder / RESOLVED_SCENARIO
    text = resolved.read_text(encoding="utf-8") if resolved.exists() else ""
    return render_html(folder, summary, scenario_yaml=text, events=events)
