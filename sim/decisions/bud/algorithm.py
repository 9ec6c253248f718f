"""Helpers shared by the KPA and BudScaler ports, and the strategy dispatch.

upstream: pkg/controller/budaiscaler/algorithm/algorithm.go (CalculateEffectiveReplicas,
ShouldGateScaleUp, DefaultAlgorithmFactory.Create) and the identical applyStabilization of
budscaler.go and kpa.go.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud.context import ScalingContext
from sim.decisions.bud.types import MetricSourceSpec, TimedRecommendation

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def go_int32(x: float) -> int:
    """Go's int32(float64) conversion: truncation; NaN/±Inf/out of range give MinInt32 (amd64)."""
    if not math.isfinite(x) or x < _INT32_MIN or x >= _INT32_MAX + 1:
        return _INT32_MIN
    return int(x)


def go_round(x: float) -> float:
    """math.Round: half away from zero (Python's round() is half-to-even)."""
    if not math.isfinite(x):
        return x
    return math.copysign(math.floor(abs(x) + 0.5), x)


def calculate_effective_replicas(ready_pods: int, starting_pods: int, starting_pod_weight: float) -> float:
    """ready + weight * starting. upstream: algorithm.go CalculateEffectiveReplicas."""
    return float(ready_pods) + starting_pod_weight * float(starting_pods)


def should_gate_scale_up(
    ready_pods: int, starting_pods: int, max_starting_pods: int, max_starting_pod_percent: int
) -> bool:
    """True when too many pods are still starting to allow a scale-up.

    upstream: algorithm.go ShouldGateScaleUp — gate if starting >= maxStartingPods (when > 0) or
    int32(starting/(ready+starting)*100) >= maxStartingPodPercent (when > 0).
    """
    if max_starting_pods == 0 and max_starting_pod_percent == 0:
        return False
    if max_starting_pods > 0 and starting_pods >= max_starting_pods:
        return True
    if max_starting_pod_percent > 0:
        total = ready_pods + starting_pods
        if total > 0:
            percent = go_int32((float(starting_pods) / float(total)) * 100)
            if percent >= max_starting_pod_percent:
                return True
    return False


def baseline_replicas(ready_pods: int, starting_pods: int, starting_pod_weight: float) -> int:
    """int32(ceil(effective replicas)), at least 1: the scale-up baseline counting starting pods."""
    effective = calculate_effective_replicas(ready_pods, starting_pods, starting_pod_weight)
    baseline = go_int32(math.ceil(effective)) if math.isfinite(effective) else go_int32(effective)
    return max(baseline, 1)


# --- KV cache fraction vs percent (Quirk.KV_CACHE_FRACTION_VS_PERCENT) ---

KV_CACHE_FRACTION_METRICS: frozenset[str] = frozenset(
    {
        "vllm:gpu_cache_usage_perc",
        "vllm:kv_cache_usage_perc",
        "gpu_cache_usage_perc",
        "vllm_gpu_cache_usage_perc",
    }
)
"""Metric names whose values vLLM exports as a 0-1 fraction despite the `_perc` suffix."""
_VLLM_ALIASES_TO_KV = frozenset({"gpu_cache_usage", "kv_cache_utilization", "kv_cache_usage_perc"})
"""upstream: pkg/metrics/pod_fetcher.go mapVLLMMetricName maps these to vllm:gpu_cache_usage_perc."""


def is_kv_cache_fraction(source: MetricSourceSpec) -> bool:
    if source.target_metric in KV_CACHE_FRACTION_METRICS:
        return True
    return source.engine_type == "vllm" and source.target_metric in _VLLM_ALIASES_TO_KV


def metric_value_for_target(source: MetricSourceSpec, value: float, target: float, quirks: QuirkSet) -> float:
    """The observed value in the target's unit.

    Upstream divides the 0-1 KV-cache fraction by a target written as a percent ("70"), so the ratio is
    100x too small and the scaler always scales down. Corrected: when the metric is a KV-cache fraction
    and the target is above 1 (clearly a percent), the fraction is read as percent (x100). A target
    <= 1 is taken as a fraction already and left alone.
    """
    if Quirk.KV_CACHE_FRACTION_VS_PERCENT in quirks:
        return value
    if is_kv_cache_fraction(source) and target > 1.0:
        return value * 100.0
    return value


# --- stabilization ---


@dataclass(frozen=True)
class StabilizationResult:
    replicas: int
    history: tuple[TimedRecommendation, ...]


def apply_stabilization(
    desired: int,
    current_replicas: int,
    last_scale_time: float | None,
    ctx: ScalingContext,
    *,
    now: float,
    quirks: QuirkSet,
    history: tuple[TimedRecommendation, ...] = (),
) -> StabilizationResult:
    """Hold replicas while a stabilization window is open.

    upstream: budscaler.go / kpa.go applyStabilization — if status.lastScaleTime is set and fewer than
    the direction's window seconds have elapsed since it, keep the current replicas
    (Quirk.STABILIZATION_FROM_LAST_SCALE_TIME). Corrected (Kubernetes HPA style): scale up only to the
    lowest recommendation of the scale-up window, down only to the highest of the scale-down window,
    over the recommendations this scaler made (kept in AlgorithmState).
    """
    up_w = ctx.scale_up_stabilization_seconds()
    down_w = ctx.scale_down_stabilization_seconds()
    keep = max(up_w, down_w)
    cut = now - keep
    new_history = (*[r for r in history if r.t > cut], TimedRecommendation(now, desired))

    if Quirk.STABILIZATION_FROM_LAST_SCALE_TIME in quirks:
        if last_scale_time is None:
            return StabilizationResult(desired, new_history)
        elapsed = now - last_scale_time
        if desired > current_replicas and elapsed < up_w:
            return StabilizationResult(current_replicas, new_history)
        if desired < current_replicas and elapsed < down_w:
            return StabilizationResult(current_replicas, new_history)
        return StabilizationResult(desired, new_history)

    up_rec = desired
    down_rec = desired
    up_cut = now - up_w
    down_cut = now - down_w
    for r in history:
        if r.t > up_cut:
            up_rec = min(up_rec, r.replicas)
        if r.t > down_cut:
            down_rec = max(down_rec, r.replicas)
    result = current_replicas
    if result < up_rec:
        result = up_rec
    if result > down_rec:
        result = down_rec
    return StabilizationResult(result, new_history)
