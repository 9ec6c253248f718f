"""AIBrix's PodAutoscaler decision: metric sources -> desired replicas -> cooldown -> bounds.

upstream: vllm-project/aibrix pkg/controller/podautoscaler/autoscaler.go
DefaultAutoScaler.ComputeDesiredReplicas (every metric source through the strategy's algorithm;
the largest valid recommendation wins; a source whose pods all failed is skipped),
executeScalingPipeline (snapshot -> windows -> aggregated stable/panic values -> algorithm);
podautoscaler_controller.go computeScaleDecision (no scaling from 0 when minReplicas != 0,
boundary checks, stabilizeRecommendation, clamp) and stabilizeRecommendation (cooldown windows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from model.quirks import Quirk, QuirkSet
from sim.decisions.aibrix.algorithms import (
    PanicState,
    apa_compute_target_replicas,
    apply_constraints,
    kpa_recommendation,
)
from sim.decisions.aibrix.context import ScalingContext, metric_windows
from sim.decisions.aibrix.window import MetricWindows


@dataclass(frozen=True)
class AutoscalerState:
    """What the upstream controller keeps between reconciles: the metrics client's windows (per
    metric), the recommendation history of the cooldown, and (corrected only) the panic state."""

    windows: Mapping[str, MetricWindows] = field(default_factory=dict)
    recommendations: tuple[tuple[float, int], ...] = ()
    panic: Mapping[str, PanicState] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricResult:
    metric: str
    stable: float
    panic: float
    replicas: int
    in_panic: bool = False


@dataclass(frozen=True)
class DesiredReplicas:
    """upstream: autoscaler.go ReplicaComputeResult (+ what each source computed)."""

    valid: bool
    desired: int = 0
    algorithm: str = ""
    reason: str = ""
    per_metric: tuple[MetricResult, ...] = ()
    quirks_triggered: tuple[str, ...] = ()


def compute_desired_replicas(
    pa: Mapping[str, Any],
    ctx: ScalingContext,
    current: int,
    samples: Mapping[str, Sequence[float] | None],
    state: AutoscalerState,
    now: float,
    quirks: QuirkSet,
) -> tuple[DesiredReplicas, AutoscalerState]:
    """`samples[metric]`: the per-pod values the fetcher returned (None: every pod failed)."""
    spec = pa.get("spec") or {}
    sources = spec.get("metricsSources") or []
    if not sources:
        return DesiredReplicas(False, reason="no metricsSources defined"), state
    strategy = str(spec.get("scalingStrategy") or "KPA")
    stable_w, panic_w = metric_windows(pa)
    windows = dict(state.windows)
    panics = dict(state.panic)
    results: list[MetricResult] = []
    triggered: list[str] = []
    for src in sources:
        metric = str(src.get("targetMetric", ""))
        values = samples.get(metric)
        w = windows.get(metric) or MetricWindows.new(stable_w, panic_w)
        w = w.configured(stable_w, panic_w)
        if values is None:
            windows[metric] = w
            continue  # failed to collect metrics from all pods
        # upstream records the pods' average, which the KPA formula then reads as a total
        # (Quirk.AIBRIX_KPA_AVERAGE_AS_TOTAL); corrected, KPA windows hold the sum over pods.
        as_total = strategy != "APA" and Quirk.AIBRIX_KPA_AVERAGE_AS_TOTAL not in quirks
        if strategy != "APA" and not as_total and len(values) > 1:
            triggered.append(Quirk.AIBRIX_KPA_AVERAGE_AS_TOTAL.value)
        w = w.update(now, values, total=as_total)
        windows[metric] = w
        stable, panic = w.values()
        target = ctx.target_for(metric)
        if target is None:
            results.append(MetricResult(metric, stable, panic, current))  # "get no TargetValueForMetric"
            continue
        if strategy == "APA":
            apa = apa_compute_target_replicas(
                float(current),
                target=target,
                use_per_pod=stable,
                up_tolerance=ctx.up_tolerance,
                down_tolerance=ctx.down_tolerance,
                max_scale_up_rate=ctx.max_scale_up_rate,
                max_scale_down_rate=ctx.max_scale_down_rate,
            )
            results.append(
                MetricResult(
                    metric, stable, panic, apply_constraints(apa, ctx.min_replicas, ctx.max_replicas)
                )
            )
            continue
        rec = kpa_recommendation(
            current,
            stable=stable,
            panic=panic,
            target=target,
            max_scale_up_rate=ctx.max_scale_up_rate,
            max_scale_down_rate=ctx.max_scale_down_rate,
            up_tolerance=ctx.up_tolerance,
            down_tolerance=ctx.down_tolerance,
            panic_threshold=ctx.panic_threshold,
            stable_window=stable_w,
            min_replicas=ctx.min_replicas,
            max_replicas=ctx.max_replicas,
            state=panics.get(metric, PanicState()),
            now=now,
            quirks=quirks,
        )
        panics[metric] = rec.state
        if rec.quirk_triggered:
            triggered.append(Quirk.AIBRIX_PANIC_STATELESS.value)
        results.append(MetricResult(metric, stable, panic, rec.replicas, rec.in_panic))
    new_state = replace(state, windows=windows, panic=panics)
    if not results:
        return DesiredReplicas(False, reason=f"all {len(sources)} metric sources failed"), new_state
    best = results[0]
    for r in results[1:]:
        if r.replicas > best.replicas:
            best = r
    mode = "panic" if best.in_panic else "stable"
    reason = f"{mode} mode scaling" if strategy != "APA" else "apa scaling based on current metrics"
    return (
        DesiredReplicas(
            True, best.replicas, strategy.lower(), reason, tuple(results), tuple(sorted(set(triggered)))
        ),
        new_state,
    )


def stabilize_recommendation(
    history: tuple[tuple[float, int], ...],
    recommendation: int,
    current: int,
    now: float,
    ctx: ScalingContext,
    quirks: QuirkSet,
) -> tuple[int, tuple[tuple[float, int], ...], bool]:
    """(stabilized, history after, quirk changed the result). upstream: stabilizeRecommendation
    picks the max of the scale-up window and the min of the scale-down window
    (Quirk.AIBRIX_COOLDOWN_PICKS_EXTREME); corrected follows the HPA's stabilization: a scale-up
    goes to the lowest and a scale-down to the highest recommendation of its window, never past
    the current count."""
    up_w, down_w = ctx.scale_up_cooldown, ctx.scale_down_cooldown
    hist = (*history, (now, recommendation))
    keep_after = now - max(up_w, down_w)
    hist = tuple(h for h in hist if h[0] > keep_after)
    if recommendation == current:
        return current, hist, False
    up = recommendation > current
    cutoff = now - (up_w if up else down_w)
    window = [r for t, r in hist if t > cutoff] or [recommendation]
    upstream = max(window) if up else min(window)
    corrected = max(current, min(window)) if up else min(current, max(window))
    if Quirk.AIBRIX_COOLDOWN_PICKS_EXTREME in quirks:
        return upstream, hist, upstream != corrected
    return corrected, hist, False


@dataclass(frozen=True)
class ScaleDecision:
    """upstream: podautoscaler_controller.go ScaleDecision."""

    desired: int
    should_scale: bool
    reason: str
    algorithm: str
    valid: bool = True
    quirks_triggered: tuple[str, ...] = ()
    per_metric: tuple[MetricResult, ...] = ()


def compute_scale_decision(
    pa: Mapping[str, Any],
    ctx: ScalingContext,
    current: int,
    samples: Mapping[str, Sequence[float] | None],
    state: AutoscalerState,
    now: float,
    quirks: QuirkSet,
) -> tuple[ScaleDecision, AutoscalerState]:
    """upstream: computeScaleDecision (schedules are not modelled: base bounds only)."""
    lo, hi = ctx.min_replicas, ctx.max_replicas
    if current == 0 and lo != 0:
        return ScaleDecision(0, False, "scaling disabled: current replicas is 0", "boundary-check"), state
    if current > hi:
        return ScaleDecision(hi, True, "current replicas exceed maximum", "boundary-check"), state
    if current < lo:
        return ScaleDecision(lo, True, "current replicas below minimum", "boundary-check"), state
    result, state = compute_desired_replicas(pa, ctx, current, samples, state, now, quirks)
    if not result.valid:
        return ScaleDecision(current, False, result.reason, "", valid=False), state
    strategy = str((pa.get("spec") or {}).get("scalingStrategy") or "KPA")
    triggered = list(result.quirks_triggered)
    desired = result.desired
    if strategy != "HPA":
        desired, hist, changed = stabilize_recommendation(
            state.recommendations, desired, current, now, ctx, quirks
        )
        state = replace(state, recommendations=hist)
        if changed:
            triggered.append(Quirk.AIBRIX_COOLDOWN_PICKS_EXTREME.value)
    desired = min(max(desired, lo), hi)
    should = desired != current
    name = result.algorithm or strategy
    reason = (
        (f"{name} above target" if desired > current else "All metrics below target") if should else "stable"
    )
    return ScaleDecision(desired, should, reason, name, True, tuple(triggered), result.per_metric), state
