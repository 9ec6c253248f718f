"""Expectations: assertions over a finished (or crashed) run's facts. Pure: facts in, verdicts out.

Each verdict is `{name, passed, detail}`; the detail always states what was observed, so a failing
run explains itself in the terminal, summary.json and report.html."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.scenario import (
    Completed,
    Dropped,
    InvariantHolds,
    Latency,
    NoConflictDetected,
    NoFindings,
    ReplicaBounds,
    RoleReady,
    ScalerCondition,
    ScalingActions,
    SloMet,
    expectation_name,
)
from sim.report.timeseries import TimeSeries


@dataclass
class RunFacts:
    """What the runner observed; the only input of the expectation checks."""

    sim_seconds: float
    ts: TimeSeries
    first_ready: Mapping[str, float | None]
    scale_events: Sequence[Mapping[str, Any]]
    conflicts: Mapping[str, float]
    """BudAIScaler name -> first simulated second it reported ConflictDetected."""
    latencies: Mapping[str, Sequence[float]]
    """Role -> seconds each completed request spent at the role; key `_e2e` end to end; `_ttft`, `_tpot`."""
    requests: Mapping[str, int] = field(default_factory=dict)
    autoscalers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """`Kind/namespace/name` -> final target, replicas and conditions (World.autoscaler_summary)."""
    violations: Callable[[str], Sequence[Any]] | None = None
    """Invariant name -> its violations (sim/invariants.py); None when the run did not observe them."""
    slo: Mapping[str, Any] | None = None
    """summary.json's `slo` block (sim/report/slo.py); None when the scenario sets no SLO."""
    findings: Sequence[Mapping[str, Any]] = ()
    """summary.json's `findings` (sim/findings/)."""


Verdict = dict[str, Any]


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


def check_replicas(exp: ReplicaBounds, facts: RunFacts) -> tuple[bool, str]:
    end = facts.sim_seconds if exp.to is None else exp.to
    times, values = facts.ts.series(exp.role, exp.series)
    window = [(t, v) for t, v in zip(times, values) if exp.from_ <= t <= end and v is not None]
    if not window:
        return (
            False,
            f"no samples of {exp.role} in [{exp.from_:g}s, {end:g}s] (the run ended at {facts.sim_seconds:g}s)",
        )
    lo = min(v for _, v in window)
    hi = max(v for _, v in window)
    for t, v in window:
        if (exp.min is not None and v < exp.min) or (exp.max is not None and v > exp.max):
            return False, f"{exp.series} replicas were {v:g} at {t:g}s (range in window {lo:g}–{hi:g})"
    return True, f"{exp.series} replicas stayed within {lo:g}–{hi:g} in [{exp.from_:g}s, {end:g}s]"


def check_role_ready(exp: RoleReady, facts: RunFacts) -> tuple[bool, str]:
    first = facts.first_ready.get(exp.role)
    if exp.never:
        if first is None:
            return True, f"{exp.role} never Ready in {facts.sim_seconds:g}s"
        return False, f"{exp.role} became Ready at {first:g}s"
    assert exp.by is not None
    if first is None:
        return False, f"{exp.role} never became Ready (run length {facts.sim_seconds:g}s)"
    return first <= exp.by, f"{exp.role} Ready at {first:g}s"


def check_latency(exp: Latency, facts: RunFacts) -> tuple[bool, str]:
    key = {"e2e": exp.role or "_e2e", "ttft": "_ttft", "tpot": "_tpot"}[exp.metric]
    values = facts.latencies.get(key, ())
    if len(values) == 0:
        return False, f"no completed requests to measure {exp.metric} at {exp.role or 'end to end'}"
    p = float(np.percentile(np.asarray(values, dtype=float), exp.percentile))
    return p <= exp.max_seconds, f"p{exp.percentile:g} = {p:.4g}s over {len(values)} requests"


def check_dropped(exp: Dropped, facts: RunFacts) -> tuple[bool, str]:
    dropped = int(facts.requests.get("dropped", 0))
    arrived = int(facts.requests.get("arrived", 0))
    frac = dropped / arrived if arrived else 0.0
    ok = True
    if exp.max is not None and dropped > exp.max:
        ok = False
    if exp.min is not None and dropped < exp.min:
        ok = False
    if exp.max_fraction is not None and frac > exp.max_fraction:
        ok = False
    return ok, f"{dropped} of {arrived} requests dropped ({frac:.2%})"


def check_conflicts(exp: NoConflictDetected, facts: RunFacts) -> tuple[bool, str]:
    hits = {n: t for n, t in facts.conflicts.items() if exp.scaler is None or n == exp.scaler}
    listed = ", ".join(f"{n} at {t:g}s" for n, t in sorted(hits.items())) or "none"
    if exp.expect:
        return bool(hits), f"ConflictDetected reported by: {listed}"
    return not hits, f"ConflictDetected reported by: {listed}"


def check_scaling(exp: ScalingActions, facts: RunFacts) -> tuple[bool, str]:
    n_up = sum(1 for e in facts.scale_events if e.get("role") == exp.role and e["to"] > e["from"])
    n_down = sum(1 for e in facts.scale_events if e.get("role") == exp.role and e["to"] < e["from"])
    n = {"up": n_up, "down": n_down, "any": n_up + n_down}[exp.direction]
    ok = (exp.min is None or n >= exp.min) and (exp.max is None or n <= exp.max)
    return ok, f"{n_up} scale-ups, {n_down} scale-downs of {exp.role}"


