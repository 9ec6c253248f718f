"""Knative's autoscaler configuration, the PodAutoscaler annotations and what the reconciler derives
from them: metric target, windows, decider spec, scale bounds, initial scale.

upstream: knative/serving pkg/autoscaler/config/config.go (defaults of config-autoscaler),
pkg/apis/autoscaling/register.go (annotation keys and their alternates),
pkg/apis/autoscaling/v1alpha1/pa_lifecycle.go (ScaleBounds, Target, Window, ...),
pkg/reconciler/autoscaling/resources/target.go ResolveMetricTarget,
pkg/reconciler/autoscaling/resources/metric.go StableWindow/MakeMetric,
pkg/reconciler/autoscaling/kpa/resources/decider.go MakeDecider/GetInitialScale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from sim.decisions.bud.goparse import parse_duration_seconds, parse_float, parse_int32

GROUP = "autoscaling.knative.dev"
"""upstream: register.go GroupName (annotation prefix)."""
KPA_CLASS = "kpa.autoscaling.knative.dev"
HPA_CLASS = "hpa.autoscaling.knative.dev"
TARGET_MIN = 0.01
"""upstream: register.go TargetMin."""
BUCKET_SIZE = 1.0
"""upstream: pkg/autoscaler/config/config.go BucketSize (collector bucket granularity)."""
TICK_INTERVAL = 2.0
"""upstream: pkg/autoscaler/scaling/multiscaler.go tickInterval (decider period, delay-window buckets)."""
SCRAPE_INTERVAL = 1.0
"""upstream: pkg/autoscaler/metrics/collector.go scrapeTickInterval."""
PROGRESS_DEADLINE_ANNOTATION = "serving.knative.dev/progress-deadline"


class Metric(StrEnum):
    CONCURRENCY = "concurrency"
    RPS = "rps"
    CPU = "cpu"
    MEMORY = "memory"


class Reachability(StrEnum):
    REACHABLE = "Reachable"
    UNREACHABLE = "Unreachable"
    UNKNOWN = ""


def _keys(primary: str, *alternates: str) -> tuple[str, ...]:
    return (f"{GROUP}/{primary}", *(f"{GROUP}/{a}" for a in alternates))


# upstream: register.go KeyPriority lists (first present key wins)
CLASS_KEYS = _keys("class")
METRIC_KEYS = _keys("metric")
TARGET_KEYS = _keys("target")
TARGET_UTILIZATION_KEYS = _keys("target-utilization-percentage", "targetUtilizationPercentage")
TARGET_BURST_CAPACITY_KEYS = _keys("target-burst-capacity", "targetBurstCapacity")
WINDOW_KEYS = _keys("window")
PANIC_WINDOW_PERCENTAGE_KEYS = _keys("panic-window-percentage", "panicWindowPercentage")
PANIC_THRESHOLD_PERCENTAGE_KEYS = _keys("panic-threshold-percentage", "panicThresholdPercentage")
MIN_SCALE_KEYS = _keys("min-scale", "minScale")
MAX_SCALE_KEYS = _keys("max-scale", "maxScale")
INITIAL_SCALE_KEYS = _keys("initial-scale", "initialScale")
SCALE_DOWN_DELAY_KEYS = _keys("scale-down-delay", "scaleDownDelay")
ACTIVATION_SCALE_KEYS = _keys("activation-scale")
RETENTION_KEYS = _keys("scale-to-zero-pod-retention-period", "scaleToZeroPodRetentionPeriod")
AGGREGATION_KEYS = _keys("metric-aggregation-algorithm", "metricAggregationAlgorithm")
# The annotation keys a user may set, for validation and docs (primary spellings).
KNOWN_ANNOTATIONS: tuple[str, ...] = tuple(
    k[0]
    for k in (
        CLASS_KEYS,
        METRIC_KEYS,
        TARGET_KEYS,
        TARGET_UTILIZATION_KEYS,
        TARGET_BURST_CAPACITY_KEYS,
        WINDOW_KEYS,
        PANIC_WINDOW_PERCENTAGE_KEYS,
        PANIC_THRESHOLD_PERCENTAGE_KEYS,
        MIN_SCALE_KEYS,
        MAX_SCALE_KEYS,
        INITIAL_SCALE_KEYS,
        SCALE_DOWN_DELAY_KEYS,
        ACTIVATION_SCALE_KEYS,
        RETENTION_KEYS,
        AGGREGATION_KEYS,
    )
)


@dataclass(frozen=True)
class AutoscalerConfig:
    """config-autoscaler (and the progress deadline of config-deployment) with Knative's defaults.

    upstream: pkg/autoscaler/config/config.go defaultConfig; config/core/configmaps/autoscaler.yaml;
    pkg/deployment/config.go ProgressDeadlineDefault (600s)."""

    container_concurrency_target_fraction: float = 0.7
    container_concurrency_target_default: float = 100.0
    rps_target_default: float = 200.0
    target_utilization: float = 0.7
    target_burst_capacity: float = 211.0
    stable_window: float = 60.0
    panic_window_percentage: float = 10.0
    panic_threshold_percentage: float = 200.0
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    enable_scale_to_zero: bool = True
    scale_to_zero_grace_period: float = 30.0
    scale_to_zero_pod_retention_period: float = 0.0
    activator_capacity: float = 100.0
    initial_scale: int = 1
    allow_zero_initial_scale: bool = False
    min_scale: int = 0
    max_scale: int = 0
    scale_down_delay: float = 0.0
    progress_deadline: float = 600.0


# The Go field names (as conformance vectors and config overrides spell them) -> our fields; `_s`
# suffixed names are durations in seconds.
GO_FIELDS: dict[str, str] = {
    "ContainerConcurrencyTargetFraction": "container_concurrency_target_fraction",
    "ContainerConcurrencyTargetDefault": "container_concurrency_target_default",
    "RPSTargetDefault": "rps_target_default",
    "TargetUtilization": "target_utilization",
    "TargetBurstCapacity": "target_burst_capacity",
    "StableWindow_s": "stable_window",
    "PanicWindowPercentage": "panic_window_percentage",
    "PanicThresholdPercentage": "panic_threshold_percentage",
    "MaxScaleUpRate": "max_scale_up_rate",
    "MaxScaleDownRate": "max_scale_down_rate",
    "EnableScaleToZero": "enable_scale_to_zero",
    "ScaleToZeroGracePeriod_s": "scale_to_zero_grace_period",
    "ScaleToZeroPodRetentionPeriod_s": "scale_to_zero_pod_retention_period",
    "ActivatorCapacity": "activator_capacity",
    "InitialScale": "initial_scale",
    "AllowZeroInitialScale": "allow_zero_initial_scale",
    "MinScale": "min_scale",
    "MaxScale": "max_scale",
    "ScaleDownDelay_s": "scale_down_delay",
    "ProgressDeadline_s": "progress_deadline",
}


def config_with(base: AutoscalerConfig, overrides: Mapping[str, object]) -> AutoscalerConfig:
    """`base` with fields overridden by Go name (`StableWindow_s`) or by our name."""
    changes: dict[str, object] = {}
    for key, value in overrides.items():
        name = GO_FIELDS.get(key, key)
        if name not in AutoscalerConfig.__dataclass_fields__:
            raise KeyError(f"unknown autoscaler config field {key!r}")
        current = getattr(base, name)
        if isinstance(current, bool):
            changes[name] = bool(value)
        elif isinstance(current, int):
            changes[name] = int(value)  # type: ignore[call-overload]
        else:
            changes[name] = float(value)  # type: ignore[arg-type]
    return replace(base, **changes)  # type: ignore[arg-type]


def _get(annotations: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    """upstream: knative.dev/pkg/kmap KeyPriority.Get (first key present)."""
    for key in keys:
        if key in annotations:
            return str(annotations[key])
    return None


def annotation_float(annotations: Mapping[str, str], keys: tuple[str, ...]) -> float | None:
    """upstream: pa_lifecycle.go annotationFloat64 (unparseable -> not set)."""
    raw = _get(annotations, keys)
    return None if raw is None else parse_float(raw)


def annotation_int32(annotations: Mapping[str, str], keys: tuple[str, ...]) -> int | None:
    """upstream: pa_lifecycle.go annotationInt32 (strconv.ParseInt(s, 10, 32))."""
    raw = _get(annotations, keys)
    return None if raw is None else parse_int32(raw)


def annotation_duration(annotations: Mapping[str, str], keys: tuple[str, ...]) -> float | None:
    """upstream: pa_lifecycle.go annotationDuration (time.ParseDuration)."""
    raw = _get(annotations, keys)
    return None if raw is None else parse_duration_seconds(raw)


def pa_class(annotations: Mapping[str, str]) -> str:
    """upstream: pa_lifecycle.go Class (KPA by default)."""
    return _get(annotations, CLASS_KEYS) or KPA_CLASS


def pa_metric(annotations: Mapping[str, str]) -> str:
    """upstream: pa_lifecycle.go Metric: the annotation, else concurrency for KPA, cpu for HPA."""
    raw = _get(annotations, METRIC_KEYS)
    if raw is not None:
        return raw
    return Metric.CPU.value if pa_class(annotations) == HPA_CLASS else Metric.CONCURRENCY.value


def resolve_metric_target(
    annotations: Mapping[str, str], container_concurrency: int, config: AutoscalerConfig
) -> tuple[float, float]:
    """(target, total) per pod. upstream: resources/target.go ResolveMetricTarget."""
    metric = pa_metric(annotations)
    if metric == Metric.RPS:
        total = config.rps_target_default
        tu = config.target_utilization
    else:
        total = float(container_concurrency)
        if total == 0:
            total = config.container_concurrency_target_default
        tu = config.container_concurrency_target_fraction
    target = annotation_float(annotations, TARGET_KEYS)
    if target is not None:
        total = target
        if metric == Metric.CONCURRENCY and container_concurrency != 0:
            total = min(target, float(container_concurrency))
    tu_pct = annotation_float(annotations, TARGET_UTILIZATION_KEYS)
    if tu_pct is not None:
        tu = tu_pct / 100
    return max(TARGET_MIN, total * tu), total


def stable_window(annotations: Mapping[str, str], config: AutoscalerConfig) -> float:
    """upstream: resources/metric.go StableWindow."""
    sw = annotation_duration(annotations, WINDOW_KEYS)
    return config.stable_window if sw is None else sw


def windows(annotations: Mapping[str, str], config: AutoscalerConfig) -> tuple[float, float]:
    """(stable, panic) window seconds. upstream: resources/metric.go MakeMetric: the panic window is
    stable x percentage / 100, rounded to the second, at least one bucket."""
    sw = stable_window(annotations, config)
    pct = annotation_float(annotations, PANIC_WINDOW_PERCENTAGE_KEYS)
    if pct is None:
        pct = config.panic_window_percentage
    ns = int(sw * 1e9 * pct / 100.0)  # time.Duration(float64) truncates
    sec = (abs(ns) + 500_000_000) // 1_000_000_000  # Duration.Round(time.Second): half away from zero
    panic = float(math.copysign(sec, ns)) if ns else 0.0
    return sw, max(panic, BUCKET_SIZE)


def aggregation_weighted(annotations: Mapping[str, str]) -> bool:
    """upstream: v1alpha1 Metric.AggregationAlgorithm (weighted-exponential or its alternate)."""
    raw = _get(annotations, AGGREGATION_KEYS)
    return raw in ("weighted-exponential", "weightedExponential")


def scale_bounds(
    annotations: Mapping[str, str], reachability: Reachability, config: AutoscalerConfig
) -> tuple[int, int]:
    """(min, max); max 0 = unlimited. upstream: pa_lifecycle.go ScaleBounds (min 0 if Unreachable)."""
    lo = 0
    if reachability != Reachability.UNREACHABLE:
        lo = config.min_scale
        ann = annotation_int32(annotations, MIN_SCALE_KEYS)
        if ann is not None:
            lo = ann
    hi = config.max_scale
    ann = annotation_int32(annotations, MAX_SCALE_KEYS)
    if ann is not None:
        hi = ann
    return lo, hi


def initial_scale(annotations: Mapping[str, str], config: AutoscalerConfig) -> int:
    """upstream: kpa/resources/decider.go GetInitialScale (0 only if allow-zero-initial-scale)."""
    rev = annotation_int32(annotations, INITIAL_SCALE_KEYS)
    if rev is None or (rev == 0 and not config.allow_zero_initial_scale):
        return config.initial_scale
    return rev


def target_burst_capacity(annotations: Mapping[str, str], config: AutoscalerConfig) -> float:
    """upstream: kpa/kpa.go resolveTBC."""
    v = annotation_float(annotations, TARGET_BURST_CAPACITY_KEYS)
    return config.target_burst_capacity if v is None else v


def retention_period(
    annotations: Mapping[str, str], reachability: Reachability, config: AutoscalerConfig
) -> float:
    """upstream: kpa/scaler.go lastPodRetention (0 when the revision is unreachable)."""
    if reachability == Reachability.UNREACHABLE:
        return 0.0
    d = annotation_duration(annotations, RETENTION_KEYS)
    return config.scale_to_zero_pod_retention_period if d is None else d


def progress_deadline(annotations: Mapping[str, str], config: AutoscalerConfig) -> float:
    """upstream: pa_lifecycle.go ProgressDeadline (serving.knative.dev/progress-deadline) or config."""
    d = annotation_duration(annotations, (PROGRESS_DEADLINE_ANNOTATION,))
    return config.progress_deadline if d is None else d


@dataclass(frozen=True)
class DeciderSpec:
    """upstream: pkg/autoscaler/scaling/autoscaler.go DeciderSpec (durations in seconds)."""

    target_value: float
    total_value: float = 0.0
    target_burst_capacity: float = 0.0
    panic_threshold: float = 0.0
    max_scale_up_rate: float = 0.0
    max_scale_down_rate: float = 0.0
    activator_capacity: float = 0.0
    stable_window: float = 0.0
    scale_down_delay: float = 0.0
    initial_scale: int = 0
    reachable: bool = False
    activation_scale: int = 0
    scaling_metric: str = Metric.CONCURRENCY.value


def make_decider_spec(
    annotations: Mapping[str, str],
    config: AutoscalerConfig,
    *,
    container_concurrency: int = 0,
    reachability: Reachability = Reachability.REACHABLE,
) -> DeciderSpec:
    """upstream: kpa/resources/decider.go MakeDecider."""
    pt = annotation_float(annotations, PANIC_THRESHOLD_PERCENTAGE_KEYS)
    target, total = resolve_metric_target(annotations, container_concurrency, config)
    sdd = annotation_duration(annotations, SCALE_DOWN_DELAY_KEYS)
    act = annotation_int32(annotations, ACTIVATION_SCALE_KEYS)
    return DeciderSpec(
        target_value=target,
        total_value=total,
        target_burst_capacity=target_burst_capacity(annotations, config),
        panic_threshold=(config.panic_threshold_percentage if pt is None else pt) / 100.0,
        max_scale_up_rate=config.max_scale_up_rate,
        max_scale_down_rate=config.max_scale_down_rate,
        activator_capacity=config.activator_capacity,
        stable_window=stable_window(annotations, config),
        scale_down_delay=config.scale_down_delay if sdd is None else sdd,
        initial_scale=initial_scale(annotations, config),
        reachable=reachability != Reachability.UNREACHABLE,
        activation_scale=0 if act is None else act,
        scaling_metric=pa_metric(annotations),
    )
