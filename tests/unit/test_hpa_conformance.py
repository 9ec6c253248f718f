"""Every Kubernetes HPA conformance vector through the production decision functions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sim.conformance.hpa import HANDLERS

VECTORS = Path(__file__).resolve().parents[1] / "data" / "conformance" / "k8s_hpa_vectors.json"

KINDS = {
    "replica_calc.resource_utilization",
    "replica_calc.pods_metric",
    "replica_calc.object_metric",
    "replica_calc.object_per_pod_metric",
    "replica_calc.external_metric",
    "replica_calc.external_per_pod_metric",
    "replica_calc.group_pods",
    "hpa_controller.reconcile",
    "hpa_behavior.rate_limit",
    "hpa_behavior.stabilize",
    "hpa_behavior.store_scale_event",
    "hpa_behavior.scale_up_limit",
    "hpa_behavior.scale_down_limit",
    "hpa_legacy.stabilize",
    "hpa_legacy.convert",
}


def test_every_listed_kind_has_a_handler() -> None:
    assert set(HANDLERS) == KINDS


def test_all_168_vectors_pass() -> None:
    vectors = json.loads(VECTORS.read_text())["vectors"]
    outcome: Counter[str] = Counter()
    failures = []
    for vector in vectors:
        handler = HANDLERS.get(vector["kind"])
        if handler is None:
            outcome["skipped"] += 1
            continue
        result = handler(vector)
        outcome["passed" if result.passed else "failed"] += 1
        if not result.passed:
            failures.append(f"{vector['id']}: {result.detail}")
    assert failures == []
    assert dict(outcome) == {"passed": 168}


def test_a_wrong_expectation_fails_with_detail() -> None:
    vectors = json.loads(VECTORS.read_text())["vectors"]
    vector = next(v for v in vectors if v["id"] == "k8s-rc-001")
    broken = {**vector, "expected": {**vector["expected"], "replicas": 6}}
    result = HANDLERS[vector["kind"]](broken)
    assert (result.passed, result.detail) == (False, "replicas: expected 6, got 5")


def test_scale_limit_kinds_without_shipped_vectors() -> None:
    # TestCalculateScaleUpLimitWithScalingRules / TestCalculateScaleDownLimitWithBehaviors (horizontal_test.go)
    rules = {
        "stabilizationWindowSeconds": 300,
        "selectPolicy": "Min",
        "policies": [
            {"type": "Pods", "value": 2, "periodSeconds": 60},
            {"type": "Percent", "value": 50, "periodSeconds": 60},
        ],
    }
    up = {
        "kind": "hpa_behavior.scale_up_limit",
        "inputs": {"current_replicas": 1, "scale_up_events": [], "scale_down_events": [], "rules": rules},
        "expected": {"limit": 2},
    }
    down = {
        "kind": "hpa_behavior.scale_down_limit",
        "inputs": {"current_replicas": 5, "scale_up_events": [], "scale_down_events": [], "rules": rules},
        "expected": {"limit": 3},
    }
    assert HANDLERS["hpa_behavior.scale_up_limit"](up).passed
    assert HANDLERS["hpa_behavior.scale_down_limit"](down).passed
