"""The scaling context: upstream defaults, spec settings and annotation overrides, in one frozen object.

upstream: pkg/context/context.go NewBaseScalingContext, NewScalingContextFromScaler, parseAnnotations.
Values upstream cannot parse are silently ignored there (the default stays); here every ignored value
is also listed in `ScalingContext.ignored` so lints and reports can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sim.decisions.bud.goparse import parse_duration_seconds, parse_float, parse_int32, quantity_as_float
from sim.decisions.bud.types import MetricSourceSpec, ScalingPolicy, SelectPolicy

ANNOTATION_PREFIX = "scaler.bud.studio/"


class Annotation(StrEnum):
    """upstream: pkg/types/annotations.go."""

    MAX_SCALE_UP_RATE = ANNOTATION_PREFIX + "max-scale-up-rate"
    MAX_SCALE_DOWN_RATE = ANNOTATION_PREFIX + "max-scale-down-rate"
    SCALE_UP_TOLERANCE = ANNOTATION_PREFIX + "scale-up-tolerance"
    SCALE_DOWN_TOLERANCE = ANNOTATION_PREFIX + "scale-down-tolerance"
    SCALE_UP_COOLDOWN = ANNOTATION_PREFIX + "scale-up-cooldown"
    SCALE_DOWN_COOLDOWN = ANNOTATION_PREFIX + "scale-down-cooldown"
    PANIC_THRESHOLD = ANNOTATION_PREFIX + "panic-threshold"
    PANIC_WINDOW = ANNOTATION_PREFIX + "panic-window"
    STABLE_WINDOW = ANNOTATION_PREFIX + "stable-window"
    SCALE_TO_ZERO = ANNOTATION_PREFIX + "scale-to-zero"
    ACTIVATION_SCALE = ANNOTATION_PREFIX + "activation-scale"
    # Declared upstream but never read by any code path:
    GPU_PREFERRED_TYPE = ANNOTATION_PREFIX + "gpu-preferred-type"
    GPU_TOPOLOGY_AWARE = ANNOTATION_PREFIX + "gpu-topology-aware"
    COST_MAX_HOURLY = ANNOTATION_PREFIX + "cost-max-hourly"
    COST_MAX_DAILY = ANNOTATION_PREFIX + "cost-max-daily"
    COST_PREFER_SPOT = ANNOTATION_PREFIX + "cost-prefer-spot"


TARGET_METRIC_ANNOTATION_PREFIX = ANNOTATION_PREFIX + "target-"
"""Declared upstream (per-metric targets) but never read."""

UNREAD_ANNOTATIONS: frozenset[str] = frozenset(
    {
        Annotation.GPU_PREFERRED_TYPE,
        Annotation.GPU_TOPOLOGY_AWARE,
        Annotation.COST_MAX_HOURLY,
        Annotation.COST_MAX_DAILY,
        Annotation.COST_PREFER_SPOT,
    }
)


class IgnoredWhy(StrEnum):
    UNPARSABLE = "unparsable"
    """Upstream's parser rejected the value; the default (or spec value) stays, silently."""
    NOT_READ = "not-read"
    """Declared by upstream but no code path reads it."""
    UNKNOWN = "unknown"
    """Has the scaler.bud.studio/ prefix but is not an upstream annotation."""


@dataclass(frozen=True)
class IgnoredSetting:
    """A setting upstream silently ignores. `path` is a YAML path, e.g.
    `metadata.annotations["scaler.bud.studio/panic-window"]` or `spec.behavior.scaleUp.tolerance`."""

    path: str
    value: str
    why: IgnoredWhy
    expected: str
    """What upstream would have accepted, e.g. 'a Go float (strconv.ParseFloat)'."""


# upstream: pkg/context/context.go constants
DEFAULT_MAX_SCALE_UP_RATE = 2.0
DEFAULT_MAX_SCALE_DOWN_RATE = 0.5
DEFAULT_FLUCTUATION_TOLERANCE = 0.1
DEFAULT_SCALE_UP_COOLDOWN_S = 0.0
DEFAULT_SCALE_DOWN_COOLDOWN_S = 300.0
DEFAULT_PANIC_THRESHOLD = 2.0
DEFAULT_PANIC_WINDOW_S = 60.0
DEFAULT_STABLE_WINDOW_S = 180.0
DEFAULT_ACTIVATION_SCALE = 1
DEFAULT_STARTING_POD_WEIGHT = 0.5
DEFAULT_MAX_STARTING_PODS = 0
DEFAULT_MAX_STARTING_POD_PERCENT = 50
DEFAULT_BYPASS_GATE_ON_PANIC = False


