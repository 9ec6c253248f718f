"""autoscaling/v2 HorizontalPodAutoscaler (what the BudAIScaler HPA strategy creates) and autoscaling/v1 Scale."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from model.base import Int32, Int64, JsonObject, KubeModel, Str, Time
from model.meta import CrossVersionObjectReference, LabelSelector, ObjectMeta
from model.quantity import Quantity


class MetricTargetType(StrEnum):
    UTILIZATION = "Utilization"
    VALUE = "Value"
    AVERAGE_VALUE = "AverageValue"


class MetricTarget(KubeModel):
    type: MetricTargetType
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: Int32 | None = None


class MetricIdentifier(KubeModel):
    name: Str
    selector: LabelSelector | None = None


class ResourceMetricSource(KubeModel):
    name: Str
    target: MetricTarget


class ContainerResourceMetricSource(KubeModel):
    name: Str
    container: Str
    target: MetricTarget


class PodsMetricSource(KubeModel):
    metric: MetricIdentifier
    target: MetricTarget


class ObjectMetricSource(KubeModel):
    described_object: CrossVersionObjectReference
    metric: MetricIdentifier
    target: MetricTarget


class ExternalMetricSource(KubeModel):
    metric: MetricIdentifier
    target: MetricTarget


class MetricSourceType(StrEnum):
    RESOURCE = "Resource"
    PODS = "Pods"
    OBJECT = "Object"
    EXTERNAL = "External"
    CONTAINER_RESOURCE = "ContainerResource"


class MetricSpec(KubeModel):
    type: MetricSourceType
    resource: ResourceMetricSource | None = None
    pods: PodsMetricSource | None = None
    object: ObjectMetricSource | None = None
    external: ExternalMetricSource | None = None
    container_resource: ContainerResourceMetricSource | None = None


class HPAScalingPolicyType(StrEnum):
    PODS = "Pods"
    PERCENT = "Percent"


class HPAScalingPolicy(KubeModel):
    type: HPAScalingPolicyType
    value: Annotated[Int32, Field(gt=0)]
    period_seconds: Annotated[Int32, Field(gt=0, le=1800)]


class SelectPolicy(StrEnum):
    MAX = "Max"
    MIN = "Min"
    DISABLED = "Disabled"


class HPAScalingRules(KubeModel):
    stabilization_window_seconds: Annotated[Int32, Field(ge=0, le=3600)] | None = None
    select_policy: SelectPolicy | None = None
    policies: list[HPAScalingPolicy] | None = None
    tolerance: Quantity | None = None


class HorizontalPodAutoscalerBehavior(KubeModel):
    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None


class HorizontalPodAutoscalerSpec(KubeModel):
    scale_target_ref: CrossVersionObjectReference
    min_replicas: Annotated[Int32, Field(ge=0)] | None = None
    max_replicas: Annotated[Int32, Field(ge=1)]
    metrics: list[MetricSpec] | None = None
    behavior: HorizontalPodAutoscalerBehavior | None = None


class HorizontalPodAutoscalerStatus(KubeModel):
    observed_generation: Int64 | None = None
    last_scale_time: Time | None = None
    current_replicas: Int32 | None = None
    desired_replicas: Int32 | None = None
    current_metrics: list[JsonObject] | None = None
    conditions: list[JsonObject] | None = None


class HorizontalPodAutoscaler(KubeModel):
    api_version: Literal["autoscaling/v2"]
    kind: Literal["HorizontalPodAutoscaler"]
    metadata: ObjectMeta
    spec: HorizontalPodAutoscalerSpec
    status: HorizontalPodAutoscalerStatus | None = None


class ScaleSpec(KubeModel):
    replicas: Annotated[Int32, Field(ge=0)] | None = None


class ScaleStatus(KubeModel):
    replicas: Int32
    selector: Str | None = None


class Scale(KubeModel):
    api_version: Literal["autoscaling/v1"]
    kind: Literal["Scale"]
    metadata: ObjectMeta
    spec: ScaleSpec | None = None
    status: ScaleStatus | None = None
