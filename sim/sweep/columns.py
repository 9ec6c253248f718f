"""The result columns of a sweep, written once here.

Each column reads one field of a run's summary.json (a dotted path); where the summary does not
carry it (an older engine, or a field another part of the project adds later) a `fallback`
computed from the run folder fills it, or it stays null. To add a column after a summary gains a
field, add one `Column` line. Per-role columns are templates with `{role}`; findings are counted
by kind into `findings.<kind>` columns (any kind the runs report)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    source: str | None
    """Dotted path into summary.json (`{role}` substituted); None for computed-only columns."""
    unit: str = ""
    doc: str = ""
    fallback: bool = False
    """When the summary has no value, take the value the sweep computed itself (sim/sweep/row.py)."""


RUN_COLUMNS: tuple[Column, ...] = (
    Column(
        "status", None, "", "ok, failed (an expectation failed), error (the run crashed), crashed, invalid"
    ),
    Column("error", None, "", "last line of the error, or the validation message of an invalid point"),
    Column(
        "meets_slo", None, "", "every condition of the sweep's `slo` holds (null when one cannot be judged)"
    ),
    Column("digest", "digest", "", "SHA-256 of events.jsonl and timeseries.csv: equal digests = same run"),
    Column("wall_s", None, "s", "wall time of the run on its worker"),
    Column("sim_seconds", "sim_seconds", "s", "simulated time"),
    Column("expectations_failed", None, "", "expectations of the base scenario that failed"),
    Column("slo_attainment", "slo.attainment", "", "fraction of requests meeting the SLO thresholds"),
    Column("slo_met", "slo.met", "", "the scenario's own SLO target holds"),
    Column("goodput_rps", "slo.goodput_rps", "req/s", "requests per second meeting the SLO"),
    Column("gpu_hours_total", "cost.total_gpu_hours", "GPU-h", "GPU-hours of every role", fallback=True),
    Column(
        "idle_gpu_hours",
        "cost.idle_gpu_hours",
        "GPU-h",
        "GPU-hours of Ready pods serving nothing (all roles)",
    ),
    Column(
        "lower_bound_gpu_hours",
        "cost.lower_bound_gpu_hours",
        "GPU-h",
        "least GPU-hours the requests need at peak throughput",
        fallback=True,
    ),
    Column("efficiency", "cost.efficiency", "", "lower bound / GPU-hours", fallback=True),
    Column("cost_amount", "cost.amount", "", "money, when the scenario prices GPUs"),
    Column("currency", "cost.currency", "", ""),
    Column("arrived", "requests.arrived", "req", ""),
    Column("completed", "requests.completed", "req", ""),
    Column("dropped", "requests.dropped", "req", ""),
    Column("timed_out", "requests.timed_out", "req", "requests that timed out in a queue"),
    Column("retries", "requests.retries", "req", "request attempts retried"),
    Column("ttft_p50_s", "latency.ttft.p50", "s", "time to first token, median"),
    Column("ttft_p99_s", "latency.ttft.p99", "s", "time to first token, 99th percentile"),
    Column("e2e_p50_s", "latency.e2e.p50", "s", "end-to-end latency, median"),
    Column("e2e_p99_s", "latency.e2e.p99", "s", "end-to-end latency, 99th percentile"),
    Column("findings_total", None, "", "findings of every kind"),
)

ROLE_COLUMNS: tuple[Column, ...] = (
    Column("{role}.gpu_hours", "cost.gpu_hours.{role}", "GPU-h", "GPU-hours of the role", fallback=True),
    Column("{role}.idle_gpu_hours", "cost.idle_gpu_hours.{role}", "GPU-h", "idle GPU-hours of the role"),
    Column("{role}.cost_amount", "cost.amount_by_role.{role}", "", "money spent on the role"),
    Column("{role}.slo_attainment", "slo.roles.{role}", "", "the role's share of requests within its SLO"),
    Column("{role}.ttft_p50_s", "roles.{role}.ttft.p50", "s", "time to first token at the role, median"),
    Column("{role}.ttft_p99_s", "roles.{role}.ttft.p99", "s", "time to first token at the role, p99"),
    Column(
        "{role}.latency_p50_s", "roles.{role}.latency.p50", "s", "time at the role (queue + service), median"
    ),
    Column(
        "{role}.latency_p99_s", "roles.{role}.latency.p99", "s", "time at the role (queue + service), p99"
    ),
    Column("{role}.replicas_max", "roles.{role}.replicas_max", "", "most Ready replicas"),
    Column("{role}.scale_ups", "roles.{role}.scale_ups", "", ""),
    Column("{role}.scale_downs", "roles.{role}.scale_downs", "", ""),
)

FINDINGS_PREFIX = "findings."


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path of nested mappings, or None."""
    node = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def role_columns(roles: Iterable[str]) -> list[Column]:
    return [
        Column(
            c.name.format(role=r), c.source.format(role=r) if c.source else None, c.unit, c.doc, c.fallback
        )
        for r in roles
        for c in ROLE_COLUMNS
    ]


def extract(summary: Mapping[str, Any], roles: Sequence[str], computed: Mapping[str, Any]) -> dict[str, Any]:
    """Every summary-sourced column of one run (fallbacks from `computed`), plus findings by kind."""
    out: dict[str, Any] = {}
    for col in (*RUN_COLUMNS, *role_columns(roles)):
        if col.source is None:
            continue
        value = dig(summary, col.source)
        if isinstance(value, Mapping):  # {role: value}: the column is the total
            nums = [v for v in value.values() if isinstance(v, int | float) and not isinstance(v, bool)]
            value = sum(nums) if nums and len(nums) == len(value) else None
        elif isinstance(value, list):
            value = None
        if value is None and col.fallback:
            value = computed.get(col.name)
        out[col.name] = value
    findings = summary.get("findings")
    if isinstance(findings, list):
        counts: dict[str, int] = {}
        for f in findings:
            kind = str(f.get("kind")) if isinstance(f, Mapping) else "unknown"
            counts[kind] = counts.get(kind, 0) + 1
        out["findings_total"] = len(findings)
        for kind in sorted(counts):
            out[FINDINGS_PREFIX + kind] = counts[kind]
    else:
        out["findings_total"] = None
    return out


def ordered_columns(
    params: Sequence[str], roles: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> list[str]:
    """The table's column order: key, point, parameters, seed, profile, run columns, per-role
    columns, findings by kind (sorted), then anything else the rows carry (sorted)."""
    head = ["key", "point", *params, "seed", "profile"]
    base = [c.name for c in RUN_COLUMNS] + [c.name for c in role_columns(roles)]
    known = set(head) | set(base)
    extra: set[str] = set()
    for row in rows:
        extra.update(k for k in row if k not in known)
    findings = sorted(k for k in extra if k.startswith(FINDINGS_PREFIX))
    rest = sorted(k for k in extra if not k.startswith(FINDINGS_PREFIX))
    return [*head, *base, *findings, *rest]
