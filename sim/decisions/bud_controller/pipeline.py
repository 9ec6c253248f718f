"""The autoscaling pipeline in front of the KPA/BudScaler algorithms: pods, counts and metric inputs.

Pure: the caller passes the pods its cache selected, a per-pod metric reader and the simulated
wall-clock time (for cron schedule hints). The result is everything upstream puts into its
`ScalingRequest` except the algorithm's own configuration.

# upstream: pkg/controller/budaiscaler/autoscaler.go Scale, getPods, countReadyPods,
#           countStartingPods, countPendingPods, collectGPUMetrics, collectCostMetrics,
#           getScheduleHintData; pkg/metrics/collector.go CollectMetrics, calculateAggregates
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field

MetricReader = Callable[[str, str], float | None]
"""(pod name, metric name) -> the scraped value, or None when the pod has no sample."""

SourceCollector = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], "MetricSnapshot | None"]
"""(metricsSources entry, running pods) -> the source's snapshot, or None when collecting it failed.
Lets the load model's per-source-type collector (pod, resource, prometheus, external...) stand in
for the plain per-pod read."""

GPU_MEMORY_METRIC = "gpu_memory_utilization"
GPU_COMPUTE_METRIC = "gpu_compute_utilization"
"""Per-pod GPU utilisation (0-100) the simulated DCGM exporter serves."""

DEFAULT_INSTANCE_TYPE = "g5.xlarge"
"""# upstream: autoscaler.go collectCostMetrics ("For now, use a default instance type")"""
DEFAULT_CLOUD_PROVIDER = "aws"

# (on-demand $/h, spot $/h) per instance type, per provider.
# upstream: pkg/controller/budaiscaler/cost/calculator.go initializePricing (approximate list prices)
PRICE_TABLE: Mapping[str, Mapping[str, tuple[float, float]]] = {
    "aws": {
        "p4d.24xlarge": (32.77, 9.83),
        "p4de.24xlarge": (40.97, 12.29),
        "p3.2xlarge": (3.06, 0.92),
        "p3.8xlarge": (12.24, 3.67),
        "p3.16xlarge": (24.48, 7.34),
        "g5.xlarge": (1.02, 0.31),
        "g5.2xlarge": (1.21, 0.36),
        "g5.4xlarge": (1.62, 0.49),
        "g5.12xlarge": (5.67, 1.70),
        "g4dn.xlarge": (0.526, 0.16),
        "g4dn.12xlarge": (3.912, 1.17),
    },
    "gcp": {
        "a2-highgpu-1g": (3.67, 1.10),
        "a2-highgpu-2g": (7.35, 2.20),
        "a2-highgpu-4g": (14.69, 4.41),
        "a2-highgpu-8g": (29.39, 8.82),
        "n1-standard-4-t4": (0.55, 0.17),
    },
    "azure": {
        "Standard_NC6s_v3": (3.06, 0.92),
        "Standard_NC12s_v3": (6.12, 1.84),
        "Standard_NC24s_v3": (12.24, 3.67),
        "Standard_ND96asr_v4": (27.20, 8.16),
    },
}


class MetricSnapshot(BaseModel):
    """Per-pod values of one metric source and their aggregates. # upstream: pkg/types/core.go"""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    values: dict[str, float]
    average: float = 0.0
    sum: float = 0.0
    min: float = 0.0
    max: float = 0.0
    count: int = 0


class GPUMetrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    memory_utilization: float = Field(alias="memoryUtilization")
    compute_utilization: float = Field(alias="computeUtilization")
    gpu_count: int = Field(alias="gpuCount")


class CostMetrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    current_cost_per_hour: float = Field(alias="currentCostPerHour")
    budget_per_hour: float = Field(alias="budgetPerHour")
    per_replica_cost_per_hour: float = Field(alias="perReplicaCostPerHour")
    """NaN at 0 replicas: upstream divides 0.0 by 0 in float64."""


class ScheduleHintData(BaseModel):
    """An active schedule hint, used by the algorithms as a replica floor."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str
    target_replicas: int = Field(alias="targetReplicas")
    reason: str


class ActivationSignal(BaseModel):
    """Corrected profile only: a role at zero sees the queue waiting in front of it."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    queued: float


class ScalingInputs(BaseModel):
    """What the algorithm gets from the pipeline (upstream's ScalingRequest minus configuration)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    current_replicas: int = Field(alias="currentReplicas")
    running_pod_count: int = Field(alias="runningPodCount")
    ready_pod_count: int = Field(alias="readyPodCount")
    pending_pod_count: int = Field(alias="pendingPodCount")
    starting_pod_count: int = Field(alias="startingPodCount")
    metric_snapshots: dict[str, MetricSnapshot] = Field(alias="metricSnapshots")
    gpu_metrics: GPUMetrics | None = Field(default=None, alias="gpuMetrics")
    cost_metrics: CostMetrics | None = Field(default=None, alias="costMetrics")
    schedule_hint: ScheduleHintData | None = Field(default=None, alias="scheduleHint")
    activation: ActivationSignal | None = None
    notes: tuple[str, ...] = ()
    """Human-readable facts for the event log (e.g. prediction enabled but not simulated)."""


# --- pods -------------------------------------------------------------------------------------


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


def _deleting(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """The first Ready condition decides. # upstream: autoscaler.go isPodReady"""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def running_pods(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Running and not being deleted, sorted by name. # upstream: autoscaler.go getPods"""
    return sorted((p for p in pods if _phase(p) == "Running" and not _deleting(p)), key=_name)


