"""metav1 types: ObjectMeta, OwnerReference, Condition, LabelSelector, and label-selector matching."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from model.base import Int32, Int64, JsonObject, KubeModel, Str, Time


class OwnerReference(KubeModel):
    api_version: Str
    kind: Str
    name: Str
    uid: Str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(KubeModel):
    """metav1.ObjectMeta; `namespace` defaults to `default` as kubectl does for namespaced kinds."""

    name: Str | None = None
    generate_name: Str | None = None
    namespace: Str = "default"
    uid: Str | None = None
    resource_version: Str | None = None
    generation: Int64 | None = None
    labels: dict[str, Str] | None = None
    annotations: dict[str, Str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[Str] | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: Int64 | None = None
    managed_fields: list[JsonObject] | None = None


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
CONDITION_TYPE_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"


class Condition(KubeModel):
    """metav1.Condition with the schema constraints controller-gen emits for it."""

    last_transition_time: Time
    message: Annotated[Str, Field(max_length=32768)]
    observed_generation: Annotated[Int64, Field(ge=0)] | None = None
    reason: Annotated[Str, Field(min_length=1, max_length=1024, pattern=CONDITION_REASON_PATTERN)]
    status: ConditionStatus
    type: Annotated[Str, Field(max_length=316, pattern=CONDITION_TYPE_PATTERN)]


class SelectorOperator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class LabelSelectorRequirement(KubeModel):
    key: Str
    operator: SelectorOperator
    values: list[Str] | None = None


class LabelSelector(KubeModel):
    match_labels: dict[str, Str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class ObjectReference(KubeModel):
    """corev1.ObjectReference (every field optional, as in Kubernetes)."""

    api_version: Str | None = None
    field_path: Str | None = None
    kind: Str | None = None
    name: Str | None = None
    namespace: Str | None = None
    resource_version: Str | None = None
    uid: Str | None = None


class CrossVersionObjectReference(KubeModel):
    """autoscaling CrossVersionObjectReference (kind and name required)."""

    api_version: Str | None = None
    kind: Str
    name: Str


def selector_matches(
    selector: Mapping[str, Any] | LabelSelector | None, labels: Mapping[str, str] | None
) -> bool:
    """Whether `labels` satisfy a LabelSelector given in wire form (or as a model).

    Go semantics (metav1.LabelSelectorAsSelector): a nil selector matches nothing, an empty one
    matches everything; requirements are ANDed; NotIn and DoesNotExist match absent keys."""
    if selector is None:
        return False
    if isinstance(selector, LabelSelector):
        selector = selector.to_wire()
    have = labels or {}
    match_labels = selector.get("matchLabels")
    if match_labels:
        for key, value in match_labels.items():
            if have.get(key) != value:
                return False
    expressions = selector.get("matchExpressions")
    if expressions:
        for req in expressions:
            key = req["key"]
            op = req["operator"]
            values = req.get("values") or ()
            present = key in have
            if op == "In":
                if not present or have[key] not in values:
                    return False
            elif op == "NotIn":
                if present and have[key] in values:
                    return False
            elif op == "Exists":
                if not present:
                    return False
            elif op == "DoesNotExist":
                if present:
                    return False
            else:
                return False
    return True


def condition_status(conditions: list[Mapping[str, Any]] | None, type_: str) -> str | None:
    """Status of the condition of type `type_` in wire-form conditions, or None if absent."""
    for cond in conditions or ():
        if cond.get("type") == type_:
            status = cond.get("status")
            return str(status) if status is not None else None
    return None


__all__ = [
    "Condition",
    "ConditionStatus",
    "CrossVersionObjectReference",
    "Int32",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ObjectMeta",
    "ObjectReference",
    "OwnerReference",
    "SelectorOperator",
    "condition_status",
    "selector_matches",
]
