"""BuildHPA: metric conversion, naming, the DisaggregatedService role target quirk, status copy-back."""

from __future__ import annotations

from typing import Any

import pytest

from model.quirks import Quirk, QuirkSet
from sim.decisions.hpa.build import (
    QUIRK_HPA_TARGETS_DS_DROPS_ROLE,
    BuildError,
    build_hpa,
    hpa_failure_condition,
    scaler_status_from_hpa,
    update_hpa_spec,
)


def _scaler(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scaleTargetRef": {
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "DisaggregatedService",
            "name": "llm",
        },
        "subTargetSelector": {"roleName": "decode"},
        "minReplicas": 1,
        "maxReplicas": 8,
        "scalingStrategy": "HPA",
        "metricsSources": [
            {"metricSourceType": "resource", "targetMetric": "cpu", "targetValue": "70"},
            {"metricSourceType": "custom", "targetMetric": "qps", "targetValue": "500m"},
            {"metricSourceType": "external", "targetMetric": "queue", "targetValue": "30"},
            {"metricSourceType": "pod", "targetMetric": "num_requests_waiting", "targetValue": "5"},
            {"metricSourceType": "prometheus", "targetMetric": "x", "targetValue": "1"},
            {
                "metricSourceType": "inferenceEngine",
                "targetMetric": "gpu_cache_usage_perc",
                "targetValue": "80",
            },
            {"metricSourceType": "resource", "targetMetric": "memory", "targetValue": "80%"},
        ],
    }
    base.update(spec)
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "decode-scaler", "namespace": "ns", "uid": "u-1"},
        "spec": base,
    }


def test_quirk_name_matches_the_registry() -> None:
    assert Quirk(QUIRK_HPA_TARGETS_DS_DROPS_ROLE) is Quirk.HPA_TARGETS_DS_DROPS_ROLE


def test_upstream_targets_the_disaggregated_service_itself() -> None:
    hpa = build_hpa(_scaler(), Quirk.HPA_TARGETS_DS_DROPS_ROLE in QuirkSet.upstream())
    assert hpa["metadata"]["name"] == "decode-scaler-hpa"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "name": "llm",
    }
    assert hpa["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "budaiscaler",
        "scaler.bud.studio/scaler": "decode-scaler",
    }
    assert hpa["metadata"]["ownerReferences"][0]["controller"] is True


def test_corrected_targets_the_role_deployment() -> None:
    hpa = build_hpa(_scaler(), Quirk.HPA_TARGETS_DS_DROPS_ROLE in QuirkSet.corrected())
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llm-decode",
    }


def test_which_metric_sources_convert() -> None:
    metrics = build_hpa(_scaler(), True)["spec"]["metrics"]
    assert metrics == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
        },
        {
            "type": "Pods",
            "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "500m"}},
        },
        {
            "type": "External",
            "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}},
        },
    ]


def test_no_convertible_metric_is_an_error() -> None:
    only_pod = [{"metricSourceType": "pod", "targetMetric": "x", "targetValue": "1"}]
    with pytest.raises(BuildError, match="no valid metrics could be converted to HPA format"):
        build_hpa(_scaler(metricsSources=only_pod), True)


def test_behavior_copy_and_update_clears_removed_behavior() -> None:
    behavior = {
        "scaleDown": {
            "stabilizationWindowSeconds": 60,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}],
        }
    }
    hpa = build_hpa(_scaler(behavior=behavior), True)
    assert hpa["spec"]["behavior"] == {
        "scaleDown": {
            "stabilizationWindowSeconds": 60,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}],
        }
    }
    updated = update_hpa_spec(hpa, _scaler(maxReplicas=3), False)
    assert "behavior" not in updated["spec"]
    assert updated["spec"]["maxReplicas"] == 3
    assert updated["spec"]["scaleTargetRef"]["name"] == "llm-decode"
    assert updated["metadata"] == hpa["metadata"]


def test_status_copy_back_and_failure_condition() -> None:
    hpa_status = {
        "desiredReplicas": 0,
        "conditions": [
            {
                "type": "AbleToScale",
                "status": "False",
                "reason": "FailedGetScale",
                "message": "no scale",
                "lastTransitionTime": "t",
            }
        ],
    }
    assert scaler_status_from_hpa({"conditions": []}, hpa_status) == {
        "conditions": [],
        "actualScale": 0,
        "desiredScale": 0,
    }
    assert hpa_failure_condition(hpa_status) == {
        "type": "HPAAbleToScale",
        "status": "False",
        "reason": "FailedGetScale",
        "message": "no scale",
        "lastTransitionTime": "t",
    }
    assert hpa_failure_condition({"conditions": [{"type": "AbleToScale", "status": "True"}]}) is None


def test_built_hpa_passes_admission() -> None:
    from model.admission import admit

    behavior = {
        "scaleUp": {
            "selectPolicy": "Min",
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        }
    }
    assert admit(build_hpa(_scaler(behavior=behavior), True)) == []
    assert admit(build_hpa(_scaler(), False)) == []
