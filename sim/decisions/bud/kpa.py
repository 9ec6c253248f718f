"""The repo's KPA strategy (Knative-style, as BudEcosystem/scaler ports it).

upstream: pkg/controller/budaiscaler/algorithm/kpa.go KPAAlgorithm.ComputeRecommendation,
calculateDesiredReplicas. Upstream reads only the instantaneous per-source average: the panic and
stable windows of the scaling context are parsed but never used by the decision
(Quirk.KPA_WINDOWS_UNUSED). The samples are kept anyway (AlgorithmState.metric_samples), so the
decision log can show panic/stable averages and the corrected path can decide on them.

Panic mode: ratio >= panicThreshold/100 (Quirk.PANIC_THRESHOLD_DIVIDED_BY_100: with the default
2.0 that is 0.02, i.e. almost always), and panic skips the scale-up rate limit and scale-up policies.

Corrected windows follow Knative's autoscaler (knative/serving pkg/autoscaler/scaling/autoscaler.go
autoscaler.Scale): the replica count comes from the stable-window average, panic is decided on the
panic-window average; while panicking the larger of the stable and panic counts is used, the scaler
never scales down, and panic ends only once a whole stable window has passed since the panic
value was last over the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud.algorithm import (
    apply_stabilization,
    baseline_replicas,
    go_int32,
    metric_value_for_target,
)
from sim.decisions.bud.budscaler import (
    DEFAULT_MAX_SCALE_DOWN_RATE,
    DEFAULT_MAX_SCALE_UP_RATE,
    _record_event,
    apply_constraints,
    effective_tolerance,
    lowest_replicas,
)
from sim.decisions.bud.context import ScalingContext
from sim.decisions.bud.goparse import parse_float
from sim.decisions.bud.policies import apply_policies, starting_pod_gate_holds
from sim.decisions.bud.types import (
    AlgorithmState,
    MetricSample,
    MetricSnapshot,
    Reason,
    Recommendation,
    RecommendationError,
    ScaleDirection,
    ScalingRequest,
    Step,
)

DEFAULT_PANIC_THRESHOLD_PERCENT = 200.0
"""upstream: kpa.go DefaultPanicThreshold (200% of target), used when the context's threshold <= 0."""


def effective_panic_threshold(ctx: ScalingContext, quirks: QuirkSet) -> float:
    """The ratio at or above which KPA panics."""
    if Quirk.PANIC_THRESHOLD_DIVIDED_BY_100 in quirks:
        threshold = ctx.panic_threshold / 100
    else:
        threshold = ctx.panic_threshold
    if threshold <= 0:
        threshold = DEFAULT_PANIC_THRESHOLD_PERCENT / 100
    return threshold


@dataclass(frozen=True)
class KpaMetricDecision:
    replicas: int
    in_panic: bool
    within_tolerance: bool = False


def calculate_desired_replicas(
    current_value: float,
    target_value: float,
    current_replicas: int,
    ready_pod_count: int,
    starting_pod_count: int,
    ctx: ScalingContext,
    quirks: QuirkSet,
    *,
    panic_value: float | None = None,
) -> KpaMetricDecision:
    """ceil(replicas * ratio), rate-limited unless panicking. upstream: kpa.go calculateDesiredReplicas.

    `panic_value` (corrected windows only) is the panic-window average that decides panic mode;
    upstream decides panic on the same instantaneous value it scales on.
    """
    if target_value <= 0:
        return KpaMetricDecision(current_replicas, False)
    ratio = current_value / target_value
    panic_ratio = ratio if panic_value is None else panic_value / target_value
    in_panic = panic_ratio >= effective_panic_threshold(ctx, quirks)
    if abs(ratio - 1.0) < effective_tolerance(ctx, quirks, ratio=ratio):
        return KpaMetricDecision(current_replicas, False, within_tolerance=True)
    replicas = current_replicas
    baseline = baseline_replicas(ready_pod_count, starting_pod_count, ctx.starting_pod_weight)
    if ratio > 1.0 and baseline > current_replicas:
        replicas = baseline
    raw = float(replicas) * ratio
    desired = go_int32(math.ceil(raw)) if math.isfinite(raw) else go_int32(raw)
    if desired > current_replicas:
        max_up = (
            DEFAULT_MAX_SCALE_UP_RATE if ctx.max_scale_up_rate <= 0 else ctx.max_scale_up_rate
        )  # NaN kept, as Go
        cap_f = float(current_replicas) * max_up
        cap = go_int32(math.ceil(cap_f)) if math.isfinite(cap_f) else go_int32(cap_f)
        if desired > cap and not in_panic:
            desired = cap
    elif desired < current_replicas:
        max_down = DEFAULT_MAX_SCALE_DOWN_RATE if ctx.max_scale_down_rate <= 0 else ctx.max_scale_down_rate
        floor_f = float(current_replicas) * max_down
        floor = go_int32(math.floor(floor_f)) if math.isfinite(floor_f) else go_int32(floor_f)
        desired = max(desired, floor)
    return KpaMetricDecision(max(desired, lowest_replicas(ctx, quirks)), in_panic)


