"""AIBrix's KPA and APA algorithms.

upstream: vllm-project/aibrix pkg/controller/podautoscaler/algorithm/kpa.go
(KPAAlgorithm.ComputeRecommendation, shouldEnterPanicMode, computeTargetReplicas),
algorithm/apa.go (APAAlgorithm.computeTargetReplicas), algorithm/algorithm.go applyConstraints.

Upstream's production context (context.go baseScalingContext) returns 0 from GetMaxPanicPods and
ignores SetMaxPanicPods, and the context is rebuilt on every reconcile: panic mode is re-decided
from scratch each time and never holds a scale (Quirk.AIBRIX_PANIC_STATELESS). The corrected
path keeps a per-PodAutoscaler PanicState and follows Knative: panic when the panic-window pod
count is at least PanicThreshold x ready pods, lasting a stable window past the last time it was,
and no scale-down below the highest panic count meanwhile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from model.quirks import Quirk, QuirkSet
from sim.decisions.knative.decider import go_int32


def _div(a: float, b: float) -> float:
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _max(a: float, b: float) -> float:
    return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


def _min(a: float, b: float) -> float:
    return math.nan if math.isnan(a) or math.isnan(b) else min(a, b)


@dataclass(frozen=True)
class KpaCounts:
    desired_stable: int
    desired_panic: int
    dppc: float
    ready: float


def kpa_counts(
    current: float,
    *,
    stable: float,
    panic: float,
    target: float,
    max_scale_up_rate: float,
    max_scale_down_rate: float,
    up_tolerance: float,
    down_tolerance: float,
    activation_scale: int = 1,
) -> KpaCounts:
    """The rate-limited stable and panic pod counts. upstream: kpa.go computeTargetReplicas (first
    half: tolerances keep the current count, ready pods may be 0, scale-up is at least 1 pod)."""
    ready = max(0.0, current)
    max_up = _max(1.0, _ceil(max_scale_up_rate * ready))
    max_down = _floor(_div(ready, max_scale_down_rate))
    up_t = target * (1 + up_tolerance)
    down_t = target * (1 - down_tolerance)
    dspc = _ceil(_div(stable, target)) if (stable > up_t or stable < down_t) else current
    dppc = _ceil(_div(panic, target)) if (panic > up_t or panic < down_t) else current
    ds = go_int32(_min(_max(dspc, max_down), max_up))
    dp = go_int32(_min(_max(dppc, max_down), max_up))
    if activation_scale > 1:
        if activation_scale > ds and ds > 0:
            ds = activation_scale
        if activation_scale > dp and dp > 0:
            dp = activation_scale
    return KpaCounts(ds, dp, dppc, ready)


def kpa_compute_target_replicas(
    current: float,
    *,
    stable: float,
    panic: float,
    target: float,
    max_scale_up_rate: float,
    max_scale_down_rate: float,
    up_tolerance: float,
    down_tolerance: float,
    in_panic: bool,
    max_panic_pods: int,
    activation_scale: int = 1,
) -> tuple[int, int]:
    """(desired, max panic pods after). upstream: kpa.go computeTargetReplicas (constraints not applied)."""
    c = kpa_counts(
        current,
        stable=stable,
        panic=panic,
        target=target,
        max_scale_up_rate=max_scale_up_rate,
        max_scale_down_rate=max_scale_down_rate,
        up_tolerance=up_tolerance,
        down_tolerance=down_tolerance,
        activation_scale=activation_scale,
    )
    desired = c.desired_stable
    if in_panic:
        desired = max(desired, c.desired_panic)
        if desired > max_panic_pods:
            max_panic_pods = desired
        desired = max_panic_pods
    return desired, max_panic_pods


def should_enter_panic(stable: float, panic: float, threshold: float) -> bool:
    """upstream: kpa.go shouldEnterPanicMode (a zero stable value counts as panic)."""
    if stable <= 0:
        return True
    return panic / stable > threshold


@dataclass(frozen=True)
class PanicState:
    """Corrected only: when the PodAutoscaler last was over the panic threshold, and the highest
    panic-mode count since."""

    panic_time: float | None = None
    max_panic_pods: int = 0


@dataclass(frozen=True)
class KpaRecommendation:
    replicas: int
    in_panic: bool
    state: PanicState
    quirk_triggered: bool = False


def kpa_recommendation(
    current: int,
    *,
    stable: float,
    panic: float,
    target: float,
    max_scale_up_rate: float,
    max_scale_down_rate: float,
    up_tolerance: float,
    down_tolerance: float,
    panic_threshold: float,
    stable_window: float,
    min_replicas: int,
    max_replicas: int,
    state: PanicState,
    now: float,
    quirks: QuirkSet,
) -> KpaRecommendation:
    """upstream: kpa.go ComputeRecommendation (+ applyConstraints)."""
    args: dict[str, Any] = {
        "stable": stable,
        "panic": panic,
        "target": target,
        "max_scale_up_rate": max_scale_up_rate,
        "max_scale_down_rate": max_scale_down_rate,
        "up_tolerance": up_tolerance,
        "down_tolerance": down_tolerance,
    }
    if Quirk.AIBRIX_PANIC_STATELESS in quirks:
        in_panic = should_enter_panic(stable, panic, panic_threshold)
        desired, _ = kpa_compute_target_replicas(float(current), in_panic=in_panic, max_panic_pods=0, **args)
        # the quirk shows when panic mode scales down (a held panic never would)
        bounded = apply_constraints(desired, min_replicas, max_replicas)
        return KpaRecommendation(bounded, in_panic, PanicState(), in_panic and bounded < current)
    # corrected: Knative's panic (autoscaler.go Scale) on the isOverPanicThreshold upstream computes
    c = kpa_counts(float(current), **args)
    over = _div(c.dppc, max(1.0, c.ready)) >= panic_threshold
    panic_time, max_panic = state.panic_time, state.max_panic_pods
    if over:
        panic_time = now
    elif panic_time is not None and panic_time + stable_window < now:
        panic_time, max_panic = None, 0
    desired = c.desired_stable
    if panic_time is not None:
        desired = max(desired, c.desired_panic)
        max_panic = max(max_panic, desired)
        desired = max_panic
    return KpaRecommendation(
        apply_constraints(desired, min_replicas, max_replicas),
        panic_time is not None,
        PanicState(panic_time, max_panic),
    )


def apa_compute_target_replicas(
    current: float,
    *,
    target: float,
    use_per_pod: float,
    up_tolerance: float,
    down_tolerance: float,
    max_scale_up_rate: float,
    max_scale_down_rate: float,
) -> int:
    """upstream: apa.go computeTargetReplicas: scale by usage/target outside the tolerance band,
    at most x MaxScaleUpRate up and / MaxScaleDownRate down; a target <= 0 keeps the count."""
    if target <= 0:
        return go_int32(current)
    ratio = use_per_pod / target
    if ratio > 1 + up_tolerance:
        cap = go_int32(_ceil(max_scale_up_rate * current))
        return min(go_int32(_ceil(current * ratio)), cap)
    if ratio < 1 - down_tolerance:
        floor = go_int32(_floor(_div(current, max_scale_down_rate)))
        return max(go_int32(_ceil(current * ratio)), floor)
    return go_int32(current)


def apply_constraints(replicas: int, min_replicas: int, max_replicas: int) -> int:
    """upstream: algorithm.go applyConstraints."""
    if replicas < min_replicas:
        return min_replicas
    if replicas > max_replicas:
        return max_replicas
    return replicas
