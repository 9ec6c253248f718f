"""HPA normalization: turning the metrics' proposal into the replica count actually applied.

Two paths, as in kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go:
- legacy (spec.behavior nil): a downscale stabilization window over the recommendation log, then a
  clamp to [min, min(max, scaleUpLimit)];
- behavior: per-direction stabilization windows, then Pods/Percent rate policies over the scale-event
  history. Defaults follow pkg/apis/autoscaling/v2/defaults.go.

All functions are pure: histories come in as tuples and the updated history is returned."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sim.decisions.hpa.quantity import parse_quantity
from sim.decisions.hpa.replica_calculator import MAX_INT32

MIN_INT32 = -(2**31)

DEFAULT_SCALE_UP_LIMIT_FACTOR = 2.0
DEFAULT_SCALE_UP_LIMIT_MINIMUM = 4.0
DEFAULT_DOWNSCALE_STABILIZATION_WINDOW = 300.0


class PolicyType(StrEnum):
    PODS = "Pods"
    PERCENT = "Percent"


class SelectPolicy(StrEnum):
    MAX = "Max"
    MIN = "Min"
    DISABLED = "Disabled"


class LimitReason(StrEnum):
    """ScalingLimited reasons (horizontal.go)."""

    DESIRED_WITHIN_RANGE = "DesiredWithinRange"
    SCALE_UP_LIMIT = "ScaleUpLimit"
    TOO_MANY_REPLICAS = "TooManyReplicas"
    SCALE_DOWN_LIMIT = "ScaleDownLimit"
    TOO_FEW_REPLICAS = "TooFewReplicas"


LIMIT_MESSAGES: dict[LimitReason, str] = {
    LimitReason.DESIRED_WITHIN_RANGE: "the desired count is within the acceptable range",
    LimitReason.SCALE_UP_LIMIT: "the desired replica count is increasing faster than the maximum scale rate",
    LimitReason.TOO_MANY_REPLICAS: "the desired replica count is more than the maximum replica count",
    LimitReason.SCALE_DOWN_LIMIT: "the desired replica count is decreasing faster than the maximum scale rate",
    LimitReason.TOO_FEW_REPLICAS: "the desired replica count is less than the minimum replica count",
}


@dataclass(frozen=True)
class Recommendation:
    """One entry of the controller's recommendation log (timestampedRecommendation)."""

    replicas: int
    timestamp: float


@dataclass(frozen=True)
class ScaleEvent:
    """One applied scale change (timestampedScaleEvent); `outdated` marks a slot for reuse."""

    replica_change: int
    timestamp: float
    outdated: bool = False


@dataclass(frozen=True)
class ScalingPolicy:
    type: PolicyType
    value: int
    period_seconds: int


@dataclass(frozen=True)
class ScalingRules:
    """HPAScalingRules after defaulting; `stabilization_window_seconds` None only for scale-down
    before the controller fills in its --horizontal-pod-autoscaler-downscale-stabilization flag."""

    stabilization_window_seconds: int | None
    select_policy: SelectPolicy
    policies: tuple[ScalingPolicy, ...]
    tolerance: float | None = None


@dataclass(frozen=True)
class Behavior:
    scale_up: ScalingRules
    scale_down: ScalingRules


@dataclass(frozen=True)
class Limited:
    """A normalization step's result: replicas plus the ScalingLimited reason and message."""

    replicas: int
    reason: str
    message: str


# --- defaults ---------------------------------------------------------------------------------


def default_scale_up_rules() -> ScalingRules:
    # upstream: pkg/apis/autoscaling/v2/defaults.go GenerateHPAScaleUpRules
    return ScalingRules(
        stabilization_window_seconds=0,
        select_policy=SelectPolicy.MAX,
        policies=(ScalingPolicy(PolicyType.PODS, 4, 15), ScalingPolicy(PolicyType.PERCENT, 100, 15)),
    )


def default_scale_down_rules() -> ScalingRules:
    # upstream: pkg/apis/autoscaling/v2/defaults.go GenerateHPAScaleDownRules
    return ScalingRules(
        stabilization_window_seconds=None,
        select_policy=SelectPolicy.MAX,
        policies=(ScalingPolicy(PolicyType.PERCENT, 100, 15),),
    )


