"""The HPA replica calculator: one metric's readings in, a replica proposal out.

Re-expressed from kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator.go and
metrics/utilization.go. Integer arithmetic is kept where Go uses it (truncated utilization percent,
integer averages) because the truncation decides ties at the tolerance boundary."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1

GO_ZERO_TIME = -1.0e15
"""Stand-in for Go's zero `time.Time` (year 1): earlier than any simulated instant."""

CPU = "cpu"


class MetricError(Exception):
    """A metric could not be evaluated; the message is the Go error text."""


@dataclass(frozen=True)
class Tolerances:
    """Per-direction usage-ratio tolerance, inclusive at both ends."""

    scale_down: float = 0.1
    scale_up: float = 0.1

    def is_within(self, usage_ratio: float) -> bool:
        # upstream: pkg/controller/podautoscaler/replica_calculator.go Tolerances.isWithin
        return (1.0 - self.scale_down) <= usage_ratio <= (1.0 + self.scale_up)


@dataclass(frozen=True)
class ReadyCondition:
    status: str
    """"True", "False" or "Unknown" (Kubernetes ConditionStatus)."""
    last_transition_time: float = GO_ZERO_TIME


@dataclass(frozen=True)
class Container:
    name: str
    requests: Mapping[str, int] = field(default_factory=dict)
    """Resource name -> request in milli-units (absent = no request for that resource)."""


@dataclass(frozen=True)
class PodInfo:
    """What the replica calculator reads from a Pod listed by the scale selector."""

    name: str
    phase: str = "Running"
    deleted: bool = False
    """True when the pod has a deletionTimestamp."""
    start_time: float | None = GO_ZERO_TIME
    """status.startTime; None when unset (nil pointer)."""
    ready: ReadyCondition | None = None
    """The Ready condition, or None when the pod has none."""
    containers: tuple[Container, ...] = ()
    """Containers plus restartable (sidecar) init containers, in spec order."""

    @property
    def is_ready(self) -> bool:
        return self.ready is not None and self.ready.status == "True"


@dataclass(frozen=True)
class PodMetric:
    """One pod's sample as the metrics APIs return it."""

    value: int
    timestamp: float = GO_ZERO_TIME
    window: float = 60.0


@dataclass(frozen=True)
class RawPodMetrics:
    """One PodMetrics item of the resource metrics API (metrics-server): per-container usage."""

    pod: str
    containers: tuple[tuple[str, Mapping[str, int]], ...]
    """(container name, resource name -> usage in milli-units)."""
    timestamp: float = GO_ZERO_TIME
    window: float = 60.0


def resource_pod_metrics(
    raw: Sequence[RawPodMetrics], resource: str, container: str | None
) -> dict[str, PodMetric]:
    """PodMetricsInfo from resource-metrics items: the named container's usage or the pod sum.

    A pod lacking the resource in any container has no metric (it counts as missing)."""
    # upstream: pkg/controller/podautoscaler/metrics/client.go GetResourceMetric, getContainerMetrics, getPodMetrics
    prefix = f"unable to get metrics for resource {resource}: "
    if not raw:
        raise MetricError(prefix + "no metrics returned from resource metrics API")
    result: dict[str, PodMetric] = {}
    for item in raw:
        if container:
            usage = next((u for name, u in item.containers if name == container), None)
            if usage is None:
                raise MetricError(
                    prefix
                    + f"failed to get container metrics: container {container} not present in metrics for pod {item.pod}"
                )
            if resource in usage:
                result[item.pod] = PodMetric(usage[resource], item.timestamp, item.window)
            continue
        if not item.containers or any(resource not in usage for _, usage in item.containers):
            continue
        total = sum(usage[resource] for _, usage in item.containers)
        result[item.pod] = PodMetric(total, item.timestamp, item.window)
    return result


@dataclass(frozen=True)
class PodGroups:
    ready_pod_count: int
    unready: frozenset[str] = field(default_factory=frozenset)
    missing: frozenset[str] = field(default_factory=frozenset)
    ignored: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ResourceProposal:
    replicas: int
    utilization: int
    """Truncated percent of request, before missing/unready pods were filled in."""
    raw_value: int
    """Average usage in milli-units over the pods that had both a metric and a request."""