@dataclass(frozen=True)
class KpaWindows:
    """Panic- and stable-window averages of one metric (upstream: pkg/aggregation GetWindowAverage)."""

    panic_average: float | None
    stable_average: float | None


MAX_SAMPLES_PER_METRIC = 1000
"""Hard cap on the per-source history (newest kept), whatever the windows and decision rate."""


def record_samples(
    samples: Mapping[str, tuple[MetricSample, ...]],
    request: ScalingRequest,
    ctx: ScalingContext,
    now: float,
) -> dict[str, tuple[MetricSample, ...]]:
    """Append this decision's per-source averages; keep the longer window plus one minute (as the
    aggregator), at most MAX_SAMPLES_PER_METRIC per source. A decision repeated at the same `now`
    (a retried reconcile) replaces that instant's sample instead of counting twice."""
    keep = max(ctx.stable_window_s, ctx.panic_window_s) + 60
    out: dict[str, tuple[MetricSample, ...]] = {}
    for name in sorted(set(samples) | set(request.metric_snapshots)):
        snap = request.metric_snapshots.get(name)
        kept = tuple(
            s for s in samples.get(name, ()) if s.t > now - keep and not (snap is not None and s.t == now)
        )
        if snap is not None:
            kept += (MetricSample(now, snap.average, snap.count),)
        kept = kept[-MAX_SAMPLES_PER_METRIC:]
        if kept:
            out[name] = kept
    return out


def window_averages(
    samples: tuple[MetricSample, ...], ctx: ScalingContext, now: float, *, totals: bool = False
) -> KpaWindows:
    """Means of the samples in (now - window, now] for the panic and stable windows (None if empty):
    of the per-pod averages, or with `totals` of the whole-target load (average x pods).

    Knative: knative/serving pkg/autoscaler/scaling/autoscaler.go Scale reads
    StableAndPanicConcurrency/RPS, the total load averaged over the stable and the panic window.
    """

    def avg(window: float) -> float | None:
        vals = [s.total if totals else s.value for s in samples if now - window < s.t <= now]
        return sum(vals) / len(vals) if vals else None

    return KpaWindows(avg(ctx.panic_window_s), avg(ctx.stable_window_s))


def _per_pod(snap: MetricSnapshot, window_total: float | None) -> float:
    """A window's mean total load spread over the pods answering now (Bud's formula multiplies the
    per-pod value by the replica count again); this decision's average when the window is empty."""
    if window_total is None:
        return snap.average
    return window_total / max(snap.count, 1)