def rules_from_wire(wire: Mapping[str, Any] | None, defaults: ScalingRules) -> ScalingRules:
    """Fill the unset fields of one direction's wire-form rules from the defaults (copyHPAScalingRules)."""
    # upstream: pkg/apis/autoscaling/v2/defaults.go copyHPAScalingRules
    if wire is None:
        return defaults
    rules = defaults
    if wire.get("selectPolicy") is not None:
        rules = replace(rules, select_policy=SelectPolicy(wire["selectPolicy"]))
    if wire.get("stabilizationWindowSeconds") is not None:
        rules = replace(rules, stabilization_window_seconds=int(wire["stabilizationWindowSeconds"]))
    if wire.get("policies") is not None:
        rules = replace(
            rules,
            policies=tuple(
                ScalingPolicy(PolicyType(p["type"]), int(p["value"]), int(p["periodSeconds"]))
                for p in wire["policies"]
            ),
        )
    if wire.get("tolerance") is not None:
        rules = replace(rules, tolerance=float(parse_quantity(wire["tolerance"])))
    return rules


def behavior_from_wire(wire: Mapping[str, Any] | None, downscale_window: float) -> Behavior | None:
    """spec.behavior -> defaulted Behavior (None keeps the legacy path). The scale-down window, when
    unset, becomes the controller's downscale stabilization window (maybeInitScaleDownStabilizationWindow)."""
    # upstream: pkg/apis/autoscaling/v2/defaults.go SetDefaults_HorizontalPodAutoscalerBehavior
    # upstream: pkg/controller/podautoscaler/horizontal.go maybeInitScaleDownStabilizationWindow
    if wire is None:
        return None
    up = rules_from_wire(wire.get("scaleUp"), default_scale_up_rules())
    down = rules_from_wire(wire.get("scaleDown"), default_scale_down_rules())
    if down.stabilization_window_seconds is None:
        down = replace(down, stabilization_window_seconds=int(downscale_window))
    return Behavior(up, down)


# --- legacy path (behavior nil) -----------------------------------------------------------------


def stabilize_recommendation(
    recommendations: Sequence[Recommendation], prenormalized: int, window: float, now: float
) -> tuple[int, tuple[Recommendation, ...]]:
    """Max over the recommendations not older than the window; the new one replaces the LAST stale one."""
    # upstream: pkg/controller/podautoscaler/horizontal.go stabilizeRecommendation
    cutoff = now - window
    best = prenormalized
    old_index: int | None = None
    for i, rec in enumerate(recommendations):
        if rec.timestamp < cutoff:
            old_index = i
        elif rec.replicas > best:
            best = rec.replicas
    log = list(recommendations)
    entry = Recommendation(prenormalized, now)
    if old_index is not None:
        log[old_index] = entry
    else:
        log.append(entry)
    return best, tuple(log)


def calculate_scale_up_limit(current: int, factor: float, minimum: float) -> int:
    """max(factor x current, minimum): the legacy cap against bogus CPU spikes."""
    # upstream: pkg/controller/podautoscaler/horizontal.go calculateScaleUpLimit
    return int(max(factor * float(current), minimum))


def convert_desired_replicas_with_rules(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    scale_up_limit_factor: float = DEFAULT_SCALE_UP_LIMIT_FACTOR,
    scale_up_limit_minimum: float = DEFAULT_SCALE_UP_LIMIT_MINIMUM,
) -> Limited:
    """Clamp to [min, min(max, scaleUpLimit)] and say which bound bit."""
    # upstream: pkg/controller/podautoscaler/horizontal.go convertDesiredReplicasWithRules
    scale_up_limit = calculate_scale_up_limit(current, scale_up_limit_factor, scale_up_limit_minimum)
    if max_replicas > scale_up_limit:
        maximum, reason = scale_up_limit, LimitReason.SCALE_UP_LIMIT
    else:
        maximum, reason = max_replicas, LimitReason.TOO_MANY_REPLICAS
    if desired < min_replicas:
        return _limited(min_replicas, LimitReason.TOO_FEW_REPLICAS)
    if desired > maximum:
        return _limited(maximum, reason)
    return _limited(desired, LimitReason.DESIRED_WITHIN_RANGE)