@dataclass(frozen=True)
class UsageProposal:
    replicas: int
    usage: int
    """The reported usage in milli-units (average, total or per-pod as the metric type defines)."""


def group_pods(
    pods: Sequence[PodInfo],
    metrics: Mapping[str, PodMetric],
    resource: str,
    cpu_initialization_period: float,
    delay_of_initial_readiness_status: float,
    now: float,
) -> PodGroups:
    """Sort pods into ready / unready / missing-metric / ignored, as the HPA does before averaging."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go groupPods
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleted or pod.phase == "Failed":
            ignored.add(pod.name)
            continue
        if pod.phase == "Pending":
            unready.add(pod.name)
            continue
        metric = metrics.get(pod.name)
        if metric is None:
            missing.add(pod.name)
            continue
        if resource == CPU:
            condition = pod.ready
            if condition is None or pod.start_time is None:
                is_unready = True
            elif pod.start_time + cpu_initialization_period > now:
                # still initialising: distrust the sample unless a full window passed since the transition
                is_unready = condition.status == "False" or metric.timestamp < (
                    condition.last_transition_time + metric.window
                )
            else:
                # past initialisation: only a pod that has never become ready is distrusted
                is_unready = condition.status == "False" and (
                    pod.start_time + delay_of_initial_readiness_status > condition.last_transition_time
                )
            if is_unready:
                unready.add(pod.name)
                continue
        ready += 1
    return PodGroups(ready, frozenset(unready), frozenset(missing), frozenset(ignored))


def calculate_requests(pods: Sequence[PodInfo], container: str | None, resource: str) -> dict[str, int]:
    """Pod name -> request of the resource: the named container's or the sum over containers."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go calculatePodRequestsFromContainers
    requests: dict[str, int] = {}
    for pod in pods:
        total = 0
        found = False
        for c in pod.containers:
            if not container or container == c.name:
                request = c.requests.get(resource)
                if request is None:
                    raise MetricError(
                        f"missing request for {resource} in container {c.name} of Pod {pod.name}"
                    )
                total += request
            if container == c.name:
                found = True
                break
        if container and not found:
            raise MetricError(f"container {container} not found in Pod {pod.name}")
        requests[pod.name] = total
    return requests


def resource_utilization_ratio(
    metrics: Mapping[str, PodMetric], requests: Mapping[str, int], target_utilization: int
) -> tuple[float, int, int]:
    """(usage ratio, current utilization percent, raw average value) with Go's integer truncation."""
    # upstream: pkg/controller/podautoscaler/metrics/utilization.go GetResourceUtilizationRatio
    metrics_total = 0
    requests_total = 0
    entries = 0
    for pod_name in sorted(metrics):
        request = requests.get(pod_name)
        if request is None:
            continue  # a metric for a pod we do not know: extraneous
        metrics_total += metrics[pod_name].value
        requests_total += request
        entries += 1
    if requests_total == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = _go_div(metrics_total * 100, requests_total)
    return _float_div(utilization, target_utilization), utilization, _go_div(metrics_total, entries)


def metric_usage_ratio(metrics: Mapping[str, PodMetric], target_usage: int) -> tuple[float, int]:
    """(usage ratio, integer average usage)."""
    # upstream: pkg/controller/podautoscaler/metrics/utilization.go GetMetricUsageRatio
    total = sum(m.value for m in metrics.values())
    usage = _go_div(total, len(metrics))
    return _float_div(usage, target_usage), usage


