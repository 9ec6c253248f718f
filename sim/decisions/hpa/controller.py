"""One HPA sync as a pure function: HPA object, target scale, pods and metrics in; the scale to
write, the new HPA status, events and the controller's per-HPA memory out.

Re-expressed from kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go
(reconcileAutoscaler, computeReplicasForMetrics, computeStatusFor*Metric, normalizeDesiredReplicas*,
setStatus, setCondition). Objects are wire-form dicts (autoscaling/v2)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sim.decisions.hpa.normalization import (
    DEFAULT_DOWNSCALE_STABILIZATION_WINDOW,
    DEFAULT_SCALE_UP_LIMIT_FACTOR,
    DEFAULT_SCALE_UP_LIMIT_MINIMUM,
    Behavior,
    Recommendation,
    ScaleEvent,
    behavior_from_wire,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
    stabilize_recommendation,
    stabilize_recommendation_with_behaviors,
    store_scale_event,
)
from sim.decisions.hpa.quantity import QuantityError, milli_quantity, milli_value, parse_quantity
from sim.decisions.hpa.replica_calculator import (
    MetricError,
    PodInfo,
    PodMetric,
    RawPodMetrics,
    Tolerances,
    get_external_metric_replicas,
    get_external_per_pod_metric_replicas,
    get_object_metric_replicas,
    get_object_per_pod_metric_replicas,
    get_plain_metric_replicas,
    get_resource_replicas,
    resource_pod_metrics,
)


class ConditionType(StrEnum):
    ABLE_TO_SCALE = "AbleToScale"
    SCALING_ACTIVE = "ScalingActive"
    SCALING_LIMITED = "ScalingLimited"


class Reason(StrEnum):
    """Condition and event reasons the HPA controller uses (horizontal.go)."""

    SUCCEEDED_GET_SCALE = "SucceededGetScale"
    FAILED_GET_SCALE = "FailedGetScale"
    SUCCEEDED_RESCALE = "SucceededRescale"
    FAILED_UPDATE_SCALE = "FailedUpdateScale"
    READY_FOR_NEW_SCALE = "ReadyForNewScale"
    SCALE_DOWN_STABILIZED = "ScaleDownStabilized"
    SCALE_UP_STABILIZED = "ScaleUpStabilized"
    SCALING_DISABLED = "ScalingDisabled"
    VALID_METRIC_FOUND = "ValidMetricFound"
    INVALID_SELECTOR = "InvalidSelector"
    AMBIGUOUS_SELECTOR = "AmbiguousSelector"
    INVALID_METRIC_SOURCE_TYPE = "InvalidMetricSourceType"
    FAILED_GET_RESOURCE_METRIC = "FailedGetResourceMetric"
    FAILED_GET_CONTAINER_RESOURCE_METRIC = "FailedGetContainerResourceMetric"
    FAILED_GET_PODS_METRIC = "FailedGetPodsMetric"
    FAILED_GET_OBJECT_METRIC = "FailedGetObjectMetric"
    FAILED_GET_EXTERNAL_METRIC = "FailedGetExternalMetric"
    SUCCESSFUL_RESCALE = "SuccessfulRescale"
    FAILED_RESCALE = "FailedRescale"
    FAILED_COMPUTE_METRICS_REPLICAS = "FailedComputeMetricsReplicas"
    SELECTOR_REQUIRED = "SelectorRequired"


_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def default_format_time(t: float) -> str:
    """RFC 3339 seconds on the simulation's default epoch (callers pass `Simulation.timestamp`)."""
    return (_EPOCH + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ControllerConfig:
    """kube-controller-manager flags of the HPA controller. Production defaults."""

    sync_period: float = 15.0
    tolerance: float = 0.1
    cpu_initialization_period: float = 300.0
    delay_of_initial_readiness_status: float = 30.0
    downscale_stabilization_window: float = DEFAULT_DOWNSCALE_STABILIZATION_WINDOW
    scale_up_limit_factor: float = DEFAULT_SCALE_UP_LIMIT_FACTOR
    """Legacy path cap factor; Kubernetes' own unit tests set 8 (see the conformance vectors)."""
    scale_up_limit_minimum: float = DEFAULT_SCALE_UP_LIMIT_MINIMUM


@dataclass(frozen=True)
class HPAState:
    """What the controller remembers per HPA key between syncs (horizontal.go a.recommendations,
    a.scaleUpEvents, a.scaleDownEvents). `recommendations` None = never seen (seeded on first sync)."""

    recommendations: tuple[Recommendation, ...] | None = None
    scale_up_events: tuple[ScaleEvent, ...] = ()
    scale_down_events: tuple[ScaleEvent, ...] = ()


@dataclass(frozen=True)
class Scale:
    """The target's autoscaling/v1 Scale subresource, reduced to what the HPA reads."""

    spec_replicas: int
    status_replicas: int
    selector: str
    """status.selector (label selector string); "" when the target publishes none."""


class MetricsSource(Protocol):
    """The three metrics APIs as the HPA sees them. Raise `MetricError(api error text)` on failure."""

    def resource_metrics(self, resource: str) -> Sequence[RawPodMetrics]: ...
    def pods_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Mapping[str, PodMetric]: ...
    def object_metric(
        self, metric: str, described_object: Mapping[str, Any], selector: Mapping[str, Any] | None
    ) -> int: ...
    def external_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Sequence[int]: ...


@dataclass(frozen=True)
class Event:
    type: str
    """"Normal" or "Warning"."""
    reason: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", str(self.reason))


@dataclass(frozen=True)
class ReconcileDecision:
    """The outcome of one sync. When `rescale` is True the caller writes the scale and, if that
    fails, uses `rescale_failed(...)` to get the status Kubernetes would write instead."""

    rescale: bool
    current_replicas: int
    desired_replicas: int
    status: dict[str, Any]
    state: HPAState
    events: tuple[Event, ...]
    error: str | None = None
    rescale_reason: str = ""
    previous_status: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Work:
    """Mutable scratch for one sync (conditions evolve in place, as on the Go hpa object)."""

    conditions: list[dict[str, Any]]
    events: list[Event]
    now: float
    fmt: Callable[[float], str]

    def set_condition(self, ctype: ConditionType, status: str, reason: str, message: str) -> None:
        # upstream: pkg/controller/podautoscaler/horizontal.go setConditionInList
        existing = next((c for c in self.conditions if c.get("type") == ctype.value), None)
        if existing is None:
            existing = {"type": ctype.value}
            self.conditions.append(existing)
        if existing.get("status") != status:
            existing["lastTransitionTime"] = self.fmt(self.now)
        existing["status"] = str(status)
        existing["reason"] = str(reason)  # plain str: wire objects carry no enum instances
        existing["message"] = str(message)

    def warn(self, reason: str, message: str) -> None:
        self.events.append(Event("Warning", reason, message))


@dataclass(frozen=True)
class _Proposal:
    replicas: int
    metric_name: str
    status: dict[str, Any]


@dataclass(frozen=True)
class _MetricsFailed:
    """computeReplicasForMetrics returned -1 and an error: no scaling this sync."""

    error: str
    statuses: list[dict[str, Any]]


class _MetricFailure(Exception):
    def __init__(self, reason: Reason, error: str, wrapped: str | None = None) -> None:
        super().__init__(wrapped or error)
        self.reason = reason
        self.error = error
        self.wrapped = wrapped or error


def tolerances_for(hpa: Mapping[str, Any], config: ControllerConfig) -> Tolerances:
    """Controller tolerance, overridden per direction by spec.behavior.scale{Up,Down}.tolerance."""
    # upstream: pkg/controller/podautoscaler/horizontal.go tolerancesForHpa
    behavior = (hpa.get("spec") or {}).get("behavior")
    t = Tolerances(config.tolerance, config.tolerance)
    if not behavior:
        return t
    down = (behavior.get("scaleDown") or {}).get("tolerance")
    up = (behavior.get("scaleUp") or {}).get("tolerance")
    if down is not None:
        t = replace(t, scale_down=float(parse_quantity(down)))
    if up is not None:
        t = replace(t, scale_up=float(parse_quantity(up)))
    return t


def reconcile(
    hpa: Mapping[str, Any],
    scale: Scale | None,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    state: HPAState,
    now: float,
    config: ControllerConfig | None = None,
    *,
    scale_error: str | None = None,
    controlling_hpas: Sequence[str] = (),
    format_time: Callable[[float], str] = default_format_time,
) -> ReconcileDecision:
    """One reconcileAutoscaler pass. `scale` None with `scale_error` = the target's scale could not be read.

    `controlling_hpas`: "namespace/name" of every HPA whose last-synced selector matches one of `pods`
    (the controller's hpaSelectors tracker); more than one -> AmbiguousSelector, no scaling."""
    # upstream: pkg/controller/podautoscaler/horizontal.go reconcileAutoscaler
    config = config or ControllerConfig()
    spec = hpa.get("spec") or {}
    old_status: dict[str, Any] = copy.deepcopy(dict(hpa.get("status") or {}))
    work = _Work(copy.deepcopy(list(old_status.get("conditions") or [])), [], now, format_time)

    if scale is None:
        err = scale_error or "unrecognized resource"
        work.warn(Reason.FAILED_GET_SCALE, err)
        work.set_condition(
            ConditionType.ABLE_TO_SCALE,
            "False",
            Reason.FAILED_GET_SCALE,
            f"the HPA controller was unable to get the target's current scale: {err}",
        )
        status = _with_conditions(old_status, work.conditions)
        ref = spec.get("scaleTargetRef") or {}
        reference = (
            f"{ref.get('kind', '')}/{(hpa.get('metadata') or {}).get('namespace', '')}/{ref.get('name', '')}"
        )
        return ReconcileDecision(
            rescale=False,
            current_replicas=int(old_status.get("currentReplicas", 0)),
            desired_replicas=int(old_status.get("desiredReplicas", 0)),
            status=status,
            state=state,
            events=tuple(work.events),
            error=f"failed to query scale subresource for {reference}: {err}",
            previous_status=old_status,
        )

    work.set_condition(
        ConditionType.ABLE_TO_SCALE,
        "True",
        Reason.SUCCEEDED_GET_SCALE,
        "the HPA controller was able to get the target's current scale",
    )
    current = scale.spec_replicas
    if state.recommendations is None:  # recordInitialRecommendation
        state = replace(state, recommendations=(Recommendation(current, now),))

    min_replicas = int(spec["minReplicas"]) if spec.get("minReplicas") is not None else 1
    max_replicas = int(spec.get("maxReplicas", 0))
    behavior = behavior_from_wire(spec.get("behavior"), config.downscale_stabilization_window)

    desired = 0
    rescale_reason = ""
    metric_statuses: list[dict[str, Any]] = []
    rescale = True

    if scale.spec_replicas == 0 and min_replicas != 0:
        desired = 0
        rescale = False
        work.set_condition(
            ConditionType.SCALING_ACTIVE,
            "False",
            Reason.SCALING_DISABLED,
            "scaling is disabled since the replica count of the target is zero",
        )
    elif current > max_replicas:
        rescale_reason = "Current number of replicas above Spec.MaxReplicas"
        desired = max_replicas
    elif current < min_replicas:
        rescale_reason = "Current number of replicas below Spec.MinReplicas"
        desired = min_replicas
    else:
        outcome = _compute_replicas_for_metrics(hpa, scale, pods, metrics, config, work, controlling_hpas)
        if isinstance(outcome, _MetricsFailed):
            # upstream (newer): setCurrentReplicasAndMetricsInStatus keeps the metric statuses computed
            status = _status(
                old_status,
                current,
                int(old_status.get("desiredReplicas", 0)),
                outcome.statuses,
                work.conditions,
                now,
                format_time,
                rescale=False,
            )
            work.warn(Reason.FAILED_COMPUTE_METRICS_REPLICAS, outcome.error)
            ref = spec.get("scaleTargetRef") or {}
            reference = f"{ref.get('kind', '')}/{(hpa.get('metadata') or {}).get('namespace', '')}/{ref.get('name', '')}"
            return ReconcileDecision(
                rescale=False,
                current_replicas=current,
                desired_replicas=int(status.get("desiredReplicas", 0)),
                status=status,
                state=state,
                events=tuple(work.events),
                error=f"failed to compute desired number of replicas based on listed metrics for {reference}: {outcome.error}",
                previous_status=old_status,
            )
        metric_desired, metric_name, metric_statuses = outcome
        rescale_metric = ""
        if metric_desired > desired:
            desired = metric_desired
            rescale_metric = metric_name
        if desired > current:
            rescale_reason = f"{rescale_metric} above target"
        if desired < current:
            rescale_reason = "All metrics below target"
        if behavior is None:
            desired, state = _normalize(current, desired, min_replicas, max_replicas, state, config, work)
        else:
            desired, state = _normalize_with_behaviors(
                current, desired, min_replicas, max_replicas, behavior, state, work
            )
        rescale = desired != current

    if rescale:
        work.set_condition(
            ConditionType.ABLE_TO_SCALE,
            "True",
            Reason.SUCCEEDED_RESCALE,
            f"the HPA controller was able to update the target scale to {desired}",
        )
        work.events.append(
            Event("Normal", Reason.SUCCESSFUL_RESCALE, f"New size: {desired}; reason: {rescale_reason}")
        )
        up, down = store_scale_event(
            behavior, state.scale_up_events, state.scale_down_events, current, desired, now
        )
        state = replace(state, scale_up_events=up, scale_down_events=down)
    else:
        desired = current

    status = _status(
        old_status, current, desired, metric_statuses, work.conditions, now, format_time, rescale
    )
    return ReconcileDecision(
        rescale=rescale,
        current_replicas=current,
        desired_replicas=desired,
        status=status,
        state=state,
        events=tuple(work.events),
        rescale_reason=rescale_reason,
        previous_status=old_status,
    )


def rescale_failed(
    decision: ReconcileDecision,
    state_before: HPAState,
    error: str,
    now: float,
    format_time: Callable[[float], str] = default_format_time,
) -> ReconcileDecision:
    """The status Kubernetes writes when the scale update itself fails (FailedUpdateScale).

    `state_before` is the state passed into `reconcile`: no scale event is stored on failure, but the
    recommendation recorded during normalization is kept."""
    # upstream: pkg/controller/podautoscaler/horizontal.go reconcileAutoscaler (scale update error branch)
    work = _Work(copy.deepcopy(list(decision.status.get("conditions") or [])), [], now, format_time)
    work.events.append(
        Event(
            "Warning",
            Reason.FAILED_RESCALE,
            f"New size: {decision.desired_replicas}; reason: {decision.rescale_reason}; error: {error}",
        )
    )
    work.set_condition(
        ConditionType.ABLE_TO_SCALE,
        "False",
        Reason.FAILED_UPDATE_SCALE,
        f"the HPA controller was unable to update the target scale: {error}",
    )
    prev = decision.previous_status
    status = _status(
        prev,
        decision.current_replicas,
        int(prev.get("desiredReplicas", 0)),
        prev.get("currentMetrics"),
        work.conditions,
        now,
        format_time,
        rescale=False,
    )
    state = replace(
        decision.state,
        scale_up_events=state_before.scale_up_events,
        scale_down_events=state_before.scale_down_events,
    )
    events = tuple(e for e in decision.events if e.reason != Reason.SUCCESSFUL_RESCALE) + tuple(work.events)
    return replace(
        decision,
        rescale=False,
        status=status,
        state=state,
        events=events,
        error=f"failed to rescale: {error}",
    )


# --- metrics ------------------------------------------------------------------------------------


def _compute_replicas_for_metrics(
    hpa: Mapping[str, Any],
    scale: Scale,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    config: ControllerConfig,
    work: _Work,
    controlling_hpas: Sequence[str] = (),
) -> tuple[int, str, list[dict[str, Any]]] | _MetricsFailed:
    """Max proposal over the metric specs, or the error text when the HPA must not scale."""
    # upstream: pkg/controller/podautoscaler/horizontal.go computeReplicasForMetrics, validateAndParseSelector
    if not scale.selector:
        work.warn(Reason.SELECTOR_REQUIRED, "selector is required")
        work.set_condition(
            ConditionType.SCALING_ACTIVE,
            "False",
            Reason.INVALID_SELECTOR,
            "the HPA target's scale is missing a selector",
        )
        return _MetricsFailed("selector is required", [])
    if len(controlling_hpas) > 1:
        msg = f"pods by selector {scale.selector} are controlled by multiple HPAs: [{' '.join(sorted(controlling_hpas))}]"
        work.warn(Reason.AMBIGUOUS_SELECTOR, msg)
        work.set_condition(ConditionType.SCALING_ACTIVE, "False", Reason.AMBIGUOUS_SELECTOR, msg)
        return _MetricsFailed(msg, [])
    specs = list((hpa.get("spec") or {}).get("metrics") or [])
    tolerances = tolerances_for(hpa, config)
    namespace = str((hpa.get("metadata") or {}).get("namespace", ""))
    statuses: list[dict[str, Any]] = [{"type": ""} for _ in specs]
    replicas = 0
    metric = ""
    invalid = 0
    first: _MetricFailure | None = None
    for i, mspec in enumerate(specs):
        try:
            proposal = _compute_for_metric(
                mspec, scale, pods, metrics, config, tolerances, namespace, work.now
            )
        except _MetricFailure as failure:
            work.warn(failure.reason, failure.error)
            if first is None:
                first = failure
            invalid += 1
            continue
        statuses[i] = proposal.status
        if replicas == 0 or proposal.replicas > replicas:
            replicas = proposal.replicas
            metric = proposal.metric_name
    if invalid >= len(specs) or (invalid > 0 and replicas < scale.spec_replicas):
        if first is not None:
            work.set_condition(
                ConditionType.SCALING_ACTIVE,
                "False",
                first.reason,
                f"the HPA was unable to compute the replica count: {first.error}",
            )
            return _MetricsFailed(
                f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: {first.wrapped}",
                statuses,
            )
        # no metric specs at all: Go sets a zero-valued condition; we report it plainly
        return _MetricsFailed(
            f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: <nil>", statuses
        )
    work.set_condition(
        ConditionType.SCALING_ACTIVE,
        "True",
        Reason.VALID_METRIC_FOUND,
        f"the HPA was able to successfully calculate a replica count from {metric}",
    )
    return replicas, metric, statuses


def _compute_for_metric(
    mspec: Mapping[str, Any],
    scale: Scale,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    config: ControllerConfig,
    tolerances: Tolerances,
    namespace: str,
    now: float,
) -> _Proposal:
    # upstream: pkg/controller/podautoscaler/horizontal.go computeReplicasForMetric
    mtype = mspec.get("type")
    if mtype == "Resource":
        return _resource(mspec.get("resource") or {}, None, scale, pods, metrics, config, tolerances, now)
    if mtype == "ContainerResource":
        src = mspec.get("containerResource") or {}
        return _resource(src, str(src.get("container", "")), scale, pods, metrics, config, tolerances, now)
    if mtype == "Pods":
        return _pods(mspec.get("pods") or {}, scale, pods, metrics, config, tolerances, now)
    if mtype == "Object":
        return _object(mspec.get("object") or {}, scale, pods, metrics, tolerances, namespace)
    if mtype == "External":
        return _external(mspec.get("external") or {}, scale, pods, metrics, tolerances, namespace)
    raise _MetricFailure(Reason.INVALID_METRIC_SOURCE_TYPE, f'unknown metric source type "{mtype or ""}"')


def _milli(target: Mapping[str, Any], key: str, reason: Reason) -> int | None:
    raw = target.get(key)
    if raw is None:
        return None
    try:
        return milli_value(raw)
    except QuantityError as exc:
        raise _MetricFailure(reason, str(exc)) from exc


def _resource(
    src: Mapping[str, Any],
    container: str | None,
    scale: Scale,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    config: ControllerConfig,
    tolerances: Tolerances,
    now: float,
) -> _Proposal:
    # upstream: pkg/controller/podautoscaler/horizontal.go computeStatusForResourceMetric(Generic)
    name = str(src.get("name", ""))
    target = src.get("target") or {}
    is_container = container is not None
    reason = (
        Reason.FAILED_GET_CONTAINER_RESOURCE_METRIC if is_container else Reason.FAILED_GET_RESOURCE_METRIC
    )
    label = f"{name} container resource" if is_container else f"{name} resource"
    avg_value = _milli(target, "averageValue", reason)
    try:
        if avg_value is not None:
            raw = resource_pod_metrics(metrics.resource_metrics(name), name, container)
            usage = get_plain_metric_replicas(
                scale.spec_replicas,
                avg_value,
                name,
                tolerances,
                pods,
                raw,
                config.cpu_initialization_period,
                config.delay_of_initial_readiness_status,
                now,
            )
            current: dict[str, Any] = {"averageValue": milli_quantity(usage.usage)}
            return _Proposal(usage.replicas, label, _resource_status(name, container, current))
        if target.get("averageUtilization") is None:
            msg = "invalid resource metric source: neither a utilization target nor a value target was set"
            raise _MetricFailure(reason, msg)
        raw = resource_pod_metrics(metrics.resource_metrics(name), name, container)
        prop = get_resource_replicas(
            scale.spec_replicas,
            int(target["averageUtilization"]),
            name,
            tolerances,
            pods,
            raw,
            container,
            config.cpu_initialization_period,
            config.delay_of_initial_readiness_status,
            now,
        )
    except MetricError as exc:
        raise _MetricFailure(reason, str(exc), f"failed to get {name} utilization: {exc}") from exc
    util_current: dict[str, Any] = {
        "averageUtilization": prop.utilization,
        "averageValue": milli_quantity(prop.raw_value),
    }
    return _Proposal(
        prop.replicas,
        f"{label} utilization (percentage of request)",
        _resource_status(name, container, util_current),
    )


def _resource_status(name: str, container: str | None, current: dict[str, Any]) -> dict[str, Any]:
    if container is None:
        return {"type": "Resource", "resource": {"name": name, "current": current}}
    return {
        "type": "ContainerResource",
        "containerResource": {"name": name, "container": container, "current": current},
    }


def _pods(
    src: Mapping[str, Any],
    scale: Scale,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    config: ControllerConfig,
    tolerances: Tolerances,
    now: float,
) -> _Proposal:
    # upstream: pkg/controller/podautoscaler/horizontal.go computeStatusForPodsMetric
    ident = src.get("metric") or {}
    name = str(ident.get("name", ""))
    target = _milli(src.get("target") or {}, "averageValue", Reason.FAILED_GET_PODS_METRIC)
    if target is None:
        raise _MetricFailure(
            Reason.FAILED_GET_PODS_METRIC, "invalid pods metric source: no average value target was set"
        )
    try:
        try:
            values = metrics.pods_metric(name, ident.get("selector"))
        except MetricError as exc:
            raise MetricError(
                f"unable to get metric {name}: unable to fetch metrics from custom metrics API: {exc}"
            ) from exc
        if not values:
            raise MetricError(f"unable to get metric {name}: no metrics returned from custom metrics API")
        usage = get_plain_metric_replicas(
            scale.spec_replicas,
            target,
            "",
            tolerances,
            pods,
            values,
            config.cpu_initialization_period,
            config.delay_of_initial_readiness_status,
            now,
        )
    except MetricError as exc:
        raise _MetricFailure(
            Reason.FAILED_GET_PODS_METRIC, str(exc), f"failed to get pods metric value: {exc}"
        ) from exc
    status = {
        "type": "Pods",
        "pods": {"metric": _identifier(ident), "current": {"averageValue": milli_quantity(usage.usage)}},
    }
    return _Proposal(usage.replicas, f"pods metric {name}", status)


def _object(
    src: Mapping[str, Any],
    scale: Scale,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    tolerances: Tolerances,
    namespace: str,
) -> _Proposal:
    # upstream: pkg/controller/podautoscaler/horizontal.go computeStatusForObjectMetric
    ident = src.get("metric") or {}
    name = str(ident.get("name", ""))
    described = dict(src.get("describedObject") or {})
    target = src.get("target") or {}
    ttype = target.get("type") or _infer_target_type(target)
    reason = Reason.FAILED_GET_OBJECT_METRIC

    def fetch() -> int:
        try:
            return metrics.object_metric(name, described, ident.get("selector"))
        except MetricError as exc:
            # Go's format string shifts its arguments here; reproduced as written
            raise MetricError(
                f"unable to get metric {name}: {described.get('kind', '')} on {namespace} "
                f"{described.get('name', '')}/unable to fetch metrics from custom metrics API: {exc}"
            ) from exc

    try:
        if ttype == "Value":
            value_target = _milli(target, "value", reason)
            if value_target is None:
                raise MetricError(
                    "invalid object metric source: neither a value target nor an average value target was set"
                )
            usage = get_object_metric_replicas(scale.spec_replicas, value_target, fetch(), tolerances, pods)
            status = {
                "type": "Object",
                "object": {
                    "describedObject": described,
                    "metric": _identifier(ident),
                    "current": {"value": milli_quantity(usage.usage)},
                },
            }
            return _Proposal(usage.replicas, f"{described.get('kind', '')} metric {name}", status)
        if ttype == "AverageValue":
            avg_target = _milli(target, "averageValue", reason)
            if avg_target is None:
                raise MetricError(
                    "invalid object metric source: neither a value target nor an average value target was set"
                )
            usage = get_object_per_pod_metric_replicas(scale.status_replicas, avg_target, fetch(), tolerances)
            status = {
                "type": "Object",
                "object": {
                    "describedObject": {"kind": "", "name": ""},
                    "metric": _identifier(ident),
                    "current": {"averageValue": milli_quantity(usage.usage)},
                },
            }
            # Go labels this proposal "external metric" (copy-paste in horizontal.go); kept for fidelity
            return _Proposal(
                usage.replicas, f"external metric {name}({_go_selector(ident.get('selector'))})", status
            )
    except MetricError as exc:
        raise _MetricFailure(reason, str(exc), f"failed to get object metric value: {exc}") from exc
    raise _MetricFailure(
        reason, "invalid object metric source: neither a value target nor an average value target was set"
    )


def _external(
    src: Mapping[str, Any],
    scale: Scale,
    pods: Sequence[PodInfo],
    metrics: MetricsSource,
    tolerances: Tolerances,
    namespace: str,
) -> _Proposal:
    # upstream: pkg/controller/podautoscaler/horizontal.go computeStatusForExternalMetric
    ident = src.get("metric") or {}
    name = str(ident.get("name", ""))
    selector = ident.get("selector")
    target = src.get("target") or {}
    reason = Reason.FAILED_GET_EXTERNAL_METRIC
    avg_target = _milli(target, "averageValue", reason)
    value_target = _milli(target, "value", reason)
    label = f"external metric {name}({_go_selector(selector)})"

    def fetch() -> list[int]:
        prefix = f"unable to get external metric {namespace}/{name}/{_go_selector(selector)}: "
        try:
            values = list(metrics.external_metric(name, selector))
        except MetricError as exc:
            raise MetricError(prefix + f"unable to fetch metrics from external metrics API: {exc}") from exc
        if not values:
            raise MetricError(prefix + "no metrics returned from external metrics API")
        return values

    if avg_target is not None:
        try:
            usage = get_external_per_pod_metric_replicas(
                scale.status_replicas, avg_target, fetch(), tolerances
            )
        except MetricError as exc:
            raise _MetricFailure(reason, str(exc), f"failed to get {name} external metric: {exc}") from exc
        status = {
            "type": "External",
            "external": {
                "metric": _identifier(ident),
                "current": {"averageValue": milli_quantity(usage.usage)},
            },
        }
        return _Proposal(usage.replicas, label, status)
    if value_target is not None:
        try:
            usage = get_external_metric_replicas(scale.spec_replicas, value_target, fetch(), tolerances, pods)
        except MetricError as exc:
            raise _MetricFailure(reason, str(exc), f"failed to get external metric {name}: {exc}") from exc
        status = {
            "type": "External",
            "external": {"metric": _identifier(ident), "current": {"value": milli_quantity(usage.usage)}},
        }
        return _Proposal(usage.replicas, label, status)
    raise _MetricFailure(
        reason, "invalid external metric source: neither a value target nor an average value target was set"
    )


def _infer_target_type(target: Mapping[str, Any]) -> str:
    if target.get("value") is not None:
        return "Value"
    if target.get("averageValue") is not None:
        return "AverageValue"
    return ""


def _identifier(ident: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": ident.get("name", "")}
    if ident.get("selector") is not None:
        out["selector"] = copy.deepcopy(ident["selector"])
    return out


def _go_selector(selector: Mapping[str, Any] | None) -> str:
    """`%+v` of a *metav1.LabelSelector, as Go prints it in metric names and errors."""
    if selector is None:
        return "nil"
    labels = selector.get("matchLabels") or {}
    inner = ",".join(f"{k}: {labels[k]}," for k in sorted(labels))
    exprs = selector.get("matchExpressions") or []
    expr_txt = ",".join(
        f"LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},Values:[{' '.join(e.get('values') or [])}],}}"
        for e in exprs
    )
    return f"&LabelSelector{{MatchLabels:map[string]string{{{inner}}},MatchExpressions:[]LabelSelectorRequirement{{{expr_txt}}},}}"


# --- normalization glue --------------------------------------------------------------------------


def _normalize(
    current: int,
    prenormalized: int,
    min_replicas: int,
    max_replicas: int,
    state: HPAState,
    config: ControllerConfig,
    work: _Work,
) -> tuple[int, HPAState]:
    # upstream: pkg/controller/podautoscaler/horizontal.go normalizeDesiredReplicas
    stabilized, log = stabilize_recommendation(
        state.recommendations or (), prenormalized, config.downscale_stabilization_window, work.now
    )
    if stabilized != prenormalized:
        work.set_condition(
            ConditionType.ABLE_TO_SCALE,
            "True",
            Reason.SCALE_DOWN_STABILIZED,
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    else:
        work.set_condition(
            ConditionType.ABLE_TO_SCALE,
            "True",
            Reason.READY_FOR_NEW_SCALE,
            "recommended size matches current size",
        )
    limited = convert_desired_replicas_with_rules(
        current,
        stabilized,
        min_replicas,
        max_replicas,
        config.scale_up_limit_factor,
        config.scale_up_limit_minimum,
    )
    work.set_condition(
        ConditionType.SCALING_LIMITED,
        "False" if limited.replicas == stabilized else "True",
        limited.reason,
        limited.message,
    )
    return limited.replicas, replace(state, recommendations=log)


def _normalize_with_behaviors(
    current: int,
    prenormalized: int,
    min_replicas: int,
    max_replicas: int,
    behavior: Behavior,
    state: HPAState,
    work: _Work,
) -> tuple[int, HPAState]:
    # upstream: pkg/controller/podautoscaler/horizontal.go normalizeDesiredReplicasWithBehaviors
    stabilized, reason, message, log = stabilize_recommendation_with_behaviors(
        state.recommendations or (),
        current,
        prenormalized,
        float(behavior.scale_up.stabilization_window_seconds or 0),
        float(behavior.scale_down.stabilization_window_seconds or 0),
        work.now,
    )
    if stabilized != prenormalized:
        work.set_condition(ConditionType.ABLE_TO_SCALE, "True", reason, message)
    else:
        work.set_condition(
            ConditionType.ABLE_TO_SCALE,
            "True",
            Reason.READY_FOR_NEW_SCALE,
            "recommended size matches current size",
        )
    limited = convert_desired_replicas_with_behavior_rate(
        current,
        stabilized,
        min_replicas,
        max_replicas,
        behavior,
        state.scale_up_events,
        state.scale_down_events,
        work.now,
    )
    work.set_condition(
        ConditionType.SCALING_LIMITED,
        "False" if limited.replicas == stabilized else "True",
        limited.reason,
        limited.message,
    )
    return limited.replicas, replace(state, recommendations=log)


# --- status ---------------------------------------------------------------------------------------


def _status(
    old: Mapping[str, Any],
    current: int,
    desired: int,
    metric_statuses: Sequence[Mapping[str, Any]] | None,
    conditions: list[dict[str, Any]],
    now: float,
    format_time: Callable[[float], str],
    rescale: bool,
) -> dict[str, Any]:
    """setStatus in wire form (omitempty fields dropped)."""
    # upstream: pkg/controller/podautoscaler/horizontal.go setStatus
    status: dict[str, Any] = {}
    if current:
        status["currentReplicas"] = current
    status["desiredReplicas"] = desired
    last = format_time(now) if rescale else old.get("lastScaleTime")
    if last is not None:
        status["lastScaleTime"] = last
    if metric_statuses:
        status["currentMetrics"] = [copy.deepcopy(dict(m)) for m in metric_statuses]
    if conditions:
        status["conditions"] = conditions
    return status


def _with_conditions(old: Mapping[str, Any], conditions: list[dict[str, Any]]) -> dict[str, Any]:
    status = copy.deepcopy(dict(old))
    if conditions:
        status["conditions"] = conditions
    return status
