"""The detectors: one pure function per finding kind over `FindingInputs` (docs/findings.md has
each rule, its thresholds and defaults; the scenario's `findings:` block changes them)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.slo import FindingKind, FindingsConfig, Severity
from sim.findings.types import Finding, ordered
from sim.report.timeseries import TimeSeries

PodSnapshot = Mapping[str, Mapping[str, int]]
"""Role -> {ready, idle, queued, queued_pods} at one load sample (sim/scenario/answers.py)."""


@dataclass(frozen=True)
class FindingInputs:
    """Everything the detectors read, as plain recorded data (tests build it by hand)."""

    roles: Sequence[str]
    sim_seconds: float
    ts: TimeSeries
    scale_events: Sequence[Mapping[str, Any]] = ()
    """{t, role, from, to} replica writes (events.jsonl `scale`)."""
    decisions: Sequence[Mapping[str, Any]] = ()
    """{t, role, scaler, code} scaler decisions (`code` = the decision's reasonCode)."""
    false_conditions: Sequence[Mapping[str, Any]] = ()
    """{role, scaler, type, reason, since} conditions still False at the end of the run."""
    max_replicas: Mapping[str, int] = field(default_factory=dict)
    pod_samples: Sequence[tuple[float, PodSnapshot]] = ()
    slo: Mapping[str, Any] | None = None
    """summary.json's `slo` block (attainment over time), if the scenario has an SLO."""
    slo_target: float = 0.99
    cost: Mapping[str, Any] | None = None
    needed: Mapping[str, Sequence[int]] = field(default_factory=dict)
    """The lower bound's replicas per role and window."""
    needed_window: float = 60.0
    first_ready: Mapping[str, float | None] = field(default_factory=dict)
    config: FindingsConfig = field(default_factory=FindingsConfig)


def _series(ts: TimeSeries, role: str, column: str) -> list[tuple[float, float]]:
    times, values = ts.series(role, column)
    return [(t, v) for t, v in zip(times, values) if v is not None]


# --------------------------------------------------------------------------- flapping

LOAD_LOOKBACK = 60.0
"""Seconds of arrivals averaged for the load at a scaling write."""


def _rate_at(ts: TimeSeries, role: str) -> Any:
    """t -> mean arrivals per second at the role over the LOAD_LOOKBACK seconds before t."""
    pts = _series(ts, role, "arrivals")
    times = [t for t, _ in pts]
    cum = [0.0]
    for _, v in pts:
        cum.append(cum[-1] + v)

    def rate(t: float) -> float | None:
        import bisect

        hi = bisect.bisect_right(times, t)
        lo = bisect.bisect_right(times, t - LOAD_LOOKBACK)
        if hi <= lo:
            return None
        span = max(1e-9, times[hi - 1] - (times[lo - 1] if lo > 0 else times[lo] - 1.0))
        return (cum[hi] - cum[lo]) / span

    return rate


def _follows_load(rate: Any, t_prev: float, t: float, direction: int, change: float) -> bool:
    before, now = rate(t_prev), rate(t)
    if before is None or now is None:
        return False
    if direction < 0:
        return bool(now <= before * (1.0 - change))
    return bool(now >= before * (1.0 + change) and now > 0)


def flapping(inp: FindingInputs) -> list[Finding]:
    """Direction reversals of a role's replica writes: a write up after a write down (or the
    reverse). Reversals less than `window` apart form one episode; an episode with at least
    `minReversals` reversals spanning at least `minAmplitude` replicas is a finding (an error
    with twice as many reversals)."""
    cfg = inp.config.flapping
    out: list[Finding] = []
    for role in inp.roles:
        events = [e for e in inp.scale_events if e.get("role") == role and e.get("to") != e.get("from")]
        reversals: list[tuple[float, int, int]] = []  # (t, low, high) of the two writes around it
        prev_dir = 0
        prev: Mapping[str, Any] | None = None
        rate = _rate_at(inp.ts, role)
        for e in events:
            d = 1 if int(e["to"]) > int(e["from"]) else -1
            if (
                prev_dir
                and d != prev_dir
                and prev is not None
                and not _follows_load(rate, float(prev["t"]), float(e["t"]), d, cfg.load_change)
            ):
                values = [int(prev["from"]), int(prev["to"]), int(e["from"]), int(e["to"])]
                reversals.append((float(e["t"]), min(values), max(values)))
            prev_dir, prev = d, e
        episodes: list[list[tuple[float, int, int]]] = []
        for r in reversals:
            if episodes and r[0] - episodes[-1][-1][0] <= cfg.window:
                episodes[-1].append(r)
            else:
                episodes.append([r])
        for ep in episodes:
            low = min(r[1] for r in ep)
            high = max(r[2] for r in ep)
            if len(ep) < cfg.min_reversals or high - low < cfg.min_amplitude:
                continue
            start, end = ep[0][0], ep[-1][0]
            period = (end - start) / (len(ep) - 1) if len(ep) > 1 else 0.0
            sev = Severity.ERROR if len(ep) >= 2 * cfg.min_reversals else Severity.WARNING
            out.append(
                Finding(
                    FindingKind.FLAPPING,
                    sev,
                    role,
                    start,
                    end,
                    f"{role} flapped between {low} and {high} replicas: {len(ep)} direction reversals"
                    + (f" in {end - start:.0f} s" if end > start else ""),
                    {
                        "reversals": len(ep),
                        "low": low,
                        "high": high,
                        "amplitude": high - low,
                        "period_s": round(period, 3),
                    },
                    "lengthen the scale-down stabilization window or the KPA stable window, scale on a "
                    "smoother metric (utilization, KV usage) than a queue length, or add a tolerance band",
                )
            )
    return out


# --------------------------------------------------------------------------- saturation


def _breach_windows(inp: FindingInputs) -> list[tuple[float, float, float]]:
    """(start, end, attainment) of SLO windows below the target."""
    if not inp.slo:
        return []
    window = float(inp.slo.get("window_s") or 0.0)
    out = []
    for w in inp.slo.get("over_time") or []:
        a = w.get("attainment")
        if a is not None and a < inp.slo_target - 1e-12:
            out.append((float(w["t"]), float(w["t"]) + window, float(a)))
    return out


def _merge(windows: Sequence[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    merged: list[tuple[float, float, float]] = []
    for s, e, a in windows:
        if merged and s <= merged[-1][1] + 1e-9:
            ps, _, pa = merged[-1]
            merged[-1] = (ps, e, min(pa, a))
        else:
            merged.append((s, e, a))
    return merged


def saturation(inp: FindingInputs) -> list[Finding]:
    """The scaler asks for at least maxReplicas (desired >= max) while the SLO is breached: the
    ceiling, not the scaler, limits the fleet."""
    out: list[Finding] = []
    breaches = _merge(_breach_windows(inp))
    if not breaches:
        return out
    for role in inp.roles:
        cap = inp.max_replicas.get(role)
        if cap is None:
            continue
        capped = [t for t, v in _series(inp.ts, role, "desired") if v >= cap]
        for s, e, a in breaches:
            hits = [t for t in capped if s <= t < e]
            if not hits:
                continue
            out.append(
                Finding(
                    FindingKind.SATURATION,
                    Severity.ERROR,
                    role,
                    hits[0],
                    e,
                    f"{role} was held at maxReplicas={cap} while the SLO was breached (attainment {a:.0%})",
                    {"max_replicas": cap, "attainment": round(a, 6), "samples_at_max": len(hits)},
                    f"raise maxReplicas of {role}'s scaler, or add capacity per pod",
                )
            )
    return out


# --------------------------------------------------------------------------- stuck scaler


def stuck_scaler(inp: FindingInputs) -> list[Finding]:
    """A scaler whose decisions have no metrics (reasonCode NoMetrics) for longer than
    `stuckScaler.minSeconds`, or with a condition False at the end for longer than that."""
    cfg = inp.config.stuck_scaler
    out: list[Finding] = []
    by_scaler: dict[str, list[Mapping[str, Any]]] = {}
    for d in inp.decisions:
        by_scaler.setdefault(str(d.get("scaler")), []).append(d)
    for scaler in sorted(by_scaler):
        seq = by_scaler[scaler]
        run_start: float | None = None
        last_t = 0.0
        runs: list[tuple[float, float, int]] = []
        count = 0
        for d in seq:
            t = float(d["t"])
            if d.get("code") == "NoMetrics":
                if run_start is None:
                    run_start, count = t, 0
                count += 1
                last_t = t
            elif run_start is not None:
                runs.append((run_start, t, count))
                run_start = None
        if run_start is not None:
            runs.append((run_start, max(last_t, inp.sim_seconds), count))
        role = str(seq[0].get("role") or "") or None
        for s, e, n in runs:
            if e - s < cfg.min_seconds:
                continue
            whole = e >= inp.sim_seconds - 1e-6
            out.append(
                Finding(
                    FindingKind.STUCK_SCALER,
                    Severity.ERROR if whole else Severity.WARNING,
                    role,
                    s,
                    e,
                    f"{scaler} had no metrics for {e - s:.0f} s ({n} decisions with NoMetrics): it cannot scale",
                    {"scaler": scaler, "decisions": n, "seconds": round(e - s, 3)},
                    "check that the scaler's metric is one the role's engine exposes (names and port), "
                    "and that the metrics source type matches (pod, resource, custom)",
                )
            )
    for c in inp.false_conditions:
        since = float(c.get("since") or 0.0)
        if inp.sim_seconds - since < cfg.min_seconds:
            continue
        out.append(
            Finding(
                FindingKind.STUCK_SCALER,
                Severity.WARNING,
                c.get("role"),
                since,
                inp.sim_seconds,
                f"{c.get('scaler')}: condition {c.get('type')}=False ({c.get('reason')}) for "
                f"{inp.sim_seconds - since:.0f} s at the end of the run",
                {"scaler": c.get("scaler"), "condition": c.get("type"), "reason": c.get("reason")},
                "read the condition's message in report.html (Autoscalers)",
            )
        )
    return out


# --------------------------------------------------------------------------- stranded backlog


def stranded_backlog(inp: FindingInputs) -> list[Finding]:
    """Requests queue at some pods of a role while other Ready pods of it hold nothing, for at
    least `strandedBacklog.minSeconds` (balancing or admission keeps work away from idle pods)."""
    cfg = inp.config.stranded_backlog
    out: list[Finding] = []
    for role in inp.roles:
        episode: list[tuple[float, int, int]] = []
        episodes: list[list[tuple[float, int, int]]] = []
        for t, snap in inp.pod_samples:
            r = snap.get(role) or {}
            queued, idle = int(r.get("queued", 0)), int(r.get("idle", 0))
            if queued >= cfg.min_queue and idle > 0:
                episode.append((t, queued, idle))
            elif episode:
                episodes.append(episode)
                episode = []
        if episode:
            episodes.append(episode)
        merged: list[list[tuple[float, int, int]]] = []
        for ep in episodes:  # short gaps do not end an episode
            if merged and ep[0][0] - merged[-1][-1][0] <= cfg.min_seconds:
                merged[-1].extend(ep)
            else:
                merged.append(ep)
        for ep in merged:
            s, e = ep[0][0], ep[-1][0]
            if e - s < cfg.min_seconds:
                continue
            peak = max(q for _, q, _ in ep)
            idle_max = max(i for _, _, i in ep)
            out.append(
                Finding(
                    FindingKind.STRANDED_BACKLOG,
                    Severity.WARNING,
                    role,
                    s,
                    e,
                    f"{role}: up to {peak} requests queued on some pods while {idle_max} Ready pods sat idle "
                    f"for {e - s:.0f} s",
                    {"queued_max": peak, "idle_pods_max": idle_max, "seconds": round(e - s, 3)},
                    "route by load (least-outstanding, KV-aware or a router queue) instead of round-robin, "
                    "so new pods take over the backlog",
                )
            )
    return out


# --------------------------------------------------------------------------- scale-up lag


def scale_up_lag(inp: FindingInputs) -> list[Finding]:
    """A rise in load the Ready pods cannot carry (the lower bound's replicas for a window grow by
    `scaleUpLag.minRise` and exceed Ready replicas) until Ready replicas reach it: longer than
    `scaleUpLag.maxSeconds` is a finding (an error if they never do)."""
    cfg = inp.config.scale_up_lag
    out: list[Finding] = []
    w = inp.needed_window
    for role in inp.roles:
        needed = list(inp.needed.get(role) or [])
        ready = _series(inp.ts, role, "ready")
        if not needed or not ready:
            continue
        first = inp.first_ready.get(role)
        i = 1
        while i < len(needed):
            prev, cur = needed[i - 1], needed[i]
            start = i * w
            rise = cur > prev and (prev == 0 or cur >= prev * (1 + cfg.min_rise))
            ready_at_start = next((v for t, v in reversed(ready) if t <= start), 0.0)
            if not rise or first is None or start < first or ready_at_start >= cur:
                i += 1
                continue
            caught = next((t for t, v in ready if t >= start and v >= cur), None)
            end = caught if caught is not None else inp.sim_seconds
            lag = end - start
            if lag > cfg.max_seconds:
                out.append(
                    Finding(
                        FindingKind.SCALE_UP_LAG,
                        Severity.ERROR if caught is None else Severity.WARNING,
                        role,
                        start,
                        end,
                        f"{role} needed {cur} Ready replicas from {start:.0f} s (up from {prev} in the window before) and "
                        + (f"reached them {lag:.0f} s later" if caught is not None else "never reached them"),
                        {
                            "needed": cur,
                            "needed_before": prev,
                            "ready_at_rise": ready_at_start,
                            "lag_s": round(lag, 3),
                        },
                        "scale on a leading signal (arrivals, queue) with a shorter evaluation period, keep "
                        "warm headroom, or shorten the model load (lifecycle.ready)",
                    )
                )
            # skip the windows this episode covered
            i = max(i + 1, math.ceil(end / w))
    return out


# --------------------------------------------------------------------------- SLO breach


def slo_breach(inp: FindingInputs) -> list[Finding]:
    """Consecutive attainment windows below the SLO's target, merged; an error when the worst
    window's attainment is below `sloBreach.errorBelow`."""
    cfg = inp.config.slo_breach
    out: list[Finding] = []
    for s, e, a in _merge(_breach_windows(inp)):
        if e - s < cfg.min_seconds:
            continue
        out.append(
            Finding(
                FindingKind.SLO_BREACH,
                Severity.ERROR if a < cfg.error_below else Severity.WARNING,
                None,
                s,
                e,
                f"SLO breached from {s:.0f} s to {e:.0f} s: attainment fell to {a:.0%} (target {inp.slo_target:.0%})",
                {"attainment_min": round(a, 6), "target": inp.slo_target, "seconds": round(e - s, 3)},
                "look at the findings of the same period (lag, saturation, stranded backlog) and the "
                "per-role attainment: the role whose attainment drops first is the bottleneck",
            )
        )
    return out


# --------------------------------------------------------------------------- over-provisioned


def over_provisioned(inp: FindingInputs) -> list[Finding]:
    """A GPU role used more than `overProvisioned.maxRatio` times the lower bound's GPU-hours
    (info; a warning above three times that ratio)."""
    cfg = inp.config.over_provisioned
    out: list[Finding] = []
    if not inp.cost:
        return out
    used = inp.cost.get("gpu_hours") or {}
    bound = ((inp.cost.get("lower_bound") or {}).get("gpu_hours")) or {}
    for role in inp.roles:
        u, b = float(used.get(role) or 0.0), float(bound.get(role) or 0.0)
        if u <= 0 or b <= 0:
            continue
        ratio = u / b
        if ratio <= cfg.max_ratio:
            continue
        out.append(
            Finding(
                FindingKind.OVER_PROVISIONED,
                Severity.WARNING if ratio > 3 * cfg.max_ratio else Severity.INFO,
                role,
                0.0,
                inp.sim_seconds,
                f"{role} used {u:.2f} GPU-hours, {ratio:.1f}x the {b:.2f} the lower bound needs",
                {"gpu_hours": u, "lower_bound_gpu_hours": b, "ratio": round(ratio, 3)},
                "lower minReplicas or the scaler's target utilisation, or scale down sooner",
            )
        )
    return out


DETECTORS = {
    FindingKind.FLAPPING: flapping,
    FindingKind.SATURATION: saturation,
    FindingKind.STUCK_SCALER: stuck_scaler,
    FindingKind.STRANDED_BACKLOG: stranded_backlog,
    FindingKind.SCALE_UP_LAG: scale_up_lag,
    FindingKind.SLO_BREACH: slo_breach,
    FindingKind.OVER_PROVISIONED: over_provisioned,
}


def detect_all(inp: FindingInputs) -> list[Finding]:
    """Every enabled detector's findings, most severe first."""
    found: list[Finding] = []
    for kind, fn in DETECTORS.items():
        if kind in inp.config.disabled:
            continue
        found.extend(fn(inp))
    return ordered(found)