def get_resource_replicas(
    current_replicas: int,
    target_utilization: int,
    resource: str,
    tolerances: Tolerances,
    pods: Sequence[PodInfo],
    metrics: Mapping[str, PodMetric],
    container: str | None,
    cpu_initialization_period: float,
    delay_of_initial_readiness_status: float,
    now: float,
) -> ResourceProposal:
    """Replicas for a Resource/ContainerResource metric with an averageUtilization target."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go GetResourceReplicas
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    groups = group_pods(
        pods, metrics, resource, cpu_initialization_period, delay_of_initial_readiness_status, now
    )
    for name in groups.ignored | groups.unready:
        metrics.pop(name, None)
    if not metrics:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    requests = calculate_requests(pods, container, resource)
    ratio, utilization, raw = resource_utilization_ratio(metrics, requests, target_utilization)

    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.is_within(ratio):
            return ResourceProposal(current_replicas, utilization, raw)
        return ResourceProposal(_ceil_int32(ratio * groups.ready_pod_count), utilization, raw)

    if groups.missing:
        if ratio < 1.0:
            # scale-down: missing pods are assumed to use their full request (or the target if higher)
            fallback = max(100, target_utilization)
            for name in groups.missing:
                metrics[name] = PodMetric(_go_div(requests[name] * fallback, 100))
        elif ratio > 1.0:
            for name in groups.missing:
                metrics[name] = PodMetric(0)
    if scale_up_with_unready:
        for name in groups.unready:
            metrics[name] = PodMetric(0)

    new_ratio, _, _ = resource_utilization_ratio(metrics, requests, target_utilization)
    return ResourceProposal(
        _recompute(current_replicas, ratio, new_ratio, len(metrics), tolerances), utilization, raw
    )


def get_plain_metric_replicas(
    current_replicas: int,
    target_usage: int,
    resource: str,
    tolerances: Tolerances,
    pods: Sequence[PodInfo],
    metrics: Mapping[str, PodMetric],
    cpu_initialization_period: float,
    delay_of_initial_readiness_status: float,
    now: float,
) -> UsageProposal:
    """Replicas for a per-pod average-value target (Pods metrics, raw Resource averageValue).

    `resource` is the resource name for raw resource targets and "" for custom pod metrics, so the
    CPU readiness rule of groupPods applies only to raw CPU targets."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go calcPlainMetricReplicas
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    groups = group_pods(
        pods, metrics, resource, cpu_initialization_period, delay_of_initial_readiness_status, now
    )
    for name in groups.ignored | groups.unready:
        metrics.pop(name, None)
    if not metrics:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    ratio, usage = metric_usage_ratio(metrics, target_usage)

    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.is_within(ratio):
            return UsageProposal(current_replicas, usage)
        return UsageProposal(_ceil_int32(ratio * groups.ready_pod_count), usage)

    if groups.missing:
        if ratio < 1.0:
            for name in groups.missing:
                metrics[name] = PodMetric(target_usage)  # scale-down: missing pods sit exactly at target
        elif ratio > 1.0:
            for name in groups.missing:
                metrics[name] = PodMetric(0)
    if scale_up_with_unready:
        for name in groups.unready:
            metrics[name] = PodMetric(0)

    new_ratio, _ = metric_usage_ratio(metrics, target_usage)
    return UsageProposal(_recompute(current_replicas, ratio, new_ratio, len(metrics), tolerances), usage)


def ready_pods_count(pods: Iterable[PodInfo]) -> int:
    """Running pods whose Ready condition is True."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go getReadyPodsCount
    pods = list(pods)
    if not pods:
        raise MetricError(
            "unable to calculate ready pods: no pods returned by selector while calculating replica count"
        )
    return sum(1 for p in pods if p.phase == "Running" and p.is_ready)


def usage_ratio_replica_count(
    current_replicas: int, usage_ratio: float, tolerances: Tolerances, pods: Sequence[PodInfo]
) -> int:
    """Replicas from a whole-target usage ratio; from zero replicas tolerance and readiness are ignored."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go getUsageRatioReplicaCount
    if current_replicas != 0:
        if tolerances.is_within(usage_ratio):
            return current_replicas
        proposal = usage_ratio * ready_pods_count(pods)
        return MAX_INT32 if proposal > MAX_INT32 else math.ceil(proposal)
    return _ceil_int32(usage_ratio)


