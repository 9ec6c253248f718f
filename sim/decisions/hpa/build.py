"""BudAIScaler (strategy HPA) -> the native `<name>-hpa` HorizontalPodAutoscaler it delegates to.

Re-expressed from BudEcosystem/scaler pkg/controller/budaiscaler/algorithm/hpa.go (BuildHPA,
buildMetrics, buildMetricSpec, buildBehavior, UpdateHPASpec) and budaiscaler_controller.go
(reconcileHPA, updateStatusFromHPA). Pure: wire-form dicts in, wire-form dicts out."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from sim.decisions.hpa.quantity import QuantityError, parse_quantity

_INT_RE = re.compile(r"[+-]?[0-9]+")

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
SCALER_LABEL = "scaler.bud.studio/scaler"
DS_KIND = "DisaggregatedService"

QUIRK_HPA_TARGETS_DS_DROPS_ROLE = "hpa_targets_ds_drops_role"
"""model.quirks.Quirk.HPA_TARGETS_DS_DROPS_ROLE (callers pass `Quirk.HPA_TARGETS_DS_DROPS_ROLE in quirks`)."""


class BuildError(Exception):
    """BuildHPA failed; the message is upstream's error text."""


def hpa_name(scaler_name: str) -> str:
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go BuildHPA (Name: scaler.Name + "-hpa")
    return f"{scaler_name}-hpa"


def scale_target_ref(scaler: Mapping[str, Any], targets_ds_drops_role: bool) -> dict[str, Any]:
    """The HPA's scaleTargetRef.

    Upstream copies scaleTargetRef and ignores spec.subTargetSelector.roleName, so a scaler aimed at
    a DisaggregatedService role yields an HPA on the DisaggregatedService itself, which has no scale
    subresource (quirk on). Corrected: the role's Deployment `<ds>-<role>`."""
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go BuildHPA (ScaleTargetRef copy)
    spec = scaler.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    role = ((spec.get("subTargetSelector") or {}).get("roleName")) or ""
    if ref.get("kind") == DS_KIND and role and not targets_ds_drops_role:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{ref.get('name', '')}-{role}"}
    out = {"apiVersion": ref.get("apiVersion", ""), "kind": ref.get("kind", ""), "name": ref.get("name", "")}
    return out


def build_metric_spec(source: Mapping[str, Any]) -> dict[str, Any] | None:
    """One metricsSources entry as an HPA MetricSpec, or None when upstream skips it."""
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go buildMetricSpec
    kind = source.get("metricSourceType")
    metric = str(source.get("targetMetric", ""))
    target_value = source.get("targetValue", "")
    if kind == "resource":
        # upstream: hpa.go buildResourceMetric — strconv.ParseInt(targetValue, 10, 32)
        text = str(target_value)
        if not _INT_RE.fullmatch(text) or not (-(2**31) <= int(text) < 2**31):
            return None
        return {
            "type": "Resource",
            "resource": {"name": metric, "target": {"type": "Utilization", "averageUtilization": int(text)}},
        }
    if kind in ("custom", "external"):
        try:
            parse_quantity(target_value)
        except QuantityError:
            return None
        if kind == "custom":
            # upstream: hpa.go buildPodMetric
            return {
                "type": "Pods",
                "pods": {
                    "metric": {"name": metric},
                    "target": {"type": "AverageValue", "averageValue": str(target_value)},
                },
            }
        # upstream: hpa.go buildExternalMetric
        return {
            "type": "External",
            "external": {"metric": {"name": metric}, "target": {"type": "Value", "value": str(target_value)}},
        }
    return None  # pod, prometheus, inferenceEngine: "not supported by HPA", skipped


