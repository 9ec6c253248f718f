"""The BudScaler strategy: metrics, GPU, prediction, schedule-hint floor, cost ceiling, bounds,
policies, starting-pod gate, stabilization — in upstream's order.

upstream: pkg/controller/budaiscaler/algorithm/budscaler.go BudScalerAlgorithm.ComputeRecommendation
and its helpers. Pure: everything comes in through the context, the request, `now` and the quirks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud.algorithm import (
    apply_stabilization,
    baseline_replicas,
    go_int32,
    go_round,
    metric_value_for_target,
)
from sim.decisions.bud.context import ScalingContext
from sim.decisions.bud.cost import apply_cost_constraints
from sim.decisions.bud.goparse import parse_float
from sim.decisions.bud.policies import apply_policies, starting_pod_gate_holds
from sim.decisions.bud.types import (
    AlgorithmState,
    Reason,
    Recommendation,
    RecommendationError,
    ScaleDirection,
    ScaleEvent,
    ScalingRequest,
    Step,
)

# upstream: algorithm/kpa.go constants (shared by the package)
DEFAULT_MAX_SCALE_UP_RATE = 2.0
DEFAULT_MAX_SCALE_DOWN_RATE = 0.5
# upstream: algorithm/budscaler.go constants
DEFAULT_PREDICTION_WEIGHT = 0.3
PREDICTION_MIN_CONFIDENCE = 0.7
SCALE_UP_ALPHA = 0.8
SCALE_DOWN_ALPHA = 0.5


def effective_tolerance(ctx: ScalingContext, quirks: QuirkSet, *, ratio: float) -> float:
    """The dead band around ratio 1 for this direction.

    upstream: pkg/context/context.go GetTolerance returns the scale-up tolerance for both directions
    (Quirk.DOWN_TOLERANCE_IGNORED; corrected: the scale-down tolerance when ratio < 1), and the
    algorithms divide it by 100 (Quirk.TOLERANCE_DIVIDED_BY_100: 0.1 -> 0.001).
    """
    tolerance = ctx.tolerance_for(ratio, down_ignored=Quirk.DOWN_TOLERANCE_IGNORED in quirks)
    return tolerance / 100 if Quirk.TOLERANCE_DIVIDED_BY_100 in quirks else tolerance


def lowest_replicas(ctx: ScalingContext, quirks: QuirkSet) -> int:
    """The floor of the per-metric step: 1 upstream (Quirk.SCALE_DOWN_FLOOR_ONE); corrected 0 only
    when minReplicas is 0 (otherwise the later clamp to minReplicas decides)."""
    return 1 if Quirk.SCALE_DOWN_FLOOR_ONE in quirks else min(1, max(ctx.min_replicas, 0))


def calculate_desired_for_metric(
    current_value: float,
    target_value: float,
    current_replicas: int,
    ctx: ScalingContext,
    quirks: QuirkSet,
) -> int:
    """Damped proportional step for one metric, rate-limited.

    upstream: budscaler.go calculateDesiredForMetric — within tolerance keep; else
    current*(1+alpha*(ratio-1)) with alpha 0.8 up (ceil) / 0.5 down (round half away from zero);
    capped at ceil(current*maxScaleUpRate), floored at max(1, floor(current*maxScaleDownRate)).
    """
    ratio = current_value / target_value
    if abs(ratio - 1.0) < effective_tolerance(ctx, quirks, ratio=ratio):
        return current_replicas
    alpha = SCALE_UP_ALPHA if ratio > 1.0 else SCALE_DOWN_ALPHA
    desired_f = float(current_replicas) * (1 + alpha * (ratio - 1))
    desired = (
        go_int32(math.ceil(desired_f) if math.isfinite(desired_f) else desired_f)
        if ratio > 1.0
        else go_int32(go_round(desired_f))
    )
    low = lowest_replicas(ctx, quirks)
    if desired > current_replicas:
        max_up = (
            DEFAULT_MAX_SCALE_UP_RATE if ctx.max_scale_up_rate <= 0 else ctx.max_scale_up_rate
        )  # NaN kept, as Go
        cap = _ceil32(float(current_replicas) * max_up)
        desired = min(desired, cap)
    elif desired < current_replicas:
        max_down = DEFAULT_MAX_SCALE_DOWN_RATE if ctx.max_scale_down_rate <= 0 else ctx.max_scale_down_rate
        floor = _floor32(float(current_replicas) * max_down)
        floor = max(floor, low)
        desired = max(desired, floor)
    return max(desired, low)


def apply_constraints(desired: int, min_replicas: int, max_replicas: int) -> int:
    """upstream: budscaler.go / kpa.go applyConstraints (the min check first, so min wins if min > max)."""
    if desired < min_replicas:
        return min_replicas
    if desired > max_replicas:
        return max_replicas
    return desired


def _ceil32(x: float) -> int:
    return go_int32(math.ceil(x)) if math.isfinite(x) else go_int32(x)


def _floor32(x: float) -> int:
    return go_int32(math.floor(x)) if math.isfinite(x) else go_int32(x)


@dataclass(frozen=True)
class MetricRecommendation:
    replicas: int
    reason: Reason


def calculate_metric_based_recommendation(
    ctx: ScalingContext, request: ScalingRequest, quirks: QuirkSet
) -> MetricRecommendation:
    """Max over metric sources. upstream: budscaler.go calculateMetricBasedRecommendation.

    A source averaging <= 0 proposes minReplicas. Upstream uses 0 as "no proposal", so minReplicas 0
    is lost and the current count kept (part of Quirk.SCALE_DOWN_FLOOR_ONE; corrected keeps it).
    """
    baseline = baseline_replicas(request.ready_pod_count, request.starting_pod_count, ctx.starting_pod_weight)
    best: int | None = None
    reason = Reason.NO_METRICS
    any_within = False
    for source in ctx.metric_sources:
        snapshot = request.metric_snapshots.get(source.target_metric)
        if snapshot is None:
            continue
        target = parse_float(source.target_value)
        if target is None or target <= 0:  # NaN passes, as in Go
            continue
        value = metric_value_for_target(source, snapshot.average, target, quirks)
        if value <= 0:
            if best is None or ctx.min_replicas > best:
                best, reason = ctx.min_replicas, Reason.ZERO_LOAD
            continue
        replicas = request.current_replicas
        ratio = value / target
        if ratio > 1.0 and baseline > request.current_replicas:
            replicas = baseline
        desired = calculate_desired_for_metric(value, target, replicas, ctx, quirks)
        if desired == replicas:
            any_within = True
        if best is None or desired > best:
            best, reason = desired, Reason.METRIC
    sentinel_zero = Quirk.SCALE_DOWN_FLOOR_ONE in quirks
    if best is None or (sentinel_zero and best == 0):
        return MetricRecommendation(
            request.current_replicas, Reason.NO_METRICS if best is None else Reason.ZERO_LOAD
        )
    if best == request.current_replicas and any_within:
        reason = Reason.WITHIN_TOLERANCE
    return MetricRecommendation(best, reason)


def calculate_gpu_based_recommendation(ctx: ScalingContext, request: ScalingRequest) -> int:
    """ceil(current * max(mem/memThreshold, compute/computeThreshold)), at least 1.

    upstream: budscaler.go calculateGPUBasedRecommendation (an unset or 0 threshold gives ratio 1).
    """
    gpu = request.gpu_metrics
    if gpu is None:
        return request.current_replicas
    mem_ratio = 1.0
    compute_ratio = 1.0
    if ctx.gpu.memory_threshold is not None and ctx.gpu.memory_threshold > 0:
        mem_ratio = gpu.memory_utilization / float(ctx.gpu.memory_threshold)
    if ctx.gpu.compute_threshold is not None and ctx.gpu.compute_threshold > 0:
        compute_ratio = gpu.compute_utilization / float(ctx.gpu.compute_threshold)
    ratio = max(mem_ratio, compute_ratio)
    return max(_ceil32(float(request.current_replicas) * ratio), 1)


def apply_prediction_adjustment(desired: int, request: ScalingRequest) -> int:
    """Blend with the prediction: round(desired*(1-w) + predicted*w), w = 0.3*confidence; ignored
    below confidence 0.7 or for a non-positive prediction. upstream: budscaler.go applyPredictionAdjustment."""
    pred = request.prediction_data
    if pred is None or pred.confidence < PREDICTION_MIN_CONFIDENCE or pred.predicted_replicas <= 0:
        return desired
    w = DEFAULT_PREDICTION_WEIGHT * pred.confidence
    adjusted = go_int32(go_round(float(desired) * (1 - w) + float(pred.predicted_replicas) * w))
    return max(adjusted, 1)


def _message(ctx: ScalingContext, request: ScalingRequest, desired: int) -> tuple[str, str, float, float]:
    """upstream: budscaler.go setRecommendationDetails (Reason string and the primary metric)."""
    metric, value, target = "", 0.0, 0.0
    for source in ctx.metric_sources:
        snap = request.metric_snapshots.get(source.target_metric)
        if snap is not None:
            metric, value = source.target_metric, snap.average
            parsed = parse_float(source.target_value)
            target = parsed if parsed is not None else 0.0
            break
    cur = request.current_replicas
    if desired > cur:
        msg = f"BudScaler: Scaling up from {cur} to {desired} replicas"
    elif desired < cur:
        msg = f"BudScaler: Scaling down from {cur} to {desired} replicas"
    else:
        msg = f"BudScaler: No scaling needed at {cur} replicas"
    pred = request.prediction_data
    if pred is not None and pred.is_schedule_hint:
        msg += f" [schedule hint '{pred.schedule_hint_name}' floor: {pred.predicted_replicas}]"
    if request.gpu_metrics is not None:
        msg += f" (GPU mem: {request.gpu_metrics.memory_utilization:.1f}%, compute: {request.gpu_metrics.compute_utilization:.1f}%)"
    cost = request.cost_metrics
    if cost is not None and cost.budget_per_hour > 0:
        msg += f" (budget usage: {(cost.current_cost_per_hour / cost.budget_per_hour) * 100:.1f}%)"
    return msg, metric, value, target


def _record_event(
    state: AlgorithmState, ctx: ScalingContext, current: int, desired: int, now: float
) -> tuple[ScaleEvent, ...]:
    periods = [p.period_seconds for p in (*ctx.scale_up_policies, *ctx.scale_down_policies)]
    keep = max(periods, default=0)
    events = tuple(e for e in state.scale_events if e.t > now - keep)
    if desired != current:
        events += (ScaleEvent(now, desired - current),)
    return events


def budscaler_pipeline(
    ctx: ScalingContext,
    request: ScalingRequest,
    *,
    now: float,
    quirks: QuirkSet,
    state: AlgorithmState,
) -> Recommendation:
    """One BudScaler decision without quirk attribution (see compute_budscaler_recommendation)."""
    if not ctx.metric_sources:
        raise RecommendationError("at least one metric source is required")
    cur = request.current_replicas
    steps: list[Step] = []
    reason = Reason.NO_METRICS

    def step(name: str, before: int, after: int, why: Reason) -> int:
        nonlocal reason
        steps.append(Step(name, after))
        if after != before:
            reason = why
        return after

    # Step 1: metrics
    metric = calculate_metric_based_recommendation(ctx, request, quirks)
    steps.append(Step("metric", metric.replicas))
    reason = metric.reason
    value = metric.replicas
    # Step 2: GPU (may only raise)
    if ctx.gpu.enabled and request.gpu_metrics is not None:
        value = step("gpu", value, max(value, calculate_gpu_based_recommendation(ctx, request)), Reason.GPU)
    # Step 3: prediction blend (not for schedule hints)
    pred = request.prediction_data
    if ctx.prediction_enabled and pred is not None and not pred.is_schedule_hint:
        value = step("prediction", value, apply_prediction_adjustment(value, request), Reason.PREDICTION)
    # Step 4: schedule hint floor
    if pred is not None and pred.is_schedule_hint:
        value = step("schedule_hint", value, max(value, pred.predicted_replicas), Reason.SCHEDULE_HINT_FLOOR)
    # Step 5: cost ceiling
    if ctx.cost_config_present and request.cost_metrics is not None:
        value = step(
            "cost", value, apply_cost_constraints(value, cur, request.cost_metrics), Reason.COST_CEILING
        )
    # Step 6: bounds
    bounded = apply_constraints(value, ctx.min_replicas, ctx.max_replicas)
    value = step("bounds", value, bounded, Reason.MIN_REPLICAS if bounded > value else Reason.MAX_REPLICAS)
    # Step 7: policies
    if value != cur:
        limited, why = apply_policies(ctx, cur, value, quirks=quirks, events=state.scale_events, now=now)
        value = step("policies", value, limited, why)
    # Step 7.5: starting-pod gate (BudScaler never sets panic mode, so bypassGateOnPanic never applies)
    if starting_pod_gate_holds(
        ctx, request.ready_pod_count, request.starting_pod_count, cur, value, in_panic=False
    ):
        value = step("starting_pod_gate", value, cur, Reason.STARTING_POD_GATE)
    # Step 8: stabilization
    stab = apply_stabilization(
        value, cur, request.last_scale_time, ctx, now=now, quirks=quirks, history=state.recommendations
    )
    value = step("stabilization", value, stab.replicas, Reason.STABILIZATION)

    message, metric_used, metric_value, metric_target = _message(ctx, request, value)
    direction = (
        ScaleDirection.UP if value > cur else ScaleDirection.DOWN if value < cur else ScaleDirection.NONE
    )
    new_state = AlgorithmState(
        scale_events=_record_event(state, ctx, cur, value, now),
        recommendations=stab.history,
        metric_samples=state.metric_samples,
        in_panic_mode=False,
    )
    return Recommendation(
        desired_replicas=value,
        direction=direction,
        reason=reason,
        message=message,
        in_panic_mode=False,  # BudScaler never sets panic mode
        metric_used=metric_used,
        current_metric_value=metric_value,
        target_metric_value=metric_target,
        confidence=1.0,
        steps=tuple(steps),
        state=new_state,
    )
