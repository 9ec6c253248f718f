"""The reference autoscalers' resources.

AIBrix `autoscaling.aibrix.ai/v1alpha1` PodAutoscaler, field for field.
# upstream: vllm-project/aibrix api/autoscaling/v1alpha1/podautoscaler_types.go (e3e10f9e)
# upstream: config/crd/autoscaling/autoscaling.aibrix.ai_podautoscalers.yaml

Knative `autoscaling.internal.knative.dev/v1alpha1` PodAutoscaler: the object Knative Serving's
KPA reconciles (normally created from a Revision), written directly here to drive one role's
Deployment; configured, as in Knative, by `autoscaling.knative.dev/*` annotations.
# upstream: knative/serving pkg/apis/autoscaling/v1alpha1/pa_types.go (98e5ef90)

Both kinds are named PodAutoscaler; the fake API server keys objects by kind, so only the AIBrix one
is served by it (its controller writes its status there). A Knative PodAutoscaler is validated at
load time like every manifest and then held by the Knative controller, which reports its status in
the run summary (docs/reference-autoscalers.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from model.base import Bool, CrdExtra, Int32, Int64, KubeModel, Str, Time
from model.errors import FieldIssue
from model.meta import Condition, ObjectMeta, ObjectReference

AIBRIX_API_VERSION = "autoscaling.aibrix.ai/v1alpha1"
KNATIVE_API_VERSION = "autoscaling.internal.knative.dev/v1alpha1"
KIND = "PodAutoscaler"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class ScalingStrategy(StrEnum):
    HPA = "HPA"
    KPA = "KPA"
    APA = "APA"


class MetricSourceType(StrEnum):
    POD = "pod"
    RESOURCE = "resource"
    CUSTOM = "custom"
    EXTERNAL = "external"
    DOMAIN = "domain"


class ProtocolType(StrEnum):
    HTTP = "http"
    HTTPS = "https"


class SubTargetSelector(KubeModel):
    """Selects one role of the target (a DisaggregatedService role here; a StormService/RoleSet role upstream)."""

    role_name: Str | None = None


class PodAutoscalerSchedule(KubeModel):
    name: Annotated[Str, Field(min_length=1, pattern=DNS_LABEL)]
    timezone: Str | None = None
    days_of_week: Annotated[list[Str], Field(min_length=1)] | None = None
    start_time: Annotated[Str, Field(pattern=HH_MM)]
    end_time: Annotated[Str, Field(pattern=HH_MM)]
    min_replicas: Int32 | None = None
    max_replicas: Int32 | None = None


class MetricSource(KubeModel):
    metric_source_type: MetricSourceType
    protocol_type: ProtocolType | None = None
    endpoint: Str | None = None
    path: Str | None = None
    port: Str | None = None
    target_metric: Str
    target_value: Str


class PodAutoscalerSpec(KubeModel):
    scale_target_ref: Annotated[ObjectReference, CrdExtra(x_kubernetes_map_type="atomic")]
    sub_target_selector: SubTargetSelector | None = None
    min_replicas: Int32 | None = None
    max_replicas: Int32
    schedules: Annotated[list[PodAutoscalerSchedule], Field(min_length=1)] | None = None
    metrics_sources: Annotated[list[MetricSource], Field(min_length=1)] | None = None
    observe_window_seconds: Annotated[Int64, Field(ge=1, le=3600)] | None = None
    panic_window_seconds: Annotated[Int64, Field(ge=1, le=3600)] | None = None
    scaling_strategy: ScalingStrategy


class ScalingDecision(KubeModel):
    timestamp: Time
    previous_scale: Int32
    new_scale: Int32
    reason: Str
    success: Bool
    error: Str | None = None


class ScheduledBoundsStatus(KubeModel):
    active_schedule: Str | None = None
    effective_min_replicas: Int32
    effective_max_replicas: Int32


class PodAutoscalerStatus(KubeModel):
    last_scale_time: Time | None = None
    desired_scale: Int32 | None = None
    actual_scale: Int32 | None = None
    conditions: list[Condition] | None = None
    scaling_history: Annotated[list[ScalingDecision], Field(max_length=5)] | None = None
    scheduled_bounds: ScheduledBoundsStatus | None = None


class PodAutoscaler(KubeModel):
    """AIBrix PodAutoscaler."""

    api_version: Literal["autoscaling.aibrix.ai/v1alpha1"]
    kind: Literal["PodAutoscaler"]
    metadata: ObjectMeta
    spec: PodAutoscalerSpec
    status: PodAutoscalerStatus | None = None


class Reachability(StrEnum):
    REACHABLE = "Reachable"
    UNREACHABLE = "Unreachable"
    UNKNOWN = ""


class KnativeProtocolType(StrEnum):
    HTTP1 = "http1"
    H2C = "h2c"


class KnativePodAutoscalerSpec(KubeModel):
    """upstream: pa_types.go PodAutoscalerSpec."""

    container_concurrency: Annotated[Int64, Field(ge=0)] | None = None
    scale_target_ref: Annotated[ObjectReference, CrdExtra(x_kubernetes_map_type="atomic")]
    reachability: Reachability | None = None
    protocol_type: KnativeProtocolType | None = None


class KnativePodAutoscalerStatus(KubeModel):
    service_name: Str | None = None
    metrics_service_name: Str | None = None
    desired_scale: Int32 | None = None
    actual_scale: Int32 | None = None
    observed_generation: Int64 | None = None
    conditions: list[dict[str, object]] | None = None


class KnativePodAutoscaler(KubeModel):
    """Knative Serving PodAutoscaler (class kpa.autoscaling.knative.dev by default)."""

    api_version: Literal["autoscaling.internal.knative.dev/v1alpha1"]
    kind: Literal["PodAutoscaler"]
    metadata: ObjectMeta
    spec: KnativePodAutoscalerSpec
    status: KnativePodAutoscalerStatus | None = None


# ------------------------------------------------------------------------------------ validation

KNATIVE_GROUP = "autoscaling.knative.dev/"
KNATIVE_KPA_CLASS = "kpa.autoscaling.knative.dev"
# upstream: knative/serving pkg/apis/autoscaling/register.go (primary keys and their camelCase alternates)
KNATIVE_ANNOTATIONS: dict[str, str] = {
    "class": "class",
    "metric": "metric",
    "target": "target",
    "target-utilization-percentage": "target-utilization-percentage",
    "targetUtilizationPercentage": "target-utilization-percentage",
    "target-burst-capacity": "target-burst-capacity",
    "targetBurstCapacity": "target-burst-capacity",
    "window": "window",
    "panic-window-percentage": "panic-window-percentage",
    "panicWindowPercentage": "panic-window-percentage",
    "panic-threshold-percentage": "panic-threshold-percentage",
    "panicThresholdPercentage": "panic-threshold-percentage",
    "min-scale": "min-scale",
    "minScale": "min-scale",
    "max-scale": "max-scale",
    "maxScale": "max-scale",
    "initial-scale": "initial-scale",
    "initialScale": "initial-scale",
    "scale-down-delay": "scale-down-delay",
    "scaleDownDelay": "scale-down-delay",
    "activation-scale": "activation-scale",
    "scale-to-zero-pod-retention-period": "scale-to-zero-pod-retention-period",
    "scaleToZeroPodRetentionPeriod": "scale-to-zero-pod-retention-period",
    "metric-aggregation-algorithm": "metric-aggregation-algorithm",
    "metricAggregationAlgorithm": "metric-aggregation-algorithm",
    # simulator extension: config-autoscaler keys (cluster-wide in Knative) for this PodAutoscaler
    "max-scale-up-rate": "max-scale-up-rate",
    "max-scale-down-rate": "max-scale-down-rate",
}


def _did_you_mean(value: str, choices: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def knative_annotation_issues(annotations: object) -> list[FieldIssue]:
    """Knative's webhook checks of the autoscaling annotations (bounds, units, class and metric the
    simulator models), plus unknown `autoscaling.knative.dev/` keys (Knative ignores them; a typo
    here would silently fall back to a default).
    upstream: knative/serving pkg/apis/autoscaling/annotation_validation.go ValidateAnnotations."""
    from model.goparse import parse_duration, parse_float, parse_int

    if not isinstance(annotations, dict):
        return []
    issues: list[FieldIssue] = []
    seen: dict[str, str] = {}
    for key in sorted(annotations):
        if not str(key).startswith(KNATIVE_GROUP):
            continue
        short = str(key)[len(KNATIVE_GROUP) :]
        path = f"metadata.annotations[{key}]"
        if short not in KNATIVE_ANNOTATIONS:
            issues.append(
                FieldIssue(
                    path,
                    f"Invalid value: {key!r}: not an autoscaling annotation the KPA reads"
                    + _did_you_mean(short, sorted(set(KNATIVE_ANNOTATIONS.values()))),
                    value=key,
                )
            )
            continue
        seen[KNATIVE_ANNOTATIONS[short]] = str(key)
    raw = {name: str(annotations[k]) for name, k in seen.items()}

    def bad(name: str, msg: str) -> None:
        issues.append(
            FieldIssue(
                f"metadata.annotations[{seen[name]}]", f"Invalid value: {raw[name]!r}: {msg}", value=raw[name]
            )
        )

    def num(name: str, lo: float | None, hi: float | None, what: str) -> float | None:
        if name not in raw:
            return None
        try:
            v = parse_float(raw[name])
        except ValueError:
            bad(name, f"expected a number ({what})")
            return None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            bad(name, f"out of bounds: {what}")
            return None
        return v

    def integer(name: str, lo: int) -> int | None:
        if name not in raw:
            return None
        try:
            v = parse_int(raw[name], 32)
        except ValueError:
            bad(name, "expected an integer")
            return None
        if v < lo:
            bad(name, f"must be at least {lo}")
            return None
        return v

    def duration(name: str, lo: float, hi: float, what: str) -> None:
        if name not in raw:
            return
        try:
            d = parse_duration(raw[name])
        except ValueError as exc:
            bad(name, f'{exc}; expected a Go duration such as "60s"')
            return
        if d < lo or d > hi:
            bad(name, f"out of bounds: {what}")
        elif d != int(d):
            bad(name, "must be specified with at most second precision")

    if "class" in raw and raw["class"] != KNATIVE_KPA_CLASS:
        bad(
            "class",
            f'only "{KNATIVE_KPA_CLASS}" is modelled (for the HPA class use a HorizontalPodAutoscaler)',
        )
    if "metric" in raw and raw["metric"] not in ("concurrency", "rps"):
        bad("metric", 'the KPA scales on "concurrency" or "rps"')
    if "metric-aggregation-algorithm" in raw and raw["metric-aggregation-algorithm"] not in (
        "linear",
        "weighted-exponential",
        "weightedExponential",
    ):
        bad("metric-aggregation-algorithm", 'expected "linear" or "weighted-exponential"')
    num("panic-window-percentage", 1.0, 100.0, "1 <= percentage <= 100")
    num("panic-threshold-percentage", 110.0, 1000.0, "110 <= percentage <= 1000")
    num("target", 0.01, None, "at least 0.01")
    num("target-utilization-percentage", 1.0, 100.0, "1 <= percentage <= 100")
    num("target-burst-capacity", -1.0, None, "at least -1 (-1: the activator stays in the path)")
    # upstream: pkg/autoscaler/config/config.go validate (max-scale-up-rate and max-scale-down-rate > 1)
    num("max-scale-up-rate", 1.0000001, None, "greater than 1")
    num("max-scale-down-rate", 1.0000001, None, "greater than 1")
    duration("window", 6.0, 3600.0, "6s <= window <= 1h")
    duration("scale-down-delay", 0.0, 3600.0, "0s <= delay <= 1h")
    duration("scale-to-zero-pod-retention-period", 0.0, 3600.0, "0s <= period <= 1h")
    lo = integer("min-scale", 0)
    hi = integer("max-scale", 0)
    integer("initial-scale", 0)
    act = integer("activation-scale", 2)
    if lo is not None and hi is not None and hi != 0 and lo > hi:
        bad("min-scale", f"min-scale={lo} is greater than max-scale={hi}")
    if act is not None and lo is not None and lo > act:
        bad("activation-scale", f"min-scale={lo} is greater than activation-scale={act}")
    if act is not None and hi is not None and hi != 0 and hi < act:
        bad("activation-scale", f"max-scale={hi} is less than activation-scale={act}")
    return issues


def aibrix_issues(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """What AIBrix's controller rejects (setInvalidSpecStatus), reported at admission here so a bad
    PodAutoscaler is a load-time error. upstream: podautoscaler_controller.go validateSpec."""
    from model.goparse import parse_float

    spec = obj["spec"]
    assert isinstance(spec, dict)
    issues: list[FieldIssue] = []
    ref = spec.get("scaleTargetRef") or {}
    if not ref.get("name") or not ref.get("kind"):
        issues.append(
            FieldIssue(
                "spec.scaleTargetRef",
                "Required value: scaleTargetRef.kind and scaleTargetRef.name must be set",
            )
        )
    lo, hi = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(lo, int) and lo < 0:
        issues.append(
            FieldIssue("spec.minReplicas", f"Invalid value: {lo}: minReplicas must not be negative", value=lo)
        )
    if isinstance(hi, int) and hi <= 0:
        issues.append(
            FieldIssue("spec.maxReplicas", f"Invalid value: {hi}: maxReplicas must be positive", value=hi)
        )
    if isinstance(lo, int) and isinstance(hi, int) and hi < lo:
        issues.append(
            FieldIssue(
                "spec.minReplicas",
                f"Invalid value: {lo}: minReplicas cannot be greater than maxReplicas ({hi})",
                value=lo,
            )
        )
    strategy = spec.get("scalingStrategy")
    role = (spec.get("subTargetSelector") or {}).get("roleName")
    if strategy == "HPA":
        issues.append(
            FieldIssue(
                "spec.scalingStrategy",
                'Unsupported value: "HPA": the simulator models the KPA and APA strategies (AIBrix delegates HPA to a '
                "native HorizontalPodAutoscaler: write one instead)"
                + ("; upstream also rejects subTargetSelector.roleName with HPA" if role else ""),
                value=strategy,
            )
        )
    sw = spec.get("observeWindowSeconds") or 180
    pw = spec.get("panicWindowSeconds") or 60
    if isinstance(sw, int) and isinstance(pw, int) and pw > sw:
        issues.append(
            FieldIssue(
                "spec.panicWindowSeconds",
                f"Invalid value: {pw}: panicWindowSeconds must be less than or equal to observeWindowSeconds ({sw})",
                value=pw,
            )
        )
    sources = spec.get("metricsSources") or []
    if not sources:
        issues.append(
            FieldIssue("spec.metricsSources", "Required value: at least one metricsSource is required")
        )
    for i, ms in enumerate(sources):
        path = f"spec.metricsSources[{i}]"
        value = ms.get("targetValue", "")
        try:
            if not parse_float(value) > 0:
                raise ValueError("must be greater than 0")
        except ValueError as exc:
            issues.append(
                FieldIssue(
                    f"{path}.targetValue",
                    f'Invalid value: {value!r}: {exc}; expected a positive number such as "70"',
                    value=value,
                )
            )
        mtype = ms.get("metricSourceType")
        if mtype == "pod":
            for field in ("protocolType", "port", "path"):
                if not ms.get(field):
                    issues.append(
                        FieldIssue(
                            f"{path}.{field}", f"Required value: {field} is required for metricSourceType=pod"
                        )
                    )
        elif mtype == "resource":
            if ms.get("targetMetric") not in ("cpu", "memory"):
                issues.append(
                    FieldIssue(
                        f"{path}.targetMetric",
                        f"Unsupported value: {ms.get('targetMetric')!r}: for metricSourceType=resource, targetMetric must be 'cpu' or 'memory'",
                        value=ms.get("targetMetric"),
                    )
                )
        elif mtype in ("external", "domain") and ms.get("endpoint"):
            for field in ("protocolType", "path"):
                if not ms.get(field):
                    issues.append(
                        FieldIssue(
                            f"{path}.{field}",
                            f"Required value: {field} is required for metricSourceType=external",
                        )
                    )
    for i, sched in enumerate(spec.get("schedules") or []):
        if sched.get("startTime", "") >= sched.get("endTime", ""):
            issues.append(
                FieldIssue(
                    f"spec.schedules[{i}].endTime",
                    "Invalid value: endTime must be later than startTime (cross-midnight windows are not supported)",
                    value=sched.get("endTime"),
                )
            )
        if sched.get("minReplicas") is None and sched.get("maxReplicas") is None:
            issues.append(
                FieldIssue(
                    f"spec.schedules[{i}]",
                    "Required value: at least one of minReplicas or maxReplicas must be set",
                )
            )
    return issues


def podautoscaler_issues(obj: Mapping[str, Any]) -> list[FieldIssue]:
    """Admission rules of either PodAutoscaler (dispatch on apiVersion)."""
    if obj.get("apiVersion") == KNATIVE_API_VERSION:
        meta = obj.get("metadata") or {}
        assert isinstance(meta, dict)
        issues = knative_annotation_issues(meta.get("annotations"))
        ref = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        if not ref.get("name"):
            issues.append(
                FieldIssue(
                    "spec.scaleTargetRef.name", "Required value: the Deployment to scale must be named"
                )
            )
        annotations = meta.get("annotations") or {}
        if ref.get("kind") == "DisaggregatedService" and not annotations.get("scaler.bud.studio/role"):
            issues.append(
                FieldIssue(
                    "metadata.annotations",
                    "Required value: a DisaggregatedService scaleTargetRef needs the role to scale in the "
                    "annotation scaler.bud.studio/role (or target the role's Deployment <ds>-<role>)",
                )
            )
        return issues
    return aibrix_issues(obj)
