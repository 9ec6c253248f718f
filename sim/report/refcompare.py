"""BudAIScaler against the reference autoscalers (Knative KPA, AIBrix KPA/APA) on one role.

`simulate_with_latencies` runs a scenario in memory like `analysis.simulate`, and also keeps what
the comparison needs beyond it: the per-request TTFTs (for SLO attainment), the scalers' final
state and the quirks their decisions reported. `reference_rows` makes the side-by-side table:
TTFT and end-to-end percentiles, TTFT attainment, drops, GPU-hours of the role and in total (pod
seconds x GPUs per pod) against the lower bound, scale events, and — when the run's summary has
them (the `slo`, `cost` and `findings` keys of later summary.json files) — SLO attainment, cost and
the findings count, read defensively.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.report.analysis import (
    RoleBound,
    RoleCostModel,
    RunData,
    _run_data,
    scenario_cost_models,
    simulate_world,
)

if TYPE_CHECKING:
    from sim.scenario.load import ResolvedScenario

TTFT_SLO_S = 2.0
"""Default TTFT objective of the comparison: the first token within 2 s."""


@dataclass(frozen=True)
class RefRun:
    """A run plus what the comparison reads beyond RunData."""

    data: RunData
    ttft: tuple[float, ...] = ()
    scaler: str = ""
    quirks: Mapping[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.data.label


def scaler_of(autoscalers: Mapping[str, Any], role: str) -> str:
    """`Knative KPA`, `AIBrix APA`, `BudAIScaler KPA`, ...: what drives `role`."""
    for key, entry in sorted(autoscalers.items()):
        target = str(entry.get("target", ""))
        if not target.endswith(f"/{role}"):
            continue
        strategy = str(entry.get("strategy") or "")
        if key.startswith("BudAIScaler/"):
            return f"BudAIScaler {strategy}"
        return strategy or str(entry.get("kind", key))
    return "(none)"


def simulate_with_latencies(
    resolved: ResolvedScenario,
    *,
    label: str,
    role: str,
    models: Mapping[str, RoleCostModel] | None = None,
) -> RefRun:
    world, summary, events = simulate_world(resolved)
    summary["autoscalers"] = world.autoscaler_summary()
    summary["quirks_triggered"] = world.quirks_triggered()
    costs = models if models is not None else scenario_cost_models(resolved)
    data = _run_data(label, Path(), summary, world.timeseries(), events, costs)
    quirks: Counter[str] = Counter()
    for ev in events:
        if not str(ev.get("target", "")).endswith(f"/{role}"):
            continue  # only the decisions of the role's scaler
        for q in ev.get("quirksTriggered") or ():
            quirks[str(q)] += 1
    return RefRun(
        data, tuple(world.latencies["_ttft"]), scaler_of(summary["autoscalers"], role), dict(quirks)
    )


def attainment(values: Sequence[float], threshold: float) -> float | None:
    """Share of requests at or under `threshold` (None without requests)."""
    if not values:
        return None
    return sum(1 for v in values if v <= threshold) / len(values)


def _summary_slo(summary: Mapping[str, Any]) -> float | None:
    """SLO attainment from a summary's `slo` key, when there is one (structure read defensively)."""
    slo = summary.get("slo")
    if not isinstance(slo, Mapping):
        return None
    for key in ("attainment", "met_fraction", "fraction"):
        value = slo.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def _summary_cost(summary: Mapping[str, Any]) -> float | None:
    cost = summary.get("cost")
    if not isinstance(cost, Mapping):
        return None
    for key in ("total", "total_cost", "total_gpu_hours"):
        value = cost.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def _findings(summary: Mapping[str, Any]) -> int | None:
    found = summary.get("findings")
    if isinstance(found, list | Mapping):
        return len(found)
    return None


def reference_rows(
    runs: Sequence[RefRun],
    *,
    role: str,
    bounds: Mapping[str, RoleBound] | None = None,
    ttft_slo: float = TTFT_SLO_S,
) -> list[dict[str, Any]]:
    """One row per run: the three-way (or four-way) table, then the lower bound."""
    total_bound = sum(b.gpu_hours for b in (bounds or {}).values())
    rows: list[dict[str, Any]] = []
    for run in runs:
        s = run.data.summary
        lat = s.get("latency") or {}
        ttft = lat.get("ttft") or {}
        e2e = lat.get("e2e") or {}
        req = run.data.requests
        rr = run.data.roles.get(role)
        total = sum(x.gpu_hours for x in run.data.roles.values())
        row: dict[str, Any] = {
            "run": run.label,
            f"{role} scaler": run.scaler,
            "TTFT p50 (s)": ttft.get("p50"),
            "TTFT p90 (s)": ttft.get("p90"),
            "TTFT p99 (s)": ttft.get("p99"),
            f"TTFT <= {ttft_slo:g} s": attainment(run.ttft, ttft_slo),
            "e2e p50 (s)": e2e.get("p50"),
            "e2e p99 (s)": e2e.get("p99"),
            "completed": req.get("completed"),
            "dropped": req.get("dropped"),
            "in flight at end": req.get("in_flight"),
            f"{role} GPU-hours": None if rr is None else rr.gpu_hours,
            "GPU-hours": total,
            "x bound": (total / total_bound) if total_bound > 0 else None,
            f"{role} ups/downs": None if rr is None else f"{rr.scale_ups}/{rr.scale_downs}",
            f"{role} max ready": None if rr is None else rr.replicas_max,
            "quirks in decisions": ", ".join(f"{k} x{v}" for k, v in sorted(run.quirks.items())) or "-",
        }
        for name, value in (
            ("SLO attainment", _summary_slo(s)),
            ("cost", _summary_cost(s)),
            ("findings", _findings(s)),
        ):
            if value is not None:
                row[name] = value
        rows.append(row)
    if bounds:
        rows.append(
            {
                "run": "lower bound",
                f"{role} GPU-hours": bounds[role].gpu_hours if role in bounds else None,
                "GPU-hours": total_bound,
                "x bound": 1.0,
            }
        )
    return rows


def findings_text(runs: Sequence[RefRun], *, role: str, ttft_slo: float = TTFT_SLO_S) -> list[str]:
    """One line per run: cost, TTFT attainment and what the scaler did, for the notebook and the docs."""
    lines = []
    for run in runs:
        rr = run.data.roles.get(role)
        total = sum(x.gpu_hours for x in run.data.roles.values())
        att = attainment(run.ttft, ttft_slo)
        att_text = "n/a" if att is None else f"{att:.1%}"
        moves = (
            ""
            if rr is None
            else f"{rr.scale_ups} scale-ups and {rr.scale_downs} scale-downs of {role}, max {rr.replicas_max} ready"
        )
        quirk = f"; quirks in its decisions: {', '.join(sorted(run.quirks))}" if run.quirks else ""
        lines.append(
            f"* **{run.label}** ({run.scaler}): {total:.2f} GPU-hours, TTFT <= {ttft_slo:g} s for {att_text} "
            f"of requests, {moves}{quirk}."
        )
    return lines
