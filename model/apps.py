"""apps/v1 Deployment (spec, strategy, full status)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from model.base import Bool, Int32, Int64, KubeModel, Str, Time
from model.core import IntOrString, PodTemplateSpec
from model.meta import LabelSelector, ObjectMeta

NonNegInt32 = Annotated[Int32, Field(ge=0)]


class RollingUpdateDeployment(KubeModel):
    max_surge: IntOrString | None = None
    max_unavailable: IntOrString | None = None


class DeploymentStrategyType(StrEnum):
    ROLLING_UPDATE = "RollingUpdate"
    RECREATE = "Recreate"


class DeploymentStrategy(KubeModel):
    type: DeploymentStrategyType | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(KubeModel):
    replicas: NonNegInt32 | None = None
    selector: LabelSelector
    template: PodTemplateSpec
    strategy: DeploymentStrategy | None = None
    min_ready_seconds: NonNegInt32 | None = None
    revision_history_limit: NonNegInt32 | None = None
    progress_deadline_seconds: Int32 | None = None
    paused: Bool | None = None


class DeploymentConditionType(StrEnum):
    AVAILABLE = "Available"
    PROGRESSING = "Progressing"
    REPLICA_FAILURE = "ReplicaFailure"


class DeploymentCondition(KubeModel):
    type: DeploymentConditionType
    status: Literal["True", "False", "Unknown"]
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: Str | None = None
    message: Str | None = None


class DeploymentStatus(KubeModel):
    observed_generation: Int64 | None = None
    replicas: Int32 | None = None
    updated_replicas: Int32 | None = None
    ready_replicas: Int32 | None = None
    available_replicas: Int32 | None = None
    unavailable_replicas: Int32 | None = None
    terminating_replicas: Int32 | None = None
    conditions: list[DeploymentCondition] | None = None
    collision_count: Int32 | None = None


class Deployment(KubeModel):
    api_version: Literal["apps/v1"]
    kind: Literal["Deployment"]
    metadata: ObjectMeta
    spec: DeploymentSpec
    status: DeploymentStatus | None = None