def kpa_pipeline(
    ctx: ScalingContext,
    request: ScalingRequest,
    *,
    now: float,
    quirks: QuirkSet,
    state: AlgorithmState,
) -> Recommendation:
    """One KPA decision without quirk attribution (see compute_kpa_recommendation)."""
    if not ctx.metric_sources:
        raise RecommendationError("at least one metric source is required")
    cur = request.current_replicas
    windows = Quirk.KPA_WINDOWS_UNUSED not in quirks
    samples = record_samples(state.metric_samples, request, ctx, now)
    best: int | None = None
    metric_used, metric_value, metric_target = "", 0.0, 0.0
    over_threshold = False
    any_within = False
    for source in ctx.metric_sources:
        snap = request.metric_snapshots.get(source.target_metric)
        if snap is None:
            continue
        target = parse_float(source.target_value)
        if target is None:
            continue
        observed = snap.average
        panic_value: float | None = None
        if windows:
            # corrected: Knative's stable/panic window averages (autoscaler.go Scale)
            w = window_averages(samples.get(source.target_metric, ()), ctx, now, totals=True)
            observed = _per_pod(snap, w.stable_average)
            panic_raw = _per_pod(snap, w.panic_average)
            panic_value = metric_value_for_target(source, panic_raw, target, quirks)
        value = metric_value_for_target(source, observed, target, quirks)
        args = (target, cur, request.ready_pod_count, request.starting_pod_count, ctx, quirks)
        d = calculate_desired_replicas(value, *args, panic_value=panic_value)
        replicas = d.replicas
        if panic_value is not None and d.in_panic:
            # Knative: in panic, provision for the larger of the stable and the panic count
            replicas = max(replicas, calculate_desired_replicas(panic_value, *args).replicas)
        over_threshold = over_threshold or d.in_panic
        any_within = any_within or (d.within_tolerance and replicas == cur)
        if best is None or replicas > best:
            best = replicas
            metric_used, metric_value, metric_target = source.target_metric, observed, target
    # Knative panicTime: panic lasts a whole stable window past the last time it was over threshold
    panic_time = now if over_threshold else state.panic_time
    if panic_time is not None and not over_threshold and panic_time + ctx.stable_window_s < now:
        panic_time = None
    in_panic = panic_time is not None if windows else over_threshold
    steps: list[Step] = []
    if best is None or (best == 0 and Quirk.SCALE_DOWN_FLOOR_ONE in quirks):
        value = cur
        reason = Reason.NO_METRICS
    else:
        value = best
        reason = Reason.WITHIN_TOLERANCE if (best == cur and any_within) else Reason.METRIC
    # Upstream only records the primary metric when desired > 0 beat the running max.
    if best is not None and best <= 0:
        metric_used, metric_value, metric_target = "", 0.0, 0.0
    steps.append(Step("metric", value))

    def step(name: str, before: int, after: int, why: Reason) -> int:
        nonlocal reason
        steps.append(Step(name, after))
        if after != before:
            reason = why
        return after

    if windows and in_panic and value < cur:
        value = step("panic_hold", value, cur, Reason.PANIC_HOLD)  # Knative: no scale-down in panic
    bounded = apply_constraints(value, ctx.min_replicas, ctx.max_replicas)
    value = step("bounds", value, bounded, Reason.MIN_REPLICAS if bounded > value else Reason.MAX_REPLICAS)
    if value < cur or (value > cur and not in_panic):  # in panic KPA skips the scale-up policies
        limited, why = apply_policies(ctx, cur, value, quirks=quirks, events=state.scale_events, now=now)
        value = step("policies", value, limited, why)
    if starting_pod_gate_holds(
        ctx, request.ready_pod_count, request.starting_pod_count, cur, value, in_panic=in_panic
    ):
        value = step("starting_pod_gate", value, cur, Reason.STARTING_POD_GATE)
    stab = apply_stabilization(
        value, cur, request.last_scale_time, ctx, now=now, quirks=quirks, history=state.recommendations
    )
    value = step("stabilization", value, stab.replicas, Reason.STABILIZATION)

    details = f"{metric_used} metric (current: {metric_value:.2f}, target: {metric_target:.2f})"
    if value > cur:
        direction = ScaleDirection.UP
        message = f"Scaling up from {cur} to {value} replicas based on {details}"
    elif value < cur:
        direction = ScaleDirection.DOWN
        message = f"Scaling down from {cur} to {value} replicas based on {details}"
    else:
        direction = ScaleDirection.NONE
        message = f"No scaling needed. Current replicas {cur} is optimal for {details}"
    if in_panic:
        message += " [PANIC MODE]"
    new_state = AlgorithmState(
        scale_events=_record_event(state, ctx, cur, value, now),
        recommendations=stab.history,
        metric_samples=samples,
        in_panic_mode=in_panic,
        panic_time=panic_time,
    )
    return Recommendation(
        desired_replicas=value,
        direction=direction,
        reason=reason,
        message=message,
        in_panic_mode=in_panic,
        metric_used=metric_used,
        current_metric_value=metric_value,
        target_metric_value=metric_target,
        steps=tuple(steps),
        state=new_state,
    )
