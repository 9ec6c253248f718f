"""Run a resolved scenario and write its artefacts atomically.

Everything goes into a temporary folder next to the target and is renamed into place at the end,
so the target either holds a complete run folder or is untouched. A run that crashes mid-way still
writes its artefacts (the part that ran, the error, the resolved scenario) and exits non-zero; a
scenario that fails validation never gets here and writes nothing."""

from __future__ import annotations

import os
import shutil
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.report.render import RESOLVED_SCENARIO, render_folder
from sim.report.summary import compute_digest, write_summary
from sim.report.wallclock import wall_seconds
from sim.scenario.expectations import evaluate
from sim.scenario.load import ResolvedScenario
from sim.scenario.world import World

ProgressFn = Callable[[float, Mapping[str, tuple[int, int]]], None]
"""progress(simulated seconds, {role: (ready, spec)})."""


@dataclass(frozen=True)
class RunResult:
    out: Path
    summary: dict[str, Any]
    error: str | None

    @property
    def failed_expectations(self) -> list[dict[str, Any]]:
        return [e for e in self.summary.get("expectations", []) if not e.get("passed")]

    @property
    def exit_code(self) -> int:
        """0 every expectation holds; 1 one fails or the run crashed."""
        return 1 if self.error or self.failed_expectations else 0


def _temp_folder(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Replace `out` with `tmp` (both in the same folder, so the renames are atomic)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def run_scenario(
    resolved: ResolvedScenario,
    out: Path,
    *,
    progress: ProgressFn | None = None,
    render: bool = True,
    on_stage: Callable[[str], None] | None = None,
) -> RunResult:
    """Simulate, evaluate expectations, write every artefact into `out`; never raises for a crash
    inside the simulation (the error is reported in the result and the artefacts). `render=False`
    skips the PNGs and report.html (`dsim report` can draw them later); `on_stage(text)` hears
    when the simulation is over and the artefacts are being written."""
    started = wall_seconds()
    tmp = _temp_folder(out)
    try:
        (tmp / RESOLVED_SCENARIO).write_text(resolved.scenario_yaml(), encoding="utf-8")
        (tmp / "manifests.resolved.yaml").write_text(resolved.manifests_yaml(), encoding="utf-8")
        world = World(resolved)
        error: str | None = None
        try:
            world.build()
            world.run(progress=progress)
        except Exception:  # a crash in a layer: keep what ran, report it, exit 1
            error = traceback.format_exc()
        if on_stage is not None:
            on_stage("writing report")
        summary = _finish(world, resolved, tmp, error, wall_seconds() - started)
        try:
            if render:
                render_folder(tmp, summary)
        except Exception:
            render_error = traceback.format_exc()
            (tmp / "render-error.txt").write_text(render_error, encoding="utf-8")
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunResult(out, summary, error)


def _finish(
    world: World, resolved: ResolvedScenario, folder: Path, error: str | None, wall: float
) -> dict[str, Any]:
    sc = resolved.scenario
    events = world.event_log()
    ts = world.timeseries()
    events.write(folder / "events.jsonl")
    ts.write(folder)
    from sim.scenario.answers import answers

    try:
        extra = answers(world, ts, list(events))
    except Exception:  # the answers must never cost the run its artefacts
        extra = {"findings": [], "answers_error": traceback.format_exc()}
    facts = world.facts()
    facts.slo = extra.get("slo")
    facts.findings = extra.get("findings", [])
    verdicts = evaluate(sc.expectations, facts, sc.profile.value)
    if error is not None:
        (folder / "error.txt").write_text(error, encoding="utf-8")
    sim_seconds = world.now
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "description": sc.description,
        "status": "error" if error else ("failed" if any(not v["passed"] for v in verdicts) else "ok"),
        "error": error,
        "digest": compute_digest(events.to_bytes(), ts.to_csv_bytes()),
        "seed": sc.seed,
        "profile": sc.profile.value,
        "quirks": world.quirks.as_dict(),
        "sim_seconds": sim_seconds,
        "wall_seconds": wall,
        "speedup": (sim_seconds / wall) if wall > 0 else None,
        "events": len(events),
        "event_counts": events.counts(),
        "requests": dict(facts.requests),
        "latency": world.latency_summary(),
        "role_order": list(resolved.roles),
        "roles": world.role_summary(),
        "autoscalers": world.autoscaler_summary(),
        "expectations": verdicts,
        "quirks_triggered": world.quirks_triggered(),
        "notes": world.run_notes(),
    }
    summary.update(extra)
    write_summary(folder / "summary.json", summary)
    return summary
