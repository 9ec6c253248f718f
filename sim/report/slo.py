"""SLO attainment of a run: pure functions over per-request records (docs/slo.md).

A request *finished* when it completed, was dropped or timed out; finished = arrived - in flight.
A request that did not complete misses every threshold. With thresholds `{pNN: s}` the SLO holds
when at least NN % of the finished requests are within `s` for each metric (the NN-th percentile,
with non-completed requests counted as infinitely slow, is at most `s`); with `perRequest: true`
a request meets the SLO when every threshold holds for it, and the SLO holds when at least
`target` of the finished requests do. Attainment is always the share of finished requests that
meet every threshold; goodput is those requests per second of load.

Per-role attainment attributes thresholds to roles: TTFT to every role up to and including the
first-token role (decode when the pipeline has one, since the first token leaves the decode
engine; else the last role), TPOT to the decode role, end-to-end to every role, and a role's own
`roles:` sojourn threshold (queue + service at the role) to that role alone. A role's attainment
is the share of finished requests that meet every threshold attributed to it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.slo import SLO, Threshold

METRICS = ("ttft", "tpot", "e2e")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the SLO needs of one completed request (seconds)."""

    done: float
    ttft: float
    tpot: float | None
    """None when the request produced at most one token (no inter-token latency)."""
    e2e: float
    klass: str = ""
    at_role: Mapping[str, float] = field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        return self.ttft if metric == "ttft" else self.tpot if metric == "tpot" else self.e2e


def attribution(
    roles: Sequence[str], first_token_role: str | None, decode_role: str | None
) -> dict[str, set[str]]:
    """Role -> the metrics attributed to it (see the module docstring)."""
    order = list(roles)
    ftr = first_token_role if first_token_role in order else (order[-1] if order else None)
    cut = order.index(ftr) if ftr is not None else len(order) - 1
    out: dict[str, set[str]] = {}
    for i, role in enumerate(order):
        metrics = {"e2e"}
        if i <= cut:
            metrics.add("ttft")
        if role == decode_role:
            metrics.add("tpot")
        out[role] = metrics
    return out


def _meets(rec: RequestRecord, thresholds: Mapping[str, Threshold], metrics: set[str] | None) -> bool:
    for m, th in thresholds.items():
        if metrics is not None and m not in metrics:
            continue
        v = rec.value(m)
        if v is not None and v > th.seconds:
            return False
    return True


def _meets_role(rec: RequestRecord, role_limits: Mapping[str, float], role: str | None) -> bool:
    for r, limit in role_limits.items():
        if role is not None and r != role:
            continue
        v = rec.at_role.get(r)
        if v is not None and v > limit:
            return False
    return True


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(q / 100.0 * len(s)) - 1)]


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), digits)


def window_for(duration: float, sample_interval: float, max_windows: int = 120) -> float:
    """Attainment-over-time window: whole sample intervals, at most `max_windows` of them."""
    n = max(1, math.ceil(duration / sample_interval / max_windows))
    return n * sample_interval


