"""BudAIScaler `scaler.bud.studio/v1alpha1`: mirrors the upstream CRD field for field.

# upstream: api/scaler/v1alpha1/budaiscaler_types.go (BudEcosystem/scaler 79bffc5)
# upstream: config/crd/bases/scaler.bud.studio_budaiscalers.yaml (the schema the API server enforces)

A conformance test (tests/unit/test_model_crd_conformance.py) compares the CRD generated from these
models with the upstream one: same fields, types, enums, bounds, defaults and required-ness."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from model.base import Bool, CrdExtra, CrdRequired, Int32, Int64, KubeModel, Str, Time
from model.meta import Condition, ObjectMeta, ObjectReference
from model.quantity import IntOrStringQuantity

API_VERSION = "scaler.bud.studio/v1alpha1"
KIND = "BudAIScaler"


class ScalingStrategy(StrEnum):
    HPA = "HPA"
    KPA = "KPA"
    BUD_SCALER = "BudScaler"


class MetricSourceType(StrEnum):
    POD = "pod"
    RESOURCE = "resource"
    CUSTOM = "custom"
    EXTERNAL = "external"
    PROMETHEUS = "prometheus"
    INFERENCE_ENGINE = "inferenceEngine"


class ProtocolType(StrEnum):
    HTTP = "http"
    HTTPS = "https"


class InferenceEngineType(StrEnum):
    VLLM = "vllm"
    TGI = "tgi"
    SGLANG = "sglang"
    TRITON = "triton"


class CloudProvider(StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class CostOptimizationMode(StrEnum):
    BALANCED = "balanced"
    COST_OPTIMIZED = "cost-optimized"
    PERFORMANCE = "performance"


class FederationMode(StrEnum):
    ACTIVE_ACTIVE = "active-active"
    ACTIVE_PASSIVE = "active-passive"
    LOAD_BALANCED = "load-balanced"


class ScalingPolicyType(StrEnum):
    PODS = "Pods"
    PERCENT = "Percent"


class ScalingPolicySelect(StrEnum):
    MAX = "Max"
    MIN = "Min"
    DISABLED = "Disabled"


class SubTargetSelector(KubeModel):
    """Selects a role of a DisaggregatedService (or StormService) to scale instead of the whole target."""

    role_name: Str | None = None


class InferenceEngineConfig(KubeModel):
    engine_type: InferenceEngineType
    metrics_port: Int32 = 8000
    metrics_path: Str = "/metrics"


class MetricSource(KubeModel):
    metric_source_type: MetricSourceType
    target_metric: Str
    target_value: Str
    protocol_type: ProtocolType | None = None
    endpoint: Str | None = None
    path: Str | None = None
    port: Str | None = None
    prom_ql: Annotated[Str | None, Field(alias="promQL")] = None
    headers: dict[str, Str] | None = None
    inference_engine_config: InferenceEngineConfig | None = None


Percent = Annotated[Int32, Field(ge=0, le=100)]


class GPUScalingConfig(KubeModel):
    enabled: Bool = False
    gpu_memory_threshold: Percent | None = None
    gpu_compute_threshold: Percent | None = None
    topology_aware: Bool = False
    preferred_gpu_type: Annotated[Str | None, Field(alias="preferredGPUType")] = None
    vgpu_support: Bool = False


class CostConfig(KubeModel):
    enabled: Bool = False
    cloud_provider: CloudProvider | None = None
    budget_per_hour: IntOrStringQuantity | None = None
    budget_per_day: IntOrStringQuantity | None = None
    prefer_spot_instances: Bool = False
    spot_fallback_to_on_demand: Bool = True
    cost_optimization_mode: CostOptimizationMode = CostOptimizationMode.BALANCED


class PredictionConfig(KubeModel):
    enabled: Bool = False
    look_ahead_minutes: Annotated[Int32, Field(ge=5, le=60)] = 15
    historical_data_days: Annotated[Int32, Field(ge=1, le=90)] = 7
    enable_learning: Bool = True
    prediction_metrics: list[Str] | None = None
    seasonal_metrics: list[Str] | None = None


class ScheduleHint(KubeModel):
    name: Str
    cron_expression: Str
    target_replicas: Int32
    duration: Str
    """metav1.Duration: a Go duration string such as "12h" or "90m"."""


class MultiClusterConfig(KubeModel):
    enabled: Bool = False
    federation_mode: FederationMode = FederationMode.LOAD_BALANCED
    target_clusters: list[Str] | None = None
    cluster_weights: dict[str, Int32] | None = None
    failover_enabled: Bool = True


class ScalingPolicy(KubeModel):
    type: ScalingPolicyType
    value: Annotated[Int32, Field(ge=0)]
    period_seconds: Annotated[Int32, Field(ge=1, le=1800)]


class StartingPodsConfig(KubeModel):
    starting_pod_weight: Str | None = None
    max_starting_pods: Annotated[Int32, Field(ge=0)] | None = None
    max_starting_pod_percent: Percent | None = None
    bypass_gate_on_panic: Bool | None = None


class ScalingRules(KubeModel):
    stabilization_window_seconds: Annotated[Int32, Field(ge=0, le=3600)] | None = None
    select_policy: ScalingPolicySelect | None = None
    policies: list[ScalingPolicy] | None = None
    max_scale_rate: Str | None = None
    tolerance: Str | None = None
    starting_pods: StartingPodsConfig | None = None


class ScalingBehavior(KubeModel):
    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


class BudAIScalerSpec(KubeModel):
    scale_target_ref: Annotated[ObjectReference, CrdExtra(x_kubernetes_map_type="atomic")]
    sub_target_selector: SubTargetSelector | None = None
    min_replicas: Annotated[Int32, Field(ge=0)] = 1
    max_replicas: Annotated[Int32, Field(ge=1)]
    scaling_strategy: Annotated[ScalingStrategy, CrdRequired()] = ScalingStrategy.BUD_SCALER
    metrics_sources: Annotated[list[MetricSource], Field(min_length=1)]
    gpu_config: GPUScalingConfig | None = None
    cost_config: CostConfig | None = None
    prediction_config: PredictionConfig | None = None
    schedule_hints: list[ScheduleHint] | None = None
    multi_cluster_config: MultiClusterConfig | None = None
    behavior: ScalingBehavior | None = None


class ScalingDecision(KubeModel):
    timestamp: Time
    previous_scale: Int32
    new_scale: Int32
    reason: Str
    algorithm: Str
    success: Bool
    error: Str | None = None


class GPUStatus(KubeModel):
    total_gpus: Annotated[Int32 | None, Field(alias="totalGPUs")] = None
    average_memory_utilization: Int32 | None = None
    average_compute_utilization: Int32 | None = None
    gpu_type: Annotated[Str | None, Field(alias="gpuType")] = None


class CostStatus(KubeModel):
    current_hourly_cost: Str | None = None
    projected_daily_cost: Str | None = None
    budget_utilization: Int32 | None = None
    spot_instances_in_use: Int32 | None = None
    on_demand_instances_in_use: Int32 | None = None


class PredictionStatus(KubeModel):
    predicted_replicas: Int32 | None = None
    prediction_confidence: Str | None = None
    next_predicted_change: Time | None = None
    active_schedule_hint: Str | None = None


class LearningStatus(KubeModel):
    data_points_collected: Int32 | None = None
    detected_pattern: Str | None = None
    pattern_confidence: Str | None = None
    recent_mae: Annotated[Str | None, Field(alias="recentMAE")] = None
    recent_mape: Annotated[Str | None, Field(alias="recentMAPE")] = None
    direction_accuracy: Str | None = None
    overall_accuracy: Str | None = None
    calibration_needed: Bool | None = None
    last_calibration: Time | None = None
    seasonal_data_complete: Bool | None = None
    current_seasonal_factor: Str | None = None
    oldest_data_point: Time | None = None
    storage_used: Str | None = None
    config_map_name: Str | None = None


class MultiClusterStatus(KubeModel):
    cluster_distribution: dict[str, Int32] | None = None
    healthy_clusters: list[Str] | None = None
    unhealthy_clusters: list[Str] | None = None
    total_replicas_across_clusters: Int32 | None = None


class BudAIScalerStatus(KubeModel):
    last_scale_time: Time | None = None
    desired_scale: Int32 | None = None
    actual_scale: Int32 | None = None
    conditions: list[Condition] | None = None
    scaling_history: Annotated[list[ScalingDecision], Field(max_length=10)] | None = None
    gpu_status: Annotated[GPUStatus | None, Field(alias="gpuStatus")] = None
    cost_status: CostStatus | None = None
    prediction_status: PredictionStatus | None = None
    learning_status: LearningStatus | None = None
    multi_cluster_status: MultiClusterStatus | None = None


class BudAIScaler(KubeModel):
    api_version: Literal["scaler.bud.studio/v1alpha1"]
    kind: Literal["BudAIScaler"]
    metadata: ObjectMeta
    spec: BudAIScalerSpec
    status: BudAIScalerStatus | None = None


__all__ = [
    "API_VERSION",
    "KIND",
    "BudAIScaler",
    "BudAIScalerSpec",
    "Int64",
    "MetricSource",
    "ScalingStrategy",
]
