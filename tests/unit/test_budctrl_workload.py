"""Scale target resolution: Deployment, StatefulSet, DS role, unknown role, DS without role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.decisions.bud_controller.workload import (
    ScaleView,
    TargetError,
    TargetErrorReason,
    resolve_scale,
    scaled_object,
)

DS_OBJ = {
    "kind": "DisaggregatedService",
    "metadata": {"namespace": "ns", "name": "pipe", "resourceVersion": "41"},
    "spec": {"roles": [{"name": "router", "replicas": 1}, {"name": "inference", "replicas": 3}]},
}
DEP = {
    "kind": "Deployment",
    "metadata": {"namespace": "ns", "name": "pipe-inference", "resourceVersion": "50"},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"b": "2", "a": "1"}}},
    "status": {"replicas": 2},
}


def store(*objs: Mapping[str, Any]) -> Any:
    by_key = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs}
    return lambda kind, ns, name: by_key.get((kind, ns, name))


def scaler(kind: str, name: str, role: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"scaleTargetRef": {"kind": kind, "name": name}}
    if role is not None:
        spec["subTargetSelector"] = {"roleName": role}
    return {"metadata": {"namespace": "ns", "name": "s"}, "spec": spec}


def test_deployment_target() -> None:
    v = resolve_scale(scaler("Deployment", "pipe-inference"), store(DEP))
    assert v == ScaleView(
        kind="Deployment",
        name="pipe-inference",
        namespace="ns",
        spec_replicas=3,
        status_replicas=2,
        selector={"a": "1", "b": "2"},
        resource_version="50",
    )


def test_statefulset_is_supported_like_upstream() -> None:
    sts = {**DEP, "kind": "StatefulSet", "metadata": {**DEP["metadata"], "name": "db"}}  # type: ignore[dict-item]
    v = resolve_scale(scaler("StatefulSet", "db"), store(sts))
    assert isinstance(v, ScaleView) and (v.kind, v.spec_replicas) == ("StatefulSet", 3)


def test_missing_deployment() -> None:
    assert resolve_scale(scaler("Deployment", "nope"), store()) == TargetError(
        reason=TargetErrorReason.NOT_FOUND,
        message="failed to get scale: failed to get deployment: Deployment ns/nope not found",
    )


def test_ds_role_reads_spec_from_ds_status_from_deployment_selector_from_labels() -> None:
    v = resolve_scale(scaler("DisaggregatedService", "pipe", "inference"), store(DS_OBJ, DEP))
    assert v == ScaleView(
        kind="DisaggregatedService",
        name="pipe",
        namespace="ns",
        role_name="inference",
        spec_replicas=3,
        status_replicas=2,
        selector={"scaler.bud.studio/disaggregated-service": "pipe", "scaler.bud.studio/role": "inference"},
        resource_version="41",
    )
    # Role whose Deployment does not exist yet (dependsOn blocking): 0 status replicas.
    r = resolve_scale(scaler("DisaggregatedService", "pipe", "router"), store(DS_OBJ))
    assert isinstance(r, ScaleView) and (r.spec_replicas, r.status_replicas) == (1, 0)


def test_ds_unknown_role_names_known_roles() -> None:
    assert resolve_scale(scaler("DisaggregatedService", "pipe", "decode"), store(DS_OBJ)) == TargetError(
        reason=TargetErrorReason.UNKNOWN_ROLE,
        message="failed to get scale: role 'decode' not found in DisaggregatedService ns/pipe; "
        "known roles: inference, router",
    )


def test_ds_without_role_is_generic_scale_not_implemented() -> None:
    assert resolve_scale(scaler("DisaggregatedService", "pipe"), store(DS_OBJ)) == TargetError(
        reason=TargetErrorReason.GENERIC_SCALE_NOT_IMPLEMENTED,
        message="failed to get scale: generic scale not implemented for DisaggregatedService/pipe",
    )


def test_scaled_object_keeps_cached_resource_version() -> None:
    out = scaled_object(DS_OBJ, "inference", 5)
    assert out is not None
    assert out["metadata"]["resourceVersion"] == "41"
    assert [r["replicas"] for r in out["spec"]["roles"]] == [1, 5]
    assert DS_OBJ["spec"]["roles"][1]["replicas"] == 3  # type: ignore[index]
    assert scaled_object(DS_OBJ, "inference", 3) is None
    assert scaled_object(DEP, None, 4)["spec"]["replicas"] == 4  # type: ignore[index]
    assert scaled_object(DEP, None, 3) is None