def evaluate_slo(
    slo: SLO,
    records: Sequence[RequestRecord],
    *,
    failed: int,
    failures_at: Sequence[tuple[float, int]] = (),
    roles: Sequence[str],
    first_token_role: str | None,
    decode_role: str | None,
    load_seconds: float,
    duration: float,
    window: float,
) -> dict[str, Any]:
    """summary.json's `slo` block. `failed` = finished requests that did not complete (dropped or
    timed out); `failures_at` = (t, cumulative failures) samples for the attainment over time."""
    finished = len(records) + failed
    good_flags: list[bool] = []
    by_class: dict[str, list[bool]] = {}
    attrib = attribution(roles, first_token_role, decode_role)
    role_good = dict.fromkeys(roles, 0)
    for rec in records:
        limits = slo.for_class(rec.klass)
        ok = _meets(rec, limits, None) and _meets_role(rec, slo.roles, None)
        good_flags.append(ok)
        if rec.klass:
            by_class.setdefault(rec.klass, []).append(ok)
        for role in roles:
            if _meets(rec, limits, attrib[role]) and _meets_role(rec, slo.roles, role):
                role_good[role] += 1
    good = sum(good_flags)
    attainment = good / finished if finished else 1.0
    thresholds: dict[str, Any] = {}
    met = True
    for metric, th in slo.metrics().items():
        values = [v for rec in records if (v := rec.value(metric)) is not None]
        measured = len(values) + failed
        within = sum(1 for v in values if v <= th.seconds)
        share = within / measured if measured else 1.0
        observed = nearest_rank([*values, *([math.inf] * failed)], th.percentile)
        ok = share >= th.percentile / 100.0 - 1e-12 if not slo.per_request else True
        met = met and ok
        thresholds[metric] = {
            "percentile": th.percentile,
            "seconds": th.seconds,
            "observed_s": None if observed is None or math.isinf(observed) else _r(observed),
            "share_within": _r(share),
            "met": ok,
        }
    for role, limit in sorted(slo.roles.items()):
        values = [rec.at_role[role] for rec in records if role in rec.at_role]
        within = sum(1 for v in values if v <= limit)
        share = within / (len(values) + failed) if values or failed else 1.0
        thresholds[f"role:{role}"] = {"seconds": limit, "share_within": _r(share)}
    judged_by_target = slo.per_request or bool(slo.roles) or (bool(slo.classes) and not slo.metrics())
    if judged_by_target:
        met = met and attainment >= slo.target - 1e-12
    out: dict[str, Any] = {
        "attainment": _r(attainment),
        "goodput_rps": _r(good / load_seconds if load_seconds > 0 else 0.0),
        "met": met,
        "mode": "per-request" if slo.per_request else "percentile",
        "target": slo.target if judged_by_target else None,
        "finished": finished,
        "good": good,
        "failed": failed,
        "roles": {r: _r(role_good[r] / finished if finished else 1.0) for r in roles},
        "attribution": {r: sorted(attrib[r]) for r in roles},
        "thresholds": thresholds,
        "window_s": window,
        "over_time": over_time(records, good_flags, failures_at, window, duration),
    }
    if by_class:
        out["classes"] = {k: _r(sum(v) / len(v)) for k, v in sorted(by_class.items())}
    return out


def over_time(
    records: Sequence[RequestRecord],
    good_flags: Sequence[bool],
    failures_at: Sequence[tuple[float, int]],
    window: float,
    duration: float,
) -> list[dict[str, Any]]:
    """Per window (by finishing time): finished requests, attainment (None without any) and goodput."""
    n = max(1, math.ceil(duration / window - 1e-9))
    fin = [0] * n
    good = [0] * n
    for rec, ok in zip(records, good_flags):
        i = min(n - 1, int(rec.done // window))
        fin[i] += 1
        good[i] += int(ok)
    prev = 0
    for t, cum in failures_at:
        i = min(n - 1, max(0, math.ceil(t / window - 1e-9) - 1))
        fin[i] += max(0, cum - prev)
        prev = max(prev, cum)
    return [
        {
            "t": _r(i * window),
            "finished": fin[i],
            "attainment": _r(good[i] / fin[i]) if fin[i] else None,
            "goodput_rps": _r(good[i] / window),
        }
        for i in range(n)
    ]


def latency_over_time(records: Sequence[RequestRecord], window: float, duration: float) -> dict[str, Any]:
    """Columnar per-window p50/p99 of TTFT, TPOT and end-to-end latency (by finishing time), for
    the report's TTFT/TPOT figure."""
    n = max(1, math.ceil(duration / window - 1e-9))
    buckets: dict[str, list[list[float]]] = {m: [[] for _ in range(n)] for m in METRICS}
    for rec in records:
        i = min(n - 1, int(rec.done // window))
        for m in METRICS:
            v = rec.value(m)
            if v is not None:
                buckets[m][i].append(v)
    out: dict[str, Any] = {"window_s": window, "t": [_r(i * window) for i in range(n)]}
    for m in METRICS:
        for q in (50.0, 99.0):
            out[f"{m}_p{q:g}"] = [_r(nearest_rank(b, q)) for b in buckets[m]]
    return out