def check_condition(exp: ScalerCondition, facts: RunFacts) -> tuple[bool, str]:
    found = [
        a
        for key, a in facts.autoscalers.items()
        if key.startswith(f"{exp.kind}/") and key.endswith(f"/{exp.scaler}")
    ]
    if not found:
        return False, f"no {exp.kind} named {exp.scaler!r}"
    conds = {str(c.get("type")): c for c in found[0].get("conditions", [])}
    cond = conds.get(exp.condition_type)
    if cond is None:
        return False, f"no {exp.condition_type} condition (has: {', '.join(sorted(conds)) or 'none'})"
    ok = cond.get("status") == exp.status and (exp.reason is None or cond.get("reason") == exp.reason)
    return ok, f"{exp.condition_type}={cond.get('status')} {cond.get('reason')}: {cond.get('message')}"


def check_completed(exp: Completed, facts: RunFacts) -> tuple[bool, str]:
    done = int(facts.requests.get("completed", 0))
    return done >= exp.min, f"{done} requests completed"


def check_invariant(exp: InvariantHolds, facts: RunFacts) -> tuple[bool, str]:
    if facts.violations is None:
        return False, "the run did not record what invariants need"
    found = list(facts.violations(exp.invariant))
    if not found:
        return True, f"{exp.invariant}: no violation"
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return False, f"{exp.invariant} violated at {first.time:g}s: {first.detail}{more}"


def check_slo(exp: SloMet, facts: RunFacts) -> tuple[bool, str]:
    slo = facts.slo
    if slo is None:
        return False, "the scenario sets no slo: add an `slo:` block (docs/slo.md)"
    if exp.role is not None:
        roles = slo.get("roles") or {}
        if exp.role not in roles:
            return False, f"no role {exp.role!r} (roles: {', '.join(roles) or 'none'})"
        attainment = roles[exp.role]
        scope = f"role {exp.role}"
    elif exp.klass is not None:
        classes = slo.get("classes") or {}
        if exp.klass not in classes:
            return False, f"no requests of class {exp.klass!r} (classes: {', '.join(classes) or 'none'})"
        attainment = classes[exp.klass]
        scope = f"class {exp.klass}"
    else:
        attainment = slo.get("attainment")
        scope = "overall"
    goodput = float(slo.get("goodput_rps") or 0.0)
    ok = True
    if exp.min_attainment is not None:
        ok = ok and attainment is not None and attainment >= exp.min_attainment
    if exp.min_goodput is not None:
        ok = ok and goodput >= exp.min_goodput
    if exp.min_attainment is None and exp.min_goodput is None:
        ok = (
            bool(slo.get("met"))
            if scope == "overall"
            else (attainment or 0.0) >= float(slo.get("target") or 0.99)
        )
    missed = [
        k
        for k, v in (slo.get("thresholds") or {}).items()
        if isinstance(v, Mapping) and v.get("met") is False
    ]
    detail = f"attainment {scope} {_pct(attainment)}, goodput {goodput:.3g} req/s" + (
        f"; thresholds missed: {', '.join(missed)}" if missed else ""
    )
    return ok, detail


def _pct(x: object) -> str:
    return "–" if x is None else f"{float(x):.2%}"  # type: ignore[arg-type]


def check_no_findings(exp: NoFindings, facts: RunFacts) -> tuple[bool, str]:
    from sim.findings.types import at_least

    found = [
        f
        for f in at_least(facts.findings, exp.min_severity.value)
        if exp.kinds is None or f.get("kind") in exp.kinds
    ]
    if not found:
        return True, f"no findings of severity >= {exp.min_severity.value}"
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return False, f"{first.get('severity')} {first.get('kind')}: {first.get('message')}{more}"


def evaluate(expectations: Sequence[Any], facts: RunFacts, profile: str | None = None) -> list[Verdict]:
    """Every applicable expectation's verdict, in the scenario's order (expectations limited to
    other profiles are left out)."""
    out: list[Verdict] = []
    for exp in expectations:
        if profile is not None and exp.profiles is not None and profile not in exp.profiles:
            continue
        if isinstance(exp, ReplicaBounds):
            ok, detail = check_replicas(exp, facts)
        elif isinstance(exp, RoleReady):
            ok, detail = check_role_ready(exp, facts)
        elif isinstance(exp, Latency):
            ok, detail = check_latency(exp, facts)
        elif isinstance(exp, Dropped):
            ok, detail = check_dropped(exp, facts)
        elif isinstance(exp, NoConflictDetected):
            ok, detail = check_conflicts(exp, facts)
        elif isinstance(exp, ScalingActions):
            ok, detail = check_scaling(exp, facts)
        elif isinstance(exp, Completed):
            ok, detail = check_completed(exp, facts)
        elif isinstance(exp, ScalerCondition):
            ok, detail = check_condition(exp, facts)
        elif isinstance(exp, InvariantHolds):
            ok, detail = check_invariant(exp, facts)
        elif isinstance(exp, SloMet):
            ok, detail = check_slo(exp, facts)
        elif isinstance(exp, NoFindings):
            ok, detail = check_no_findings(exp, facts)
        else:  # pragma: no cover - the schema admits only the types above
            raise TypeError(f"unknown expectation {type(exp).__name__}")
        out.append({"name": expectation_name(exp), "passed": bool(ok), "detail": detail})
    return out
