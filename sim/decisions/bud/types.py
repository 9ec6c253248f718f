"""Inputs and outputs of the BudAIScaler algorithms (KPA and BudScaler), as plain frozen dataclasses.

Mirrors upstream's algorithm.ScalingRequest / ScalingRecommendation and pkg/types (MetricSnapshot,
GPUMetrics, CostMetrics, PredictionData), with two additions the simulator needs: a `reason` enum
naming the pipeline step that decided the outcome, and the list of quirks that changed it.
Times are simulated seconds (`now`), never wall-clock objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from model.quirks import Quirk


class Strategy(StrEnum):
    """api/scaler/v1alpha1 ScalingStrategyType."""

    HPA = "HPA"
    KPA = "KPA"
    BUD_SCALER = "BudScaler"


class ScaleDirection(StrEnum):
    """algorithm.ScaleDirection."""

    UP = "up"
    DOWN = "down"
    NONE = "none"


class PolicyType(StrEnum):
    PODS = "Pods"
    PERCENT = "Percent"


class SelectPolicy(StrEnum):
    MAX = "Max"
    MIN = "Min"
    DISABLED = "Disabled"


class Reason(StrEnum):
    """The pipeline step that determined the final replica count (last step that changed it)."""

    NO_METRICS = "NoMetrics"
    """No metric source had a usable snapshot: keep current replicas."""
    WITHIN_TOLERANCE = "WithinTolerance"
    METRIC = "Metric"
    ZERO_LOAD = "ZeroLoad"
    """A metric averaged <= 0: BudScaler recommends minReplicas for it."""
    GPU = "GPU"
    PREDICTION = "Prediction"
    SCHEDULE_HINT_FLOOR = "ScheduleHintFloor"
    COST_CEILING = "CostCeiling"
    MIN_REPLICAS = "MinReplicas"
    MAX_REPLICAS = "MaxReplicas"
    SCALE_UP_POLICY = "ScaleUpPolicy"
    SCALE_DOWN_POLICY = "ScaleDownPolicy"
    STARTING_POD_GATE = "StartingPodGate"
    STABILIZATION = "Stabilization"
    PANIC_HOLD = "PanicHold"
    """KPA with windows (corrected Quirk.KPA_WINDOWS_UNUSED): no scale-down while in panic mode."""


QuirkName = Quirk | str
"""A registered `model.quirks.Quirk`, or a local string constant for a quirk the lead has not added yet."""


@dataclass(frozen=True)
class ScalingPolicy:
    """api ScalingPolicy: `value` pods or percent of current replicas per `period_seconds`."""

    type: str
    value: int
    period_seconds: int = 0


@dataclass(frozen=True)
class MetricSourceSpec:
    """The parts of a spec.metricsSources entry the algorithms read."""

    target_metric: str
    target_value: str
    """Kept as the raw string: upstream parses it with strconv.ParseFloat and skips the source on error."""
    metric_source_type: str = "pod"
    engine_type: str = ""
    """inferenceEngineConfig.engineType ("vllm", "tgi", ...), "" when absent."""


@dataclass(frozen=True)
class MetricSnapshot:
    """types.MetricSnapshot: per-source average over the ready pods that answered."""

    average: float
    count: int = 1
    timestamp: float = 0.0


@dataclass(frozen=True)
class GPUMetrics:
    """types.GPUMetrics: utilizations are percents 0-100 (DCGM)."""

    memory_utilization: float
    compute_utilization: float
    gpu_count: int = 0
    gpu_type: str = ""


@dataclass(frozen=True)
class CostMetrics:
    """types.CostMetrics as autoscaler.go collectCostMetrics fills it."""

    current_cost_per_hour: float
    budget_per_hour: float
    per_replica_cost_per_hour: float


@dataclass(frozen=True)
class PredictionData:
    """types.PredictionData. With `is_schedule_hint`, `predicted_replicas` is the hint's floor."""

    predicted_replicas: int
    confidence: float
    is_schedule_hint: bool = False
    schedule_hint_name: str = ""
    source: str = "timeseries"
    reason: str = ""


@dataclass(frozen=True)
class ScaleEvent:
    """A replica change the algorithm decided at time `t` (for period-honouring policies)."""

    t: float
    change: int


@dataclass(frozen=True)
class TimedRecommendation:
    t: float
    replicas: int


@dataclass(frozen=True)
class MetricSample:
    """One decision's per-pod average of a metric and how many pods it averaged over."""

    t: float
    value: float
    count: int = 1

    @property
    def total(self) -> float:
        """The load over all pods that answered (what Knative's windows average)."""
        return self.value * self.count


@dataclass(frozen=True)
class AlgorithmState:
    """What one scaler carries from one decision to the next.

    Upstream keeps none of this (its policies have no event history, its stabilization looks only at
    status.lastScaleTime, its KPA windows are never read); the corrected paths need it, and the KPA
    panic/stable window averages are reported from it. Never mutated: each decision returns a new one.
    Every field is bounded: entries older than the longest window that reads them are dropped.
    """

    scale_events: tuple[ScaleEvent, ...] = ()
    recommendations: tuple[TimedRecommendation, ...] = ()
    metric_samples: Mapping[str, tuple[MetricSample, ...]] = field(default_factory=dict)
    in_panic_mode: bool = False
    panic_time: float | None = None
    """KPA: the last decision time the panic-window value was over the panic threshold (Knative's
    panicTime); None when not panicking. Read only with Quirk.KPA_WINDOWS_UNUSED off."""


@dataclass(frozen=True)
class ScalingRequest:
    """algorithm.ScalingRequest without the Scaler pointer (its settings live in ScalingContext).

    `last_scale_time` is status.lastScaleTime in simulated seconds (None when unset).
    """

    current_replicas: int
    ready_pod_count: int = 0
    starting_pod_count: int = 0
    metric_snapshots: Mapping[str, MetricSnapshot] = field(default_factory=dict)
    gpu_metrics: GPUMetrics | None = None
    cost_metrics: CostMetrics | None = None
    prediction_data: PredictionData | None = None
    last_scale_time: float | None = None


@dataclass(frozen=True)
class Step:
    """One pipeline step's output, for the decision log."""

    name: str
    replicas: int


@dataclass(frozen=True)
class Recommendation:
    """algorithm.ScalingRecommendation plus the simulator's explanation of it."""

    desired_replicas: int
    direction: ScaleDirection
    reason: Reason
    message: str
    """Upstream's Reason string, formatted exactly as the Go code formats it."""
    in_panic_mode: bool = False
    metric_used: str = ""
    current_metric_value: float = 0.0
    target_metric_value: float = 0.0
    confidence: float = 1.0
    quirks_triggered: tuple[QuirkName, ...] = ()
    """Quirks whose upstream behaviour changed this decision compared with the corrected behaviour."""
    steps: tuple[Step, ...] = ()
    state: AlgorithmState = field(default_factory=AlgorithmState)
    """The state to pass to the next decision of the same scaler."""


class RecommendationError(ValueError):
    """The algorithm refuses the request (upstream returns an error, e.g. no metric sources)."""
