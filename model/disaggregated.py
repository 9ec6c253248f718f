"""DisaggregatedService `scaler.bud.studio/v1alpha1`, as the upstream pull request defines it.

# upstream: PR BudEcosystem/scaler#1 api/scaler/v1alpha1/disaggregatedservice_types.go
A multi-role inference pipeline (router -> tokenizer -> inference, or prefill/decode); each role
becomes its own Deployment and Service named `<ds>-<role>`, started in `dependsOn` order. The PR
has no scale subresource: BudAIScaler scales a role through `subTargetSelector.roleName`.

`spec.roles` has `minItems: 1` (the implementation's marker); the PR's design document said 2.
See docs/quirks/model.md."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from model.base import Int32, Int64, KubeModel, Str
from model.core import IntOrString, PodTemplateSpec, Port
from model.meta import Condition, ObjectMeta

API_VERSION = "scaler.bud.studio/v1alpha1"
KIND = "DisaggregatedService"
ROLES_MIN_ITEMS = 1
"""The implementation's `+kubebuilder:validation:MinItems=1` (the design doc said 2)."""
ROLES_MIN_ITEMS_DESIGN_DOC = 2

LABEL_DISAGGREGATED_SERVICE = "scaler.bud.studio/disaggregated-service"
LABEL_ROLE = "scaler.bud.studio/role"
LABEL_ROLE_TYPE = "scaler.bud.studio/role-type"


class ServiceType(StrEnum):
    EMBEDDING = "Embedding"
    LLM = "LLM"
    CUSTOM = "Custom"


class RoleType(StrEnum):
    ROUTER = "Router"
    TOKENIZER = "Tokenizer"
    INFERENCE = "Inference"
    PREFILL = "Prefill"
    DECODE = "Decode"
    CUSTOM = "Custom"


class DSPhase(StrEnum):
    PENDING = "Pending"
    PROGRESSING = "Progressing"
    READY = "Ready"
    DEGRADED = "Degraded"


class RoleServiceSpec(KubeModel):
    """The per-role Service's port; the controller picks ClusterIP for Router roles, headless otherwise."""

    port: Port
    target_port: IntOrString | None = None


class RoleSpec(KubeModel):
    name: Str
    """DNS-1123 label; the children are named `<ds>-<name>`."""
    role_type: RoleType
    replicas: Annotated[Int32, Field(ge=0)] = 1
    depends_on: list[Str] | None = None
    template: PodTemplateSpec | None = None
    service: RoleServiceSpec | None = None


class DisaggregatedServiceSpec(KubeModel):
    service_type: ServiceType | None = None
    roles: Annotated[list[RoleSpec], Field(min_length=ROLES_MIN_ITEMS)]


class RoleStatus(KubeModel):
    name: Str
    replicas: Int32 | None = None
    ready_replicas: Int32 | None = None
    conditions: list[Condition] | None = None


class DisaggregatedServiceStatus(KubeModel):
    observed_generation: Int64 | None = None
    phase: DSPhase | None = None
    conditions: list[Condition] | None = None
    role_statuses: list[RoleStatus] | None = None


class DisaggregatedService(KubeModel):
    api_version: Literal["scaler.bud.studio/v1alpha1"]
    kind: Literal["DisaggregatedService"]
    metadata: ObjectMeta
    spec: DisaggregatedServiceSpec
    status: DisaggregatedServiceStatus | None = None


def child_name(ds_name: str, role_name: str) -> str:
    """Name of the Deployment and Service the controller creates for a role."""
    return f"{ds_name}-{role_name}"
