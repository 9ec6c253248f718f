"""Plain-text lines for a run's answers (findings, SLO, cost): the terminal summary of `dsim run`,
its `--quiet` failure report and `dsim diff` use them, so the wording is the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.findings.types import at_least

SEVERITY_MARK = {"error": "ERROR", "warning": "warning", "info": "info"}


def finding_line(f: Mapping[str, Any]) -> str:
    role = f" [{f.get('role')}]" if f.get("role") else ""
    return (
        f"{SEVERITY_MARK.get(str(f.get('severity')), f.get('severity'))} {f.get('kind')}{role} "
        f"{float(f.get('start_s') or 0):.0f}-{float(f.get('end_s') or 0):.0f} s: {f.get('message')}"
    )


def findings_lines(
    findings: Sequence[Mapping[str, Any]], *, min_severity: str = "info", limit: int = 8
) -> list[str]:
    picked = at_least(findings, min_severity)
    lines = [finding_line(f) for f in picked[:limit]]
    if len(picked) > limit:
        lines.append(f"... and {len(picked) - limit} more (summary.json `findings`)")
    return lines


def _pct(x: object) -> str:
    return "–" if x is None else f"{float(x):.1%}"  # type: ignore[arg-type]


def slo_line(slo: Mapping[str, Any] | None) -> str | None:
    if not slo:
        return None
    roles = slo.get("roles") or {}
    per_role = ", ".join(f"{r} {_pct(a)}" for r, a in roles.items())
    verdict = "met" if slo.get("met") else "NOT met"
    return (
        f"SLO {verdict}: attainment {_pct(slo.get('attainment'))}, goodput {float(slo.get('goodput_rps') or 0):.3g} req/s"
        + (f" (per role: {per_role})" if per_role else "")
    )


def cost_line(cost: Mapping[str, Any] | None) -> str | None:
    if not cost:
        return None
    used = float(cost.get("total_gpu_hours") or 0.0)
    idle = sum(float(v or 0.0) for v in (cost.get("idle_gpu_hours") or {}).values())
    parts = [f"cost: {used:.3g} GPU-hours (idle {idle:.3g})"]
    lb = cost.get("lower_bound_gpu_hours")
    if lb is not None:
        parts.append(f"lower bound {float(lb):.3g}")
    eff = cost.get("efficiency")
    if eff is not None:
        parts.append(f"efficiency {float(eff):.0%}")
    if cost.get("amount") is not None:
        parts.append(f"{float(cost['amount']):,.2f} {cost.get('currency', '')}".rstrip())
    return ", ".join(parts)


def verdict_text(summary: Mapping[str, Any]) -> str:
    """The one-line verdict: expectations and error findings side by side (a run that holds its
    expectations but has error findings never reads as a plain success)."""
    if summary.get("error"):
        return "run stopped with an error"
    failed = [e for e in summary.get("expectations", []) if not e.get("passed")]
    errors = at_least(summary.get("findings") or [], "error")
    head = f"{len(failed)} expectation(s) failed" if failed else "all expectations hold"
    if errors:
        head += f", {len(errors)} error finding(s)"
    return head


def failure_report(summary: Mapping[str, Any]) -> list[str]:
    """What `dsim run --quiet` prints on failure: each failed expectation, the error findings."""
    lines = [f"dsim run: {summary.get('scenario')}: {verdict_text(summary)}"]
    for e in summary.get("expectations", []):
        if not e.get("passed"):
            lines.append(f"  FAILED {e.get('name')}: {e.get('detail')}")
    for line in findings_lines(summary.get("findings") or [], min_severity="error"):
        lines.append(f"  {line}")
    return lines