def pending_count(pods: Sequence[Mapping[str, Any]]) -> int:
    """# upstream: autoscaler.go countPendingPods"""
    return sum(1 for p in pods if _phase(p) == "Pending" and not _deleting(p))


# --- metrics ----------------------------------------------------------------------------------


def snapshot_of(values: Mapping[str, float]) -> MetricSnapshot:
    """# upstream: pkg/metrics/collector.go calculateAggregates (all zero when there are no values)"""
    ordered = {k: float(values[k]) for k in sorted(values)}
    if not ordered:
        return MetricSnapshot(values={})
    vs = list(ordered.values())
    total = math.fsum(vs)
    return MetricSnapshot(
        values=ordered, average=total / len(vs), sum=total, min=min(vs), max=max(vs), count=len(vs)
    )


def collect_metric_snapshots(
    running: Sequence[Mapping[str, Any]],
    sources: Sequence[Mapping[str, Any]],
    read: MetricReader,
    collect: SourceCollector | None = None,
) -> dict[str, MetricSnapshot]:
    """One snapshot per source from the ready pods only.

    No running pods: every source fails ("no pods to collect metrics from"), so no snapshot at all.
    Running pods but none ready: an empty snapshot (all aggregates 0), as upstream. A source where
    every ready pod lacks a sample fails and is left out.

    # upstream: pkg/metrics/collector.go CollectAllMetrics, CollectMetrics
    """
    if not running:
        return {}
    out: dict[str, MetricSnapshot] = {}
    if collect is not None:
        for source in sources:
            snap = collect(source, running)
            if snap is not None:
                out[str(source.get("targetMetric", ""))] = snap
        return out
    ready = [p for p in running if _phase(p) == "Running" and pod_is_ready(p)]
    for source in sources:
        metric = str(source.get("targetMetric", ""))
        values: dict[str, float] = {}
        failures = 0
        for pod in ready:
            v = read(_name(pod), metric)
            if v is None:
                failures += 1
                continue
            values[_name(pod)] = float(v)
        if not values and failures:
            continue
        out[metric] = snapshot_of(values)
    return out


def collect_gpu_metrics(running: Sequence[Mapping[str, Any]], read: MetricReader) -> GPUMetrics | None:
    """Average GPU memory and compute utilisation over the pods that report them.

    Upstream asks one DCGM exporter for every GPU it sees; the simulation reads each pod's GPU.
    # upstream: autoscaler.go collectGPUMetrics
    """
    mem: list[float] = []
    comp: list[float] = []
    for pod in running:
        m = read(_name(pod), GPU_MEMORY_METRIC)
        c = read(_name(pod), GPU_COMPUTE_METRIC)
        if m is None and c is None:
            continue
        mem.append(float(m or 0.0))
        comp.append(float(c or 0.0))
    if not mem:
        return None
    return GPUMetrics(
        memory_utilization=math.fsum(mem) / len(mem),
        compute_utilization=math.fsum(comp) / len(comp),
        gpu_count=len(mem),
    )


_QUANTITY_SUFFIX = {
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "Ki": 1024.0,
    "Mi": 1024.0**2,
    "Gi": 1024.0**3,
}


def quantity_to_float(q: object) -> float:
    """resource.Quantity.AsApproximateFloat64 for the forms a budget uses ("10", "2.5", "500m")."""
    if isinstance(q, int | float) and not isinstance(q, bool):
        return float(q)
    s = str(q).strip()
    for suffix in sorted(_QUANTITY_SUFFIX, key=len, reverse=True):
        if suffix and s.endswith(suffix):
            return float(s[: -len(suffix)]) * _QUANTITY_SUFFIX[suffix]
    return float(s)


def hourly_cost(provider: str, instance_type: str, count: int, spot: bool) -> float | None:
    """# upstream: cost/calculator.go CalculateHourlyCost (None: unknown provider or instance type)"""
    price = PRICE_TABLE.get(provider, {}).get(instance_type)
    if price is None:
        return None
    return (price[1] if spot else price[0]) * count


def collect_cost_metrics(cost_config: Mapping[str, Any] | None, current_replicas: int) -> CostMetrics | None:
    """# upstream: autoscaler.go collectCostMetrics"""
    if not cost_config or not cost_config.get("enabled"):
        return None
    provider = str(cost_config.get("cloudProvider") or DEFAULT_CLOUD_PROVIDER)
    cost = hourly_cost(
        provider, DEFAULT_INSTANCE_TYPE, current_replicas, bool(cost_config.get("preferSpotInstances"))
    )
    if cost is None:
        return None
    budget = cost_config.get("budgetPerHour")
    per_replica = cost / current_replicas if current_replicas else math.nan
    return CostMetrics(
        current_cost_per_hour=cost,
        budget_per_hour=quantity_to_float(budget) if budget is not None else 0.0,
        per_replica_cost_per_hour=per_replica,
    )