def build_metrics(sources: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go buildMetrics
    metrics = [m for m in (build_metric_spec(s) for s in sources) if m is not None]
    if not metrics:
        raise BuildError("failed to build metrics: no valid metrics could be converted to HPA format")
    return metrics


def build_behavior(behavior: Mapping[str, Any]) -> dict[str, Any]:
    """Copy the set fields of scaleUp/scaleDown; Kubernetes fills the rest at admission."""
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go buildBehavior, buildScalingRules
    out: dict[str, Any] = {}
    for direction in ("scaleUp", "scaleDown"):
        rules = behavior.get(direction)
        if rules is None:
            continue
        built: dict[str, Any] = {}
        if rules.get("stabilizationWindowSeconds") is not None:
            built["stabilizationWindowSeconds"] = int(rules["stabilizationWindowSeconds"])
        if rules.get("selectPolicy") is not None:
            built["selectPolicy"] = str(rules["selectPolicy"])
        if rules.get("policies"):
            built["policies"] = [
                {
                    "type": str(p.get("type")),
                    "value": int(p.get("value", 0)),
                    "periodSeconds": int(p.get("periodSeconds", 0)),
                }
                for p in rules["policies"]
            ]
        out[direction] = built
    return out


def build_hpa(scaler: Mapping[str, Any], targets_ds_drops_role: bool) -> dict[str, Any]:
    """The desired `<name>-hpa` object for a BudAIScaler with scalingStrategy HPA."""
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go BuildHPA
    meta = scaler.get("metadata") or {}
    spec = scaler.get("spec") or {}
    hpa_spec: dict[str, Any] = {
        "scaleTargetRef": scale_target_ref(scaler, targets_ds_drops_role),
        "maxReplicas": int(spec.get("maxReplicas", 0)),
        "metrics": build_metrics(list(spec.get("metricsSources") or [])),
    }
    if spec.get("minReplicas") is not None:
        hpa_spec["minReplicas"] = int(spec["minReplicas"])
    if spec.get("behavior") is not None:
        hpa_spec["behavior"] = build_behavior(spec["behavior"])
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": hpa_name(str(meta.get("name", ""))),
            "namespace": meta.get("namespace", ""),
            "labels": {MANAGED_BY_LABEL: "budaiscaler", SCALER_LABEL: meta.get("name", "")},
            "ownerReferences": [
                {
                    "apiVersion": scaler.get("apiVersion", ""),
                    "kind": scaler.get("kind", ""),
                    "name": meta.get("name", ""),
                    "uid": meta.get("uid", ""),
                    "controller": True,
                }
            ],
        },
        "spec": hpa_spec,
    }


def update_hpa_spec(
    existing: Mapping[str, Any], scaler: Mapping[str, Any], targets_ds_drops_role: bool
) -> dict[str, Any]:
    """The existing HPA with its spec re-derived from the scaler (labels and owners untouched)."""
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go UpdateHPASpec
    spec = scaler.get("spec") or {}
    updated = copy.deepcopy(dict(existing))
    hpa_spec = dict(updated.get("spec") or {})
    hpa_spec["scaleTargetRef"] = scale_target_ref(scaler, targets_ds_drops_role)
    if spec.get("minReplicas") is not None:
        hpa_spec["minReplicas"] = int(spec["minReplicas"])
    else:
        hpa_spec.pop("minReplicas", None)
    hpa_spec["maxReplicas"] = int(spec.get("maxReplicas", 0))
    hpa_spec["metrics"] = build_metrics(list(spec.get("metricsSources") or []))
    if spec.get("behavior") is not None:
        hpa_spec["behavior"] = build_behavior(spec["behavior"])
    else:
        hpa_spec.pop("behavior", None)
    updated["spec"] = hpa_spec
    return updated


def scaler_status_from_hpa(scaler_status: Mapping[str, Any], hpa_status: Mapping[str, Any]) -> dict[str, Any]:
    """What upstream copies back: actualScale, desiredScale and (if set) lastScaleTime. Conditions are
    NOT copied upstream; see `hpa_failure_condition` to surface them."""
    # upstream: pkg/controller/budaiscaler/budaiscaler_controller.go updateStatusFromHPA
    status = copy.deepcopy(dict(scaler_status))
    status["actualScale"] = int(hpa_status.get("currentReplicas", 0))
    status["desiredScale"] = int(hpa_status.get("desiredReplicas", 0))
    if hpa_status.get("lastScaleTime") is not None:
        status["lastScaleTime"] = hpa_status["lastScaleTime"]
    return status


def hpa_failure_condition(hpa_status: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first HPA condition that is False among AbleToScale and ScalingActive (e.g. FailedGetScale),
    shaped as a metav1.Condition for the scaler's status, or None when the HPA is healthy."""
    for ctype in ("AbleToScale", "ScalingActive"):
        for cond in hpa_status.get("conditions") or []:
            if cond.get("type") == ctype and cond.get("status") == "False":
                out = {
                    "type": f"HPA{ctype}",
                    "status": "False",
                    "reason": cond.get("reason", ""),
                    "message": cond.get("message", ""),
                }
                if cond.get("lastTransitionTime") is not None:
                    out["lastTransitionTime"] = cond["lastTransitionTime"]
                return out
    return None
