"""Resolve a BudAIScaler's scale target into a Scale view and a way to write replicas.

Pure: the caller passes a `get(kind, namespace, name) -> dict | None` lookup over its informer
caches. Deployments, StatefulSets and ReplicaSets read `spec.replicas`, `status.replicas` and
`spec.selector` as upstream does. A DisaggregatedService with `subTargetSelector.roleName` follows
the pull request: spec replicas from the role in the DS spec, status replicas from the role's
Deployment `<ds>-<role>`, selector from the role's pod labels; writing replicas means updating the
DS object itself with the resourceVersion the cache holds, so it can Conflict with other writers.

# upstream: pkg/controller/budaiscaler/workload_scale.go GetScale, SetScale (+ PR per-role change)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sim.decisions.bud_controller.conflicts import DS_KIND, generated_deployment_name

DS_LABEL = "scaler.bud.studio/disaggregated-service"
ROLE_LABEL = "scaler.bud.studio/role"
APPS_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")

Getter = Callable[[str, str, str], Mapping[str, Any] | None]


class TargetErrorReason(StrEnum):
    NOT_FOUND = "TargetNotFound"
    UNKNOWN_ROLE = "UnknownRole"
    GENERIC_SCALE_NOT_IMPLEMENTED = "GenericScaleNotImplemented"


class ScaleView(BaseModel):
    """upstream's `Scale`: spec replicas, status replicas and a label selector."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    kind: str
    name: str
    namespace: str
    role_name: str | None = Field(default=None, alias="roleName")
    spec_replicas: int = Field(alias="specReplicas")
    status_replicas: int = Field(alias="statusReplicas")
    selector: dict[str, str]
    """matchLabels; every supported target selects pods by equality labels only."""
    resource_version: str = Field(default="", alias="resourceVersion")
    """Of the object a write goes to (the DS itself for a role target)."""


class TargetError(BaseModel):
    """Why a target cannot be scaled; the reconcile fails with this message (ReconciliationFailed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: TargetErrorReason
    message: str


def _selector_labels(obj: Mapping[str, Any]) -> dict[str, str]:
    sel = (obj.get("spec") or {}).get("selector") or {}
    labels = sel.get("matchLabels") or {}
    return {str(k): str(v) for k, v in sorted(labels.items())}


def resolve_scale(scaler: Mapping[str, Any], get: Getter) -> ScaleView | TargetError:
    """upstream GetScale: dispatch on scaleTargetRef.kind.

    # upstream: pkg/controller/budaiscaler/workload_scale.go GetScale, getDeploymentScale, getGenericScale
    """
    meta = scaler.get("metadata") or {}
    spec = scaler.get("spec") or {}
    ns = str(meta.get("namespace", ""))
    ref = spec.get("scaleTargetRef") or {}
    kind = str(ref.get("kind", ""))
    name = str(ref.get("name", ""))
    role = ((spec.get("subTargetSelector") or {}).get("roleName")) or None

    if kind in APPS_KINDS:
        obj = get(kind, ns, name)
        if obj is None:
            return TargetError(
                reason=TargetErrorReason.NOT_FOUND,
                message=f"failed to get scale: failed to get {kind.lower()}: {kind} {ns}/{name} not found",
            )
        return ScaleView(
            kind=kind,
            name=name,
            namespace=ns,
            spec_replicas=int((obj.get("spec") or {}).get("replicas", 1)),
            status_replicas=int((obj.get("status") or {}).get("replicas", 0)),
            selector=_selector_labels(obj),
            resource_version=str((obj.get("metadata") or {}).get("resourceVersion", "")),
        )

    if kind == DS_KIND and role:
        ds = get(DS_KIND, ns, name)
        if ds is None:
            return TargetError(
                reason=TargetErrorReason.NOT_FOUND,
                message=f"failed to get scale: DisaggregatedService {ns}/{name} not found",
            )
        roles = list((ds.get("spec") or {}).get("roles") or [])
        match = next((r for r in roles if r.get("name") == role), None)
        if match is None:
            known = ", ".join(sorted(str(r.get("name")) for r in roles)) or "(none)"
            return TargetError(
                reason=TargetErrorReason.UNKNOWN_ROLE,
                message=(
                    f"failed to get scale: role {role!r} not found in DisaggregatedService {ns}/{name}; "
                    f"known roles: {known}"
                ),
            )
        dep = get("Deployment", ns, generated_deployment_name(name, str(role)))
        # The role's Deployment may not exist yet (dependsOn still blocking): 0 running replicas.
        status_replicas = int((dep.get("status") or {}).get("replicas", 0)) if dep else 0
        return ScaleView(
            kind=DS_KIND,
            name=name,
            namespace=ns,
            role_name=str(role),
            spec_replicas=int(match.get("replicas", 1)),
            status_replicas=status_replicas,
            selector={DS_LABEL: name, ROLE_LABEL: str(role)},
            resource_version=str((ds.get("metadata") or {}).get("resourceVersion", "")),
        )

    # upstream: workload_scale.go getGenericScale (a DS without roleName lands here, as any other kind)
    return TargetError(
        reason=TargetErrorReason.GENERIC_SCALE_NOT_IMPLEMENTED,
        message=f"failed to get scale: generic scale not implemented for {kind}/{name}",
    )


def scaled_object(target: Mapping[str, Any], role_name: str | None, replicas: int) -> dict[str, Any] | None:
    """The object to send with `update` to set replicas, or None when nothing changes.

    `target` is the cached object (its resourceVersion is kept, so a stale cache Conflicts).
    # upstream: workload_scale.go setDeploymentScale (+ PR per-role DS update)
    """
    obj = copy.deepcopy(dict(target))
    spec = obj.setdefault("spec", {})
    if role_name is None:
        if spec.get("replicas") == replicas:
            return None
        spec["replicas"] = replicas
        return obj
    for role in spec.get("roles") or []:
        if role.get("name") == role_name:
            if role.get("replicas") == replicas:
                return None
            role["replicas"] = replicas
            return obj
    return None
