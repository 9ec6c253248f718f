"""Benchmark: HPA reconcile decisions per second (50 pods, CPU + Pods metrics) and the conformance run."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.conformance.runner import run_files
from sim.decisions.hpa.controller import HPAState, Scale, reconcile
from sim.decisions.hpa.replica_calculator import (
    CPU,
    Container,
    PodInfo,
    PodMetric,
    RawPodMetrics,
    ReadyCondition,
)

SYNCS = 2_000
PODS = 50
VECTORS = Path(__file__).resolve().parents[1] / "tests" / "data" / "conformance" / "k8s_hpa_vectors.json"


@dataclass
class _Metrics:
    level: int
    now: float

    def resource_metrics(self, resource: str) -> Sequence[RawPodMetrics]:
        return [RawPodMetrics(f"p{i}", (("c", {resource: self.level}),), self.now, 60.0) for i in range(PODS)]

    def pods_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Mapping[str, PodMetric]:
        return {f"p{i}": PodMetric(self.level * 10, self.now, 60.0) for i in range(PODS)}

    def object_metric(
        self, metric: str, described_object: Mapping[str, Any], selector: Mapping[str, Any] | None
    ) -> int:
        return 0

    def external_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Sequence[int]:
        return [0]


def _syncs_per_s(behavior: dict[str, Any] | None) -> float:
    hpa: dict[str, Any] = {
        "metadata": {"name": "h", "namespace": "ns"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
            "minReplicas": 1,
            "maxReplicas": 500,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                },
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "qps"},
                        "target": {"type": "AverageValue", "averageValue": "5"},
                    },
                },
            ],
            **({"behavior": behavior} if behavior is not None else {}),
        },
    }
    pods = [
        PodInfo(
            f"p{i}",
            start_time=-1e4,
            ready=ReadyCondition("True", -1e4),
            containers=(Container("c", {CPU: 1000}),),
        )
        for i in range(PODS)
    ]
    state = HPAState()
    start = time.perf_counter()
    for i in range(SYNCS):
        now = 15.0 * i
        d = reconcile(hpa, Scale(PODS, PODS, "app=x"), pods, _Metrics(300 + (i % 40) * 20, now), state, now)
        state = d.state
        hpa["status"] = d.status
    return SYNCS / (time.perf_counter() - start)


def run() -> dict[str, dict[str, Any]]:
    start = time.perf_counter()
    report = run_files([str(VECTORS)])
    elapsed = time.perf_counter() - start
    passed = report.passed
    return {
        "hpa.syncs_per_s.legacy": {"value": _syncs_per_s(None), "unit": "syncs/s", "target": ">= 2000"},
        "hpa.syncs_per_s.behavior": {"value": _syncs_per_s({}), "unit": "syncs/s", "target": ">= 2000"},
        "hpa.conformance_s": {"value": elapsed, "unit": "s", "target": "<= 2 (168 vectors)"},
        "hpa.conformance_passed": {"value": float(passed), "unit": "vectors", "target": "== 168"},
    }


if __name__ == "__main__":
    for name, fig in run().items():
        print(f"{name}: {fig['value']:.1f} {fig['unit']} (target {fig['target']})")