# --- behavior path ------------------------------------------------------------------------------


def stabilize_recommendation_with_behaviors(
    recommendations: Sequence[Recommendation],
    current: int,
    desired: int,
    scale_up_window: float,
    scale_down_window: float,
    now: float,
) -> tuple[int, str, str, tuple[Recommendation, ...]]:
    """Clamp `current` into [min of recent recs (up window), max of recent recs (down window)].

    Returns (recommendation, reason, message, new log). The new recommendation replaces the last
    entry older than BOTH windows, else is appended."""
    # upstream: pkg/controller/podautoscaler/horizontal.go stabilizeRecommendationWithBehaviors
    up_rec = desired
    down_rec = desired
    up_cutoff = now - scale_up_window
    down_cutoff = now - scale_down_window
    old_index: int | None = None
    for i, rec in enumerate(recommendations):
        if rec.timestamp > up_cutoff:
            up_rec = min(rec.replicas, up_rec)
        if rec.timestamp > down_cutoff:
            down_rec = max(rec.replicas, down_rec)
        if rec.timestamp < up_cutoff and rec.timestamp < down_cutoff:
            old_index = i
    recommendation = current
    if recommendation < up_rec:
        recommendation = up_rec
    if recommendation > down_rec:
        recommendation = down_rec
    log = list(recommendations)
    entry = Recommendation(desired, now)
    if old_index is not None:
        log[old_index] = entry
    else:
        log.append(entry)
    if desired >= current:
        reason = "ScaleUpStabilized"
        message = (
            "recent recommendations were lower than current one, applying the lowest recent recommendation"
        )
    else:
        reason = "ScaleDownStabilized"
        message = (
            "recent recommendations were higher than current one, applying the highest recent recommendation"
        )
    return recommendation, reason, message, tuple(log)


def replicas_change_per_period(period_seconds: float, events: Sequence[ScaleEvent], now: float) -> int:
    """Sum of the changes of the events strictly younger than the period."""
    # upstream: pkg/controller/podautoscaler/horizontal.go getReplicasChangePerPeriod
    cutoff = now - period_seconds
    return sum(e.replica_change for e in events if e.timestamp > cutoff)


def calculate_scale_up_limit_with_scaling_rules(
    current: int,
    scale_up_events: Sequence[ScaleEvent],
    scale_down_events: Sequence[ScaleEvent],
    rules: ScalingRules,
    now: float,
) -> int:
    """Highest replica count the scale-up policies allow now (before the raise-to-current clamp)."""
    # upstream: pkg/controller/podautoscaler/horizontal.go calculateScaleUpLimitWithScalingRules
    if rules.select_policy is SelectPolicy.DISABLED:
        return current
    pick_min = rules.select_policy is SelectPolicy.MIN
    result = MAX_INT32 if pick_min else MIN_INT32
    for policy in rules.policies:
        added = replicas_change_per_period(policy.period_seconds, scale_up_events, now)
        deleted = replicas_change_per_period(policy.period_seconds, scale_down_events, now)
        period_start = current - added + deleted
        if policy.type is PolicyType.PODS:
            proposed = period_start + policy.value
        else:
            proposed = math.ceil(float(period_start) * (1 + float(policy.value) / 100))
        result = min(result, proposed) if pick_min else max(result, proposed)
    return result


def calculate_scale_down_limit_with_behaviors(
    current: int,
    scale_up_events: Sequence[ScaleEvent],
    scale_down_events: Sequence[ScaleEvent],
    rules: ScalingRules,
    now: float,
) -> int:
    """Lowest replica count the scale-down policies allow now (before the lower-to-current clamp)."""
    # upstream: pkg/controller/podautoscaler/horizontal.go calculateScaleDownLimitWithBehaviors
    if rules.select_policy is SelectPolicy.DISABLED:
        return current
    pick_min = rules.select_policy is SelectPolicy.MIN  # "Min" change = the highest replica floor
    result = MIN_INT32 if pick_min else MAX_INT32
    for policy in rules.policies:
        added = replicas_change_per_period(policy.period_seconds, scale_up_events, now)
        deleted = replicas_change_per_period(policy.period_seconds, scale_down_events, now)
        period_start = current - added + deleted
        if policy.type is PolicyType.PODS:
            proposed = period_start - policy.value
        else:
            proposed = int(float(period_start) * (1 - float(policy.value) / 100))
        result = max(result, proposed) if pick_min else min(result, proposed)
    return result