# --- schedule hints ---------------------------------------------------------------------------


def parse_go_duration(text: object) -> timedelta:
    """metav1.Duration strings such as "1h30m", "90s", "2h"."""
    s = str(text).strip()
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3}
    total = 0.0
    num = ""
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isdigit() or ch == ".":
            num += ch
            i += 1
            continue
        unit = "ms" if s.startswith("ms", i) else ch
        if unit not in units or not num:
            raise ValueError(f"invalid duration {text!r}: expected a Go duration such as '1h30m' or '90s'")
        total += float(num) * units[unit]
        num = ""
        i += len(unit)
    if num:
        raise ValueError(f"invalid duration {text!r}: missing unit after {num!r}")
    return timedelta(seconds=total)


def hint_is_active(cron_expression: str, duration: timedelta, wall_now: datetime) -> bool:
    """Active iff the first cron firing after (now - duration) is not after now, and now is before
    that firing + duration. An unparsable expression is never active.

    # upstream: pkg/controller/budaiscaler/prediction/predictor.go ScheduleHint.IsActive
    """
    try:
        it = croniter(cron_expression, wall_now - duration)
    except (ValueError, KeyError):
        return False
    nxt = it.get_next(datetime)
    active: bool = nxt <= wall_now < nxt + duration
    return active


def active_schedule_hint(hints: Sequence[Mapping[str, Any]], wall_now: datetime) -> ScheduleHintData | None:
    """The first active hint in list order. # upstream: predictor.go GetActiveScheduleHint"""
    for hint in hints:
        try:
            duration = parse_go_duration(hint.get("duration", "0s"))
        except ValueError:
            continue
        if hint_is_active(str(hint.get("cronExpression", "")), duration, wall_now):
            name = str(hint.get("name", ""))
            return ScheduleHintData(
                name=name, target_replicas=int(hint.get("targetReplicas", 0)), reason=f"schedule hint: {name}"
            )
    return None


# --- the whole pipeline -----------------------------------------------------------------------


def build_scaling_inputs(
    *,
    spec: Mapping[str, Any],
    current_replicas: int,
    pods: Sequence[Mapping[str, Any]],
    read: MetricReader,
    wall_now: datetime,
    schedule_hints: Sequence[Mapping[str, Any]] | None = None,
    no_scale_from_zero: bool,
    activation_queue: float | None = None,
    collect: SourceCollector | None = None,
) -> ScalingInputs:
    """Everything the algorithm needs about the target's pods at this instant.

    `schedule_hints` defaults to the scaler's own `spec.scheduleHints`; the controller passes the
    upstream shared registry when reproducing that behaviour.
    # upstream: autoscaler.go Scale (from getPods up to algo.ComputeRecommendation)
    """
    running = running_pods(pods)
    ready = sum(1 for p in running if pod_is_ready(p))
    running_not_ready = len(running) - ready
    pending = pending_count(pods)
    notes: list[str] = []

    snapshots = collect_metric_snapshots(running, list(spec.get("metricsSources") or []), read, collect)
    if not running:
        notes.append("no running pods: no metric snapshot")

    gpu_cfg = spec.get("gpuConfig") or {}
    gpu = collect_gpu_metrics(running, read) if gpu_cfg.get("enabled") else None
    cost = collect_cost_metrics(spec.get("costConfig"), current_replicas)

    own_hints = list(spec.get("scheduleHints") or [])
    hints = own_hints if schedule_hints is None else list(schedule_hints)
    pred_cfg = spec.get("predictionConfig") or {}
    hint: ScheduleHintData | None = None
    if pred_cfg.get("enabled"):
        notes.append("prediction enabled but not simulated: running without prediction data")
        hint = active_schedule_hint(hints, wall_now)
    elif own_hints:
        hint = active_schedule_hint(hints, wall_now)

    activation: ActivationSignal | None = None
    if not running and current_replicas == 0 and not no_scale_from_zero and activation_queue:
        activation = ActivationSignal(queued=float(activation_queue))
        notes.append(f"activation: {activation_queue:g} requests waiting for a role at zero")

    return ScalingInputs(
        current_replicas=current_replicas,
        running_pod_count=len(running),
        ready_pod_count=ready,
        pending_pod_count=pending,
        starting_pod_count=running_not_ready + pending,
        metric_snapshots=snapshots,
        gpu_metrics=gpu,
        cost_metrics=cost,
        schedule_hint=hint,
        activation=activation,
        notes=tuple(notes),
    )


def apply_activation(desired: int, inputs: ScalingInputs, max_replicas: int) -> tuple[int, str | None]:
    """Corrected profile: a role at zero with requests waiting wakes up to at least one replica.

    Upstream has no such path (Quirk.NO_SCALE_FROM_ZERO): with no pods there is no snapshot.
    """
    if inputs.activation is None or desired >= 1 or max_replicas < 1:
        return desired, None
    return 1, f"activation: {inputs.activation.queued:g} requests waiting, scaling from zero to 1"
