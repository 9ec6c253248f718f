"""The `Finding` record and its ordering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.slo import SEVERITY_RANK, FindingKind, Severity


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    severity: Severity
    role: str | None
    """None for a finding about the whole pipeline (e.g. an end-to-end SLO breach)."""
    start_s: float
    end_s: float
    message: str
    """One line a person reads first."""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "role": self.role,
            "start_s": round(self.start_s, 6),
            "end_s": round(self.end_s, 6),
            "message": self.message,
            "evidence": dict(self.evidence),
            "hint": self.hint,
        }


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Most severe first, then by start time, kind and role (deterministic)."""
    return sorted(
        findings,
        key=lambda f: (-SEVERITY_RANK[f.severity.value], f.start_s, f.kind.value, f.role or ""),
    )


def at_least(findings: Sequence[Mapping[str, Any]], severity: str) -> list[Mapping[str, Any]]:
    """Findings (as summary.json dicts) of at least `severity`."""
    floor = SEVERITY_RANK[severity]
    return [f for f in findings if SEVERITY_RANK.get(str(f.get("severity")), 0) >= floor]