def convert_desired_replicas_with_behavior_rate(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    behavior: Behavior,
    scale_up_events: Sequence[ScaleEvent],
    scale_down_events: Sequence[ScaleEvent],
    now: float,
) -> Limited:
    """Apply the rate policies and the min/max bounds to an (already stabilized) recommendation."""
    # upstream: pkg/controller/podautoscaler/horizontal.go convertDesiredReplicasWithBehaviorRate
    if desired > current:
        limit = calculate_scale_up_limit_with_scaling_rules(
            current, scale_up_events, scale_down_events, behavior.scale_up, now
        )
        limit = max(limit, current)  # no further scale-up until the events age out
        if max_replicas > limit:
            maximum, reason = limit, LimitReason.SCALE_UP_LIMIT
        else:
            maximum, reason = max_replicas, LimitReason.TOO_MANY_REPLICAS
        if desired > maximum:
            return _limited(maximum, reason)
    elif desired < current:
        limit = calculate_scale_down_limit_with_behaviors(
            current, scale_up_events, scale_down_events, behavior.scale_down, now
        )
        limit = min(limit, current)
        if min_replicas < limit:
            minimum, reason = limit, LimitReason.SCALE_DOWN_LIMIT
        else:
            minimum, reason = min_replicas, LimitReason.TOO_FEW_REPLICAS
        if desired < minimum:
            return _limited(minimum, reason)
    return _limited(desired, LimitReason.DESIRED_WITHIN_RANGE)


def longest_policy_period(rules: ScalingRules) -> int:
    # upstream: pkg/controller/podautoscaler/horizontal.go getLongestPolicyPeriod
    return max((p.period_seconds for p in rules.policies), default=0)


def mark_scale_events_outdated(
    events: Sequence[ScaleEvent], longest_period: float, now: float
) -> tuple[ScaleEvent, ...]:
    """Flag events older than every policy period so their slots can be reused."""
    # upstream: pkg/controller/podautoscaler/horizontal.go markScaleEventsOutdated
    cutoff = now - longest_period
    return tuple(replace(e, outdated=True) if e.timestamp < cutoff else e for e in events)


def store_scale_event(
    behavior: Behavior | None,
    scale_up_events: Sequence[ScaleEvent],
    scale_down_events: Sequence[ScaleEvent],
    prev_replicas: int,
    new_replicas: int,
    now: float,
) -> tuple[tuple[ScaleEvent, ...], tuple[ScaleEvent, ...]]:
    """Record an applied rescale in its direction's history (only when behavior is set).

    The new event overwrites the LAST outdated one, else is appended. Returns (up, down)."""
    # upstream: pkg/controller/podautoscaler/horizontal.go storeScaleEvent
    up, down = tuple(scale_up_events), tuple(scale_down_events)
    if behavior is None:
        return up, down
    if new_replicas > prev_replicas:
        return _store(up, behavior.scale_up, new_replicas - prev_replicas, now), down
    return up, _store(down, behavior.scale_down, prev_replicas - new_replicas, now)


def _store(
    events: tuple[ScaleEvent, ...], rules: ScalingRules, change: int, now: float
) -> tuple[ScaleEvent, ...]:
    marked = list(mark_scale_events_outdated(events, longest_policy_period(rules), now))
    old_index: int | None = None
    for i, event in enumerate(marked):
        if event.outdated:
            old_index = i
    entry = ScaleEvent(change, now, False)
    if old_index is not None:
        marked[old_index] = entry
    else:
        marked.append(entry)
    return tuple(marked)


def _limited(replicas: int, reason: LimitReason) -> Limited:
    return Limited(replicas, reason.value, LIMIT_MESSAGES[reason])
