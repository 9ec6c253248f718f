"""CustomResourceDefinitions generated from the models (what controller-gen would emit).

The generated BudAIScaler schema is compared with the upstream CRD by a conformance test, so the
model and the schema the real API server enforces cannot drift apart silently."""

from __future__ import annotations

import types
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from model.base import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    CrdExtra,
    CrdRequired,
    DateTimeFormat,
    Int32Format,
    Int64Format,
)
from model.budaiscaler import BudAIScaler, BudAIScalerSpec, BudAIScalerStatus
from model.disaggregated import DisaggregatedService, DisaggregatedServiceSpec, DisaggregatedServiceStatus
from model.podautoscaler import PodAutoscaler, PodAutoscalerSpec, PodAutoscalerStatus
from model.quantity import QUANTITY_PATTERN

GROUP = "scaler.bud.studio"
VERSION = "v1alpha1"


def _flatten(meta: list[Any]) -> list[Any]:
    out: list[Any] = []
    for m in meta:
        if isinstance(m, FieldInfo):
            out.extend(_flatten(list(m.metadata)))
        else:
            out.append(m)
    return out


def _unwrap(tp: Any, meta: list[Any]) -> tuple[Any, list[Any]]:
    """Strip Annotated and Optional, collecting metadata."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            base, *extra = get_args(tp)
            meta = meta + _flatten(list(extra))
            tp = base
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp, meta


def _is_quantity(meta: list[Any]) -> bool:
    return any(getattr(getattr(m, "func", None), "__name__", "") == "_check_str" for m in meta)


def schema_of(tp: Any, meta: list[Any] | None = None) -> dict[str, Any]:
    """OpenAPI v3 (structural) schema of a Python/pydantic type annotation."""
    tp, meta = _unwrap(tp, list(meta or []))
    meta = _flatten(meta)
    origin = get_origin(tp)
    schema: dict[str, Any]
    if origin in (Union, types.UnionType):
        args = [_unwrap(a, [])[0] for a in get_args(tp) if a is not type(None)]
        if set(args) == {int, str}:
            schema = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
            if _is_quantity(meta):
                schema["pattern"] = QUANTITY_PATTERN
        elif set(args) <= {int, float}:
            schema = {"type": "number"}
        elif set(args) == {int, float, str}:
            schema = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
        else:
            schema = {"x-kubernetes-preserve-unknown-fields": True}
    elif origin is list:
        (item,) = get_args(tp)
        schema = {"type": "array", "items": schema_of(item)}
    elif origin is dict:
        _, value = get_args(tp)
        if value is Any:
            schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        else:
            schema = {"type": "object", "additionalProperties": schema_of(value)}
    elif origin is Literal:
        schema = {"type": "string", "enum": [str(v) for v in get_args(tp)]}
    elif tp is Any:
        schema = {"x-kubernetes-preserve-unknown-fields": True}
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        schema = object_schema(tp)
    elif isinstance(tp, type) and issubclass(tp, Enum):
        schema = {"type": "string", "enum": [m.value for m in tp]}
    elif tp is bool:
        schema = {"type": "boolean"}
    elif tp is int:
        schema = {"type": "integer"}
        if any(isinstance(m, Int32Format) for m in meta):
            schema["format"] = "int32"
        elif any(isinstance(m, Int64Format) for m in meta):
            schema["format"] = "int64"
    elif tp is float:
        schema = {"type": "number"}
    elif tp is str:
        schema = {"type": "string"}
        if any(isinstance(m, DateTimeFormat) for m in meta):
            schema["format"] = "date-time"
    else:
        raise TypeError(f"no CRD schema for {tp!r}")
    _apply_constraints(schema, meta)
    return schema


def _apply_constraints(schema: dict[str, Any], meta: list[Any]) -> None:
    lows: list[int] = [int(m.ge) for m in meta if isinstance(m, at.Ge)]  # type: ignore[call-overload]
    highs: list[int] = [int(m.le) for m in meta if isinstance(m, at.Le)]  # type: ignore[call-overload]
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    if low is not None and low not in (INT32_MIN, INT64_MIN):
        schema["minimum"] = low
    if high is not None and high not in (INT32_MAX, INT64_MAX):
        schema["maximum"] = high
    for m in meta:
        if isinstance(m, at.Gt):
            schema["minimum"] = m.gt
            schema["exclusiveMinimum"] = True
        elif isinstance(m, at.MinLen):
            schema["minItems" if schema.get("type") == "array" else "minLength"] = m.min_length
        elif isinstance(m, at.MaxLen):
            schema["maxItems" if schema.get("type") == "array" else "maxLength"] = m.max_length
        elif getattr(m, "pattern", None) is not None:
            schema["pattern"] = m.pattern
        elif isinstance(m, CrdExtra):
            schema.update(m.keys)


def object_schema(cls: type[BaseModel]) -> dict[str, Any]:
    """`type: object` with every field (by wire name), its defaults, and the required list."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    extra: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        wire = field.alias or name
        meta = _flatten(list(field.metadata))
        prop = schema_of(field.annotation, meta)
        for m in meta:
            if isinstance(m, CrdExtra):
                prop.update(m.keys)
        default = field.default
        if default is not PydanticUndefined and default is not None:
            prop["default"] = default.value if isinstance(default, Enum) else default
        properties[wire] = prop
        if field.is_required() or any(isinstance(m, CrdRequired) for m in meta):
            required.append(wire)
    schema: dict[str, Any] = {"type": "object", "properties": dict(sorted(properties.items()))}
    if required:
        schema["required"] = sorted(required)
    schema.update(extra)
    return schema


