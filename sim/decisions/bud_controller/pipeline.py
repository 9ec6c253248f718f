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
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sim.decisions.bud import cost as bud_cost
from sim.decisions.bud.goparse import parse_duration_seconds, quantity_as_float
from sim.decisions.bud.schedule import ScheduleHint, is_active

MetricReader = Callable[[str, str], float | None]
"""(pod name, metric name) -> the scraped value, or None when the pod has no sample."""

SourceCollector = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], "MetricSnapshot | None"]
"""(metricsSources entry, running pods) -> the source's snapshot, or None when collecting it failed.
Lets the load model's per-source-type collector (pod, resource, prometheus, external...) stand in
for the plain per-pod read."""

DCGM_GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
DCGM_FB_USED = "DCGM_FI_DEV_FB_USED"
DCGM_FB_FREE = "DCGM_FI_DEV_FB_FREE"
"""Per-pod DCGM series the load model serves (percent busy; framebuffer MiB used / free)."""


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
    """Human-readable facts for the event log (e.g. no running pods, activation from zero)."""


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
    """Average GPU compute and memory utilisation over the running pods' GPUs.

    A GPU counts when it reports DCGM_FI_DEV_GPU_UTIL; its memory utilisation is used / total x 100
    (0 when the total is unknown). Upstream scrapes one DCGM exporter for every GPU it sees; the
    simulation reads each pod's GPU.
    # upstream: autoscaler.go collectGPUMetrics; pkg/gpu/provider.go parseMetrics, calculateAverages
    """
    mem: list[float] = []
    comp: list[float] = []
    for pod in running:
        util = read(_name(pod), DCGM_GPU_UTIL)
        if util is None:
            continue
        used = read(_name(pod), DCGM_FB_USED)
        free = read(_name(pod), DCGM_FB_FREE)
        total = (used or 0.0) + (free or 0.0)
        comp.append(float(util))
        mem.append(float(used or 0.0) / total * 100.0 if total > 0 else 0.0)
    if not comp:
        return None
    return GPUMetrics(
        memory_utilization=math.fsum(mem) / len(mem),
        compute_utilization=math.fsum(comp) / len(comp),
        gpu_count=len(comp),
    )


def collect_cost_metrics(
    cost_config: Mapping[str, Any] | None,
    current_replicas: int,
    *,
    cost_provider_case_sensitive: bool = True,
) -> CostMetrics | None:
    """Upstream's price table, instance type always g5.xlarge, provider "" -> aws, unknown provider
    -> none; per-replica cost NaN at 0 replicas. Delegates to the algorithm port's cost module.
    `cost_provider_case_sensitive` is Quirk.COST_PROVIDER_CASE_SENSITIVE (off: "AWS" matches aws and
    the per-replica cost at 0 replicas is one instance's price).

    # upstream: autoscaler.go collectCostMetrics
    """
    if not cost_config or not cost_config.get("enabled"):
        return None
    budget = cost_config.get("budgetPerHour")
    cost = bud_cost.collect_cost_metrics(
        str(cost_config.get("cloudProvider") or ""),
        None if budget is None else quantity_as_float(budget),
        bool(cost_config.get("preferSpotInstances")),
        current_replicas,
        cost_provider_case_sensitive=cost_provider_case_sensitive,
    )
    if cost is None:
        return None
    return CostMetrics(
        current_cost_per_hour=cost.current_cost_per_hour,
        budget_per_hour=cost.budget_per_hour,
        per_replica_cost_per_hour=cost.per_replica_cost_per_hour,
    )


# --- schedule hints ---------------------------------------------------------------------------


def hints_from_spec(raw: Sequence[Mapping[str, Any]]) -> tuple[ScheduleHint, ...]:
    """spec.scheduleHints in wire form -> the algorithm port's ScheduleHint (an unparsable duration
    could not have been admitted as a metav1.Duration; such a hint is dropped)."""
    out: list[ScheduleHint] = []
    for h in raw:
        duration = parse_duration_seconds(str(h.get("duration", "")))
        if duration is None:
            continue
        out.append(
            ScheduleHint(
                name=str(h.get("name", "")),
                cron_expression=str(h.get("cronExpression", "")),
                duration_s=duration,
                target_replicas=int(h.get("targetReplicas", 0)),
            )
        )
    return tuple(out)


def active_schedule_hint(hints: Sequence[ScheduleHint], wall_now: datetime) -> ScheduleHintData | None:
    """The first active hint in book order, cron evaluated at the simulated wall-clock time.

    # upstream: prediction/predictor.go GetActiveScheduleHint, ScheduleHint.IsActive
    """
    for hint in hints:
        if is_active(hint, wall_now):
            return ScheduleHintData(
                name=hint.name, target_replicas=hint.target_replicas, reason=f"schedule hint: {hint.name}"
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
    schedule_hints: Sequence[ScheduleHint] | None = None,
    no_scale_from_zero: bool,
    activation_queue: float | None = None,
    collect: SourceCollector | None = None,
    cost_provider_case_sensitive: bool = True,
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
    cost = collect_cost_metrics(
        spec.get("costConfig"), current_replicas, cost_provider_case_sensitive=cost_provider_case_sensitive
    )

    own_hints = hints_from_spec(list(spec.get("scheduleHints") or []))
    hints = own_hints if schedule_hints is None else tuple(schedule_hints)
    pred_cfg = spec.get("predictionConfig") or {}
    hint: ScheduleHintData | None = None
    if pred_cfg.get("enabled"):
        # the time-series prediction is made by the controller (sim/controllers/bud_learning.py);
        # an active hint wins over it, as in predictor.go PredictReplicas
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
