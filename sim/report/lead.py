"""Scale-up timing and GPU cost of two runs, for `dsim diff` (e.g. prediction on against off).

- Scale-up lead per role: every upward crossing of a replica level k (from the `scale` events,
  exact times) is paired with the same occurrence of the same level in the other run (the i-th time
  the role went to >= k in A with the i-th in B); lead = t_A - t_B, so a positive lead means run B
  reached the level earlier. Reported as the median over the pairs, with the number of pairs.
- GPU-hours per role: pod-seconds (Ready + starting, as `sim.report.analysis.pod_seconds` counts
  them) x GPUs per pod (pod template, else the service model's default).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.report.events import of_type, read_events
from sim.report.timeseries import read_timeseries


def level_crossings(scale_events: Sequence[Mapping[str, Any]]) -> dict[str, dict[int, list[float]]]:
    """role -> level k -> the times its replicas went from below k to >= k."""
    out: dict[str, dict[int, list[float]]] = {}
    for e in scale_events:
        role = str(e.get("role", ""))
        a, b = int(e.get("from") or 0), int(e.get("to") or 0)
        for k in range(a + 1, b + 1):
            out.setdefault(role, {}).setdefault(k, []).append(float(e.get("t", 0.0)))
    return out


def scale_up_leads(
    events_a: Sequence[Mapping[str, Any]], events_b: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[float | None, int]]:
    """role -> (median lead in seconds, positive = B earlier; number of paired crossings)."""
    ca, cb = level_crossings(events_a), level_crossings(events_b)
    out: dict[str, tuple[float | None, int]] = {}
    for role in sorted(set(ca) | set(cb)):
        leads: list[float] = []
        la, lb = ca.get(role, {}), cb.get(role, {})
        for k in sorted(set(la) & set(lb)):
            leads += [ta - tb for ta, tb in zip(la[k], lb[k], strict=False)]
        out[role] = (statistics.median(leads) if leads else None, len(leads))
    return out


def daily_first_reach(
    scale_events: Sequence[Mapping[str, Any]], role: str, level: int, *, from_hour: float, to_hour: float
) -> dict[int, float]:
    """day -> the first time (seconds since the run's start) in [from_hour, to_hour) of that day at
    which `role` scaled to >= `level` from below it (days of 86,400 s from t = 0)."""
    out: dict[int, float] = {}
    for e in scale_events:
        if str(e.get("role", "")) != role:
            continue
        t = float(e.get("t", 0.0))
        day, hour = int(t // 86400), (t % 86400) / 3600.0
        if from_hour <= hour < to_hour and int(e.get("to") or 0) >= level > int(e.get("from") or 0):
            out.setdefault(day, t)
    return out


def gpu_hours(folder: Path) -> dict[str, float]:
    """role -> GPU-hours of one run folder (needs manifests.resolved.yaml and scenario.resolved.yaml)."""
    from sim.report.analysis import DS_KIND, pod_seconds, role_cost_models

    manifests = folder / "manifests.resolved.yaml"
    scenario = folder / "scenario.resolved.yaml"
    if not manifests.exists():
        return {}
    docs = [d for d in yaml.safe_load_all(manifests.read_text(encoding="utf-8")) if isinstance(d, dict)]
    services: dict[str, Any] = {}
    if scenario.exists():
        sc = yaml.safe_load(scenario.read_text(encoding="utf-8")) or {}
        services = dict(sc.get("services") or {})
    ts = read_timeseries(folder / "timeseries.csv")
    out: dict[str, float] = {}
    for ds in (d for d in docs if d.get("kind") == DS_KIND):
        try:
            models = role_cost_models(ds, services)
        except Exception:  # a run whose services no longer parse: no cost row rather than no diff
            continue
        for role, model in models.items():
            if model.gpus_per_pod > 0:
                out[role] = out.get(role, 0.0) + pod_seconds(ts, role) / 3600.0 * model.gpus_per_pod
    return dict(sorted(out.items()))


def lead_and_cost(run_a: Path, run_b: Path) -> list[tuple[str, str, object, object]]:
    """(section, label, value A, value B) rows for the diff table."""
    rows: list[tuple[str, str, object, object]] = []
    ev_a = of_type(read_events(run_a / "events.jsonl"), "scale")
    ev_b = of_type(read_events(run_b / "events.jsonl"), "scale")
    for role, (lead, pairs) in scale_up_leads(ev_a, ev_b).items():
        rows.append(
            (
                "scale-up timing",
                f"{role}: median lead of B (s, + = earlier)",
                0.0 if lead is not None else None,
                lead,
            )
        )
        rows.append(("scale-up timing", f"{role}: paired level crossings", pairs, pairs))
    ga, gb = gpu_hours(run_a), gpu_hours(run_b)
    for role in sorted(set(ga) | set(gb)):
        rows.append(("cost", f"{role}: GPU-hours", ga.get(role), gb.get(role)))
    if ga or gb:
        rows.append(("cost", "total GPU-hours", sum(ga.values()), sum(gb.values())))
    return rows