def get_object_metric_replicas(
    current_replicas: int, target_usage: int, usage: int, tolerances: Tolerances, pods: Sequence[PodInfo]
) -> UsageProposal:
    """Object metric with a Value target: usage/target scales the ready pod count."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go GetObjectMetricReplicas
    ratio = _float_div(usage, target_usage)
    return UsageProposal(usage_ratio_replica_count(current_replicas, ratio, tolerances, pods), usage)


def get_object_per_pod_metric_replicas(
    status_replicas: int, target_average_usage: int, usage: int, tolerances: Tolerances
) -> UsageProposal:
    """Object metric with an AverageValue target: replicas = ceil(usage / per-pod target)."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go GetObjectPerPodMetricReplicas
    replicas = status_replicas
    ratio = _float_div(usage, float(target_average_usage) * float(status_replicas))
    if not tolerances.is_within(ratio):
        replicas = _ceil_int32(_float_div(usage, target_average_usage))
    return UsageProposal(replicas, _ceil_int64(_float_div(usage, status_replicas)))


def sum_external(values: Sequence[int]) -> int:
    """Sum of external series, capped at MaxInt64 on overflow."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go GetExternalMetricReplicas (sum loop)
    total = 0
    for value in values:
        if value > 0 and total > MAX_INT64 - value:
            return MAX_INT64
        total += value
    return total


def get_external_metric_replicas(
    current_replicas: int,
    target_usage: int,
    values: Sequence[int],
    tolerances: Tolerances,
    pods: Sequence[PodInfo],
) -> UsageProposal:
    """External metric with a Value target: the summed series against the whole target."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go GetExternalMetricReplicas
    usage = sum_external(values)
    ratio = _float_div(usage, target_usage)
    return UsageProposal(usage_ratio_replica_count(current_replicas, ratio, tolerances, pods), usage)


def get_external_per_pod_metric_replicas(
    status_replicas: int, target_usage_per_pod: int, values: Sequence[int], tolerances: Tolerances
) -> UsageProposal:
    """External metric with an AverageValue target: replicas = ceil(sum / per-pod target)."""
    # upstream: pkg/controller/podautoscaler/replica_calculator.go GetExternalPerPodMetricReplicas
    usage = 0
    for value in values:
        usage += value
        if usage > MAX_INT64 or usage < 0:
            usage = MAX_INT64  # Go wraps to negative on overflow and then caps
            break
    replicas = status_replicas
    ratio = _float_div(usage, float(target_usage_per_pod) * float(status_replicas))
    if not tolerances.is_within(ratio):
        replicas = _ceil_int32(_float_div(usage, target_usage_per_pod))
    if float(usage) >= float(MAX_INT64):
        reported = MAX_INT64
    else:
        reported = _ceil_int64(_float_div(usage, status_replicas))
    return UsageProposal(replicas, reported)


def _recompute(current: int, ratio: float, new_ratio: float, entries: int, tolerances: Tolerances) -> int:
    """Shared tail of the resource and plain paths once missing/unready pods were filled in."""
    if tolerances.is_within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current  # too small a change, or filling in flipped the direction
    new_replicas = _ceil_int32(new_ratio * entries)
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current  # the changed pod count would move against the ratio
    return new_replicas


def _go_div(a: int, b: int) -> int:
    """Go integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _float_div(a: float, b: float) -> float:
    """Go float64 division: x/0 is ±Inf (or NaN for 0/0) instead of an exception."""
    fa, fb = float(a), float(b)
    if fb == 0.0:
        if fa == 0.0:
            return math.nan
        return math.inf if fa > 0 else -math.inf
    return fa / fb


def _ceil_int32(value: float) -> int:
    """int32(math.Ceil(v)) for the values the HPA produces; saturates instead of wrapping."""
    if math.isnan(value):
        return 0
    if value >= MAX_INT32:
        return MAX_INT32
    return math.ceil(value)


def _ceil_int64(value: float) -> int:
    if math.isnan(value):
        return 0
    if value >= MAX_INT64:
        return MAX_INT64
    return math.ceil(value)