@dataclass(frozen=True)
class GPUConfig:
    enabled: bool = False
    memory_threshold: int | None = None
    """spec.gpuConfig.gpuMemoryThreshold (percent); None when unset (the algorithm then uses ratio 1)."""
    compute_threshold: int | None = None


@dataclass(frozen=True)
class CostConfig:
    enabled: bool = False
    cloud_provider: str = ""
    budget_per_hour: float | None = None
    budget_per_day: float | None = None
    prefer_spot: bool = False


@dataclass(frozen=True)
class ScalingContext:
    """upstream: pkg/context/context.go baseScalingContext; durations in seconds (Go time.Duration)."""

    min_replicas: int = 1
    max_replicas: int = 10
    max_scale_up_rate: float = DEFAULT_MAX_SCALE_UP_RATE
    max_scale_down_rate: float = DEFAULT_MAX_SCALE_DOWN_RATE
    up_fluctuation_tolerance: float = DEFAULT_FLUCTUATION_TOLERANCE
    down_fluctuation_tolerance: float = DEFAULT_FLUCTUATION_TOLERANCE
    """Parsed upstream but read by no algorithm (GetTolerance returns the scale-up tolerance):
    Quirk.DOWN_TOLERANCE_IGNORED. `tolerance_for` reads it when that quirk is off."""
    scale_up_cooldown_s: float = DEFAULT_SCALE_UP_COOLDOWN_S
    scale_down_cooldown_s: float = DEFAULT_SCALE_DOWN_COOLDOWN_S
    panic_window_s: float = DEFAULT_PANIC_WINDOW_S
    stable_window_s: float = DEFAULT_STABLE_WINDOW_S
    panic_threshold: float = DEFAULT_PANIC_THRESHOLD
    scale_to_zero: bool = False
    activation_scale: int = DEFAULT_ACTIVATION_SCALE
    metric_targets: Mapping[str, float] = field(default_factory=dict)
    scale_up_policies: tuple[ScalingPolicy, ...] = ()
    scale_down_policies: tuple[ScalingPolicy, ...] = ()
    scale_up_select_policy: str = SelectPolicy.MAX
    scale_down_select_policy: str = SelectPolicy.MIN
    starting_pod_weight: float = DEFAULT_STARTING_POD_WEIGHT
    max_starting_pods: int = DEFAULT_MAX_STARTING_PODS
    max_starting_pod_percent: int = DEFAULT_MAX_STARTING_POD_PERCENT
    bypass_gate_on_panic: bool = DEFAULT_BYPASS_GATE_ON_PANIC
    # Spec parts the algorithms read directly from request.Scaler upstream:
    strategy: str = "BudScaler"
    metric_sources: tuple[MetricSourceSpec, ...] = ()
    gpu: GPUConfig = field(default_factory=GPUConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    gpu_config_present: bool = False
    cost_config_present: bool = False
    """spec.costConfig != nil (BudScaler applies cost constraints whenever the block exists)."""
    prediction_enabled: bool = False
    look_ahead_minutes: int = 15
    ignored: tuple[IgnoredSetting, ...] = ()

    # --- upstream ScalingContextProvider getters (same truncations as Go) ---
    def tolerance(self) -> float:
        """GetTolerance: the scale-up tolerance, used for both directions."""
        return self.up_fluctuation_tolerance

    def tolerance_for(self, ratio: float, *, down_ignored: bool) -> float:
        """The tolerance for a metric/target ratio: upstream's GetTolerance when `down_ignored`
        (Quirk.DOWN_TOLERANCE_IGNORED), else the scale-down tolerance below ratio 1."""
        if not down_ignored and ratio < 1.0:
            return self.down_fluctuation_tolerance
        return self.tolerance()

    def scale_up_stabilization_seconds(self) -> int:
        return int(self.scale_up_cooldown_s)

    def scale_down_stabilization_seconds(self) -> int:
        return int(self.scale_down_cooldown_s)

    def panic_window_seconds(self) -> int:
        return int(self.panic_window_s)

    def stable_window_seconds(self) -> int:
        return int(self.stable_window_s)

    def with_overrides(self, **changes: Any) -> ScalingContext:
        """A copy with some fields replaced (tests and conformance adapters)."""
        return replace(self, **changes)


def _policies(raw: object) -> tuple[ScalingPolicy, ...]:
    if not isinstance(raw, list):
        return ()
    out: list[ScalingPolicy] = []
    for p in raw:
        if isinstance(p, Mapping):
            out.append(
                ScalingPolicy(
                    type=str(p.get("type", "")),
                    value=int(p.get("value", 0) or 0),
                    period_seconds=int(p.get("periodSeconds", 0) or 0),
                )
            )
    return tuple(out)


def _map(obj: object) -> Mapping[str, Any]:
    return obj if isinstance(obj, Mapping) else {}


def scaling_context_from_scaler(scaler: Mapping[str, Any]) -> ScalingContext:
    """Build the context from a BudAIScaler in wire form (camelCase dict, as the API server stores it).

    upstream: pkg/context/context.go NewScalingContextFromScaler (then parseAnnotations).
    """
    spec = _map(scaler.get("spec"))
    meta = _map(scaler.get("metadata"))
    ignored: list[IgnoredSetting] = []
    values: dict[str, Any] = {}

    def float_field(path: str, raw: object, key: str) -> None:
        value = parse_float(raw) if isinstance(raw, str) else None
        if value is None:
            ignored.append(
                IgnoredSetting(path, str(raw), IgnoredWhy.UNPARSABLE, "a Go float (strconv.ParseFloat)")
            )
        else:
            values[key] = value

    min_replicas = spec.get("minReplicas")
    values["min_replicas"] = 1 if min_replicas is None else int(min_replicas)  # upstream: Spec.GetMinReplicas
    values["max_replicas"] = int(spec.get("maxReplicas", 0) or 0)
    values["strategy"] = str(spec.get("scalingStrategy", "") or "")

    behavior = _map(spec.get("behavior"))
    up = _map(behavior.get("scaleUp")) if behavior.get("scaleUp") is not None else None
    down = _map(behavior.get("scaleDown")) if behavior.get("scaleDown") is not None else None
    if up is not None:
        base = "spec.behavior.scaleUp"
        if up.get("stabilizationWindowSeconds") is not None:
            values["scale_up_cooldown_s"] = float(int(up["stabilizationWindowSeconds"]))
        if up.get("maxScaleRate") is not None:
            float_field(f"{base}.maxScaleRate", up["maxScaleRate"], "max_scale_up_rate")
        if up.get("tolerance") is not None:
            float_field(f"{base}.tolerance", up["tolerance"], "up_fluctuation_tolerance")
        pols = _policies(up.get("policies"))
        if pols:
            values["scale_up_policies"] = pols
        if up.get("selectPolicy") is not None:
            values["scale_up_select_policy"] = str(up["selectPolicy"])
        if up.get("startingPods") is not None:
            sp = _map(up["startingPods"])
            if sp.get("startingPodWeight") is not None:
                float_field(
                    f"{base}.startingPods.startingPodWeight", sp["startingPodWeight"], "starting_pod_weight"
                )
            if sp.get("maxStartingPods") is not None:
                values["max_starting_pods"] = int(sp["maxStartingPods"])
            if sp.get("maxStartingPodPercent") is not None:
                values["max_starting_pod_percent"] = int(sp["maxStartingPodPercent"])
            if sp.get("bypassGateOnPanic") is not None:
                values["bypass_gate_on_panic"] = bool(sp["bypassGateOnPanic"])
    if down is not None:
        base = "spec.behavior.scaleDown"
        if down.get("stabilizationWindowSeconds") is not None:
            values["scale_down_cooldown_s"] = float(int(down["stabilizationWindowSeconds"]))
        if down.get("maxScaleRate") is not None:
            float_field(f"{base}.maxScaleRate", down["maxScaleRate"], "max_scale_down_rate")
        if down.get("tolerance") is not None:
            float_field(f"{base}.tolerance", down["tolerance"], "down_fluctuation_tolerance")
        pols = _policies(down.get("policies"))
        if pols:
            values["scale_down_policies"] = pols
        if down.get("selectPolicy") is not None:
            values["scale_down_select_policy"] = str(down["selectPolicy"])

    gpu_raw = spec.get("gpuConfig")
    values["gpu_config_present"] = gpu_raw is not None
    if gpu_raw is not None:
        g = _map(gpu_raw)
        values["gpu"] = GPUConfig(
            enabled=bool(g.get("enabled", False)),
            memory_threshold=None if g.get("gpuMemoryThreshold") is None else int(g["gpuMemoryThreshold"]),
            compute_threshold=None if g.get("gpuComputeThreshold") is None else int(g["gpuComputeThreshold"]),
        )

    cost_raw = spec.get("costConfig")
    values["cost_config_present"] = cost_raw is not None
    if cost_raw is not None:
        c = _map(cost_raw)
        bph = quantity_as_float(c["budgetPerHour"]) if c.get("budgetPerHour") is not None else None
        bpd = quantity_as_float(c["budgetPerDay"]) if c.get("budgetPerDay") is not None else None
        values["cost"] = CostConfig(
            enabled=bool(c.get("enabled", False)),
            cloud_provider=str(c.get("cloudProvider", "") or ""),
            budget_per_hour=bph,
            budget_per_day=bpd,
            prefer_spot=bool(c.get("preferSpotInstances", False)),
        )

    pred = spec.get("predictionConfig")
    if pred is not None:
        p = _map(pred)
        if p.get("enabled"):
            values["prediction_enabled"] = True
            if p.get("lookAheadMinutes") is not None:
                values["look_ahead_minutes"] = int(p["lookAheadMinutes"])

    sources: list[MetricSourceSpec] = []
    targets: dict[str, float] = {}
    for i, ms_raw in enumerate(spec.get("metricsSources") or []):
        ms = _map(ms_raw)
        target_value = str(ms.get("targetValue", ""))
        name = str(ms.get("targetMetric", ""))
        engine = _map(ms.get("inferenceEngineConfig")).get("engineType", "")
        sources.append(
            MetricSourceSpec(
                target_metric=name,
                target_value=target_value,
                metric_source_type=str(ms.get("metricSourceType", "") or ""),
                engine_type=str(engine or ""),
            )
        )
        parsed = parse_float(target_value)
        if parsed is None:
            ignored.append(
                IgnoredSetting(
                    f"spec.metricsSources[{i}].targetValue",
                    target_value,
                    IgnoredWhy.UNPARSABLE,
                    "a Go float (strconv.ParseFloat); upstream skips this metric source",
                )
            )
        else:
            targets[name] = parsed
    values["metric_sources"] = tuple(sources)
    values["metric_targets"] = targets

    _parse_annotations(_map(meta.get("annotations")), values, ignored)
    values["ignored"] = tuple(ignored)
    return ScalingContext(**values)


_FLOAT_ANNOTATIONS: dict[str, str] = {
    Annotation.MAX_SCALE_UP_RATE: "max_scale_up_rate",
    Annotation.MAX_SCALE_DOWN_RATE: "max_scale_down_rate",
    Annotation.SCALE_UP_TOLERANCE: "up_fluctuation_tolerance",
    Annotation.SCALE_DOWN_TOLERANCE: "down_fluctuation_tolerance",
    Annotation.PANIC_THRESHOLD: "panic_threshold",
}
_DURATION_ANNOTATIONS: dict[str, str] = {
    Annotation.SCALE_UP_COOLDOWN: "scale_up_cooldown_s",
    Annotation.SCALE_DOWN_COOLDOWN: "scale_down_cooldown_s",
    Annotation.PANIC_WINDOW: "panic_window_s",
    Annotation.STABLE_WINDOW: "stable_window_s",
}


def _parse_annotations(
    annotations: Mapping[str, Any], values: dict[str, Any], ignored: list[IgnoredSetting]
) -> None:
    """upstream: pkg/context/context.go parseAnnotations (overrides spec values; bad values ignored)."""
    for key in sorted(annotations):
        raw = annotations[key]
        v = str(raw)
        path = f'metadata.annotations["{key}"]'
        if key in _FLOAT_ANNOTATIONS:
            parsed = parse_float(v)
            if parsed is None:
                ignored.append(
                    IgnoredSetting(path, v, IgnoredWhy.UNPARSABLE, "a Go float (strconv.ParseFloat)")
                )
            else:
                values[_FLOAT_ANNOTATIONS[key]] = parsed
        elif key in _DURATION_ANNOTATIONS:
            secs = parse_duration_seconds(v)
            if secs is None:
                ignored.append(
                    IgnoredSetting(
                        path, v, IgnoredWhy.UNPARSABLE, 'a Go duration (time.ParseDuration), e.g. "30s", "5m"'
                    )
                )
            else:
                values[_DURATION_ANNOTATIONS[key]] = secs
        elif key == Annotation.SCALE_TO_ZERO:
            values["scale_to_zero"] = v == "true"
            if v not in ("true", "false"):
                ignored.append(
                    IgnoredSetting(
                        path, v, IgnoredWhy.UNPARSABLE, 'exactly "true" (anything else means false)'
                    )
                )
        elif key == Annotation.ACTIVATION_SCALE:
            scale = parse_int32(v)
            if scale is None:
                ignored.append(
                    IgnoredSetting(
                        path, v, IgnoredWhy.UNPARSABLE, "a 32-bit decimal integer (strconv.ParseInt)"
                    )
                )
            else:
                values["activation_scale"] = scale
        elif key in UNREAD_ANNOTATIONS or key.startswith(TARGET_METRIC_ANNOTATION_PREFIX):
            ignored.append(
                IgnoredSetting(
                    path, v, IgnoredWhy.NOT_READ, "nothing: upstream declares it but never reads it"
                )
            )
        elif key.startswith(ANNOTATION_PREFIX):
            known = ", ".join(sorted(a.value for a in Annotation))
            ignored.append(IgnoredSetting(path, v, IgnoredWhy.UNKNOWN, f"one of: {known}"))