def _root_schema(description: str, spec: type[BaseModel], status: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "APIVersion defines the versioned schema of this object.",
            },
            "kind": {"type": "string", "description": "Kind is the REST resource this object represents."},
            "metadata": {"type": "object"},
            "spec": {"description": (spec.__doc__ or "").strip() or None, **object_schema(spec)},
            "status": object_schema(status),
        },
    }


def _clean_root(obj: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = _clean(obj)
    return cleaned


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def budaiscaler_crd() -> dict[str, Any]:
    """BudAIScaler CRD; agrees with upstream config/crd/bases/scaler.bud.studio_budaiscalers.yaml."""
    assert BudAIScaler.model_fields["spec"].is_required()
    return _clean_root(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"budaiscalers.{GROUP}"},
            "spec": {
                "group": GROUP,
                "names": {
                    "kind": "BudAIScaler",
                    "listKind": "BudAIScalerList",
                    "plural": "budaiscalers",
                    "shortNames": ["bas"],
                    "singular": "budaiscaler",
                },
                "scope": "Namespaced",
                "versions": [
                    {
                        "additionalPrinterColumns": [
                            {"jsonPath": ".spec.minReplicas", "name": "MIN", "type": "integer"},
                            {"jsonPath": ".spec.maxReplicas", "name": "MAX", "type": "integer"},
                            {"jsonPath": ".status.actualScale", "name": "REPLICAS", "type": "integer"},
                            {"jsonPath": ".spec.scalingStrategy", "name": "STRATEGY", "type": "string"},
                            {
                                "jsonPath": ".status.conditions[?(@.type=='Ready')].status",
                                "name": "READY",
                                "type": "string",
                            },
                            {"jsonPath": ".metadata.creationTimestamp", "name": "AGE", "type": "date"},
                        ],
                        "name": VERSION,
                        "schema": {
                            "openAPIV3Schema": _root_schema(
                                "BudAIScaler autoscales a workload (or one role of a DisaggregatedService) "
                                "with GPU-aware, cost-aware and predictive scaling.",
                                BudAIScalerSpec,
                                BudAIScalerStatus,
                            )
                        },
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
    )


def disaggregatedservice_crd() -> dict[str, Any]:
    """DisaggregatedService CRD as the pull request defines it (status subresource, no scale subresource)."""
    assert DisaggregatedService.model_fields["spec"].is_required()
    return _clean_root(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"disaggregatedservices.{GROUP}"},
            "spec": {
                "group": GROUP,
                "names": {
                    "kind": "DisaggregatedService",
                    "listKind": "DisaggregatedServiceList",
                    "plural": "disaggregatedservices",
                    "singular": "disaggregatedservice",
                },
                "scope": "Namespaced",
                "versions": [
                    {
                        "additionalPrinterColumns": [
                            {"jsonPath": ".spec.serviceType", "name": "TYPE", "type": "string"},
                            {"jsonPath": ".status.phase", "name": "PHASE", "type": "string"},
                            {"jsonPath": ".metadata.creationTimestamp", "name": "AGE", "type": "date"},
                        ],
                        "name": VERSION,
                        "schema": {
                            "openAPIV3Schema": _root_schema(
                                "DisaggregatedService deploys a multi-role inference pipeline: one "
                                "Deployment and Service per role, started in dependsOn order.",
                                DisaggregatedServiceSpec,
                                DisaggregatedServiceStatus,
                            )
                        },
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
    )


def aibrix_podautoscaler_crd() -> dict[str, Any]:
    """AIBrix PodAutoscaler CRD (autoscaling.aibrix.ai/v1alpha1); agrees with upstream
    config/crd/autoscaling/autoscaling.aibrix.ai_podautoscalers.yaml (vllm-project/aibrix e3e10f9e)."""
    assert PodAutoscaler.model_fields["spec"].is_required()
    group = "autoscaling.aibrix.ai"
    return _clean_root(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"podautoscalers.{group}"},
            "spec": {
                "group": group,
                "names": {
                    "kind": "PodAutoscaler",
                    "listKind": "PodAutoscalerList",
                    "plural": "podautoscalers",
                    "singular": "podautoscaler",
                },
                "scope": "Namespaced",
                "versions": [
                    {
                        "additionalPrinterColumns": [
                            {"jsonPath": ".spec.minReplicas", "name": "MINPODS", "type": "integer"},
                            {"jsonPath": ".spec.maxReplicas", "name": "MAXPODS", "type": "integer"},
                            {"jsonPath": ".status.actualScale", "name": "REPLICAS", "type": "integer"},
                            {"jsonPath": ".spec.scalingStrategy", "name": "STRATEGY", "type": "string"},
                            {"jsonPath": ".metadata.creationTimestamp", "name": "AGE", "type": "date"},
                        ],
                        "name": "v1alpha1",
                        "schema": {
                            "openAPIV3Schema": _root_schema(
                                "PodAutoscaler is the Schema for the podautoscalers API (AIBrix KPA/APA/HPA).",
                                PodAutoscalerSpec,
                                PodAutoscalerStatus,
                            )
                        },
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
    )


def all_crds() -> list[dict[str, Any]]:
    return [disaggregatedservice_crd(), budaiscaler_crd(), aibrix_podautoscaler_crd()]
