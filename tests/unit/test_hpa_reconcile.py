"""The pure HPA reconcile decision across several syncs, failures and status wire form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.decisions.hpa.controller import HPAState, Scale, reconcile, rescale_failed
from sim.decisions.hpa.replica_calculator import (
    CPU,
    Container,
    MetricError,
    PodInfo,
    PodMetric,
    RawPodMetrics,
    ReadyCondition,
)


@dataclass
class FakeMetrics:
    cpu_per_pod: dict[str, int] = field(default_factory=dict)
    now: float = 0.0
    external_error: str | None = None

    def resource_metrics(self, resource: str) -> Sequence[RawPodMetrics]:
        return [
            RawPodMetrics(p, (("app", {resource: v}),), self.now, 60.0)
            for p, v in sorted(self.cpu_per_pod.items())
        ]

    def pods_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Mapping[str, PodMetric]:
        return {}

    def object_metric(
        self, metric: str, described_object: Mapping[str, Any], selector: Mapping[str, Any] | None
    ) -> int:
        raise MetricError("not served")

    def external_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Sequence[int]:
        if self.external_error:
            raise MetricError(self.external_error)
        return [5000]


def _hpa(
    behavior: dict[str, Any] | None = None, metrics: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web-hpa", "namespace": "ns"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": metrics
            or [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
            **({"behavior": behavior} if behavior is not None else {}),
        },
    }


def _pods(n: int) -> list[PodInfo]:
    return [
        PodInfo(
            f"web-{i}",
            start_time=-1000.0,
            ready=ReadyCondition("True", -990.0),
            containers=(Container("app", {CPU: 1000}),),
        )
        for i in range(n)
    ]


def _sync(
    hpa: dict[str, Any], replicas: int, usage: int, state: HPAState, now: float
) -> tuple[int, HPAState, dict[str, Any]]:
    pods = _pods(replicas)
    metrics = FakeMetrics({p.name: usage for p in pods}, now)
    d = reconcile(hpa, Scale(replicas, replicas, "app=web"), pods, metrics, state, now)
    hpa["status"] = d.status
    return d.desired_replicas, d.state, d.status


def test_legacy_path_scales_up_then_holds_scale_down_for_five_minutes() -> None:
    hpa = _hpa()
    state = HPAState()
    trace = []
    replicas = 2
    for now, usage in [(0.0, 900), (15.0, 450), (30.0, 100), (300.0, 100), (330.0, 100)]:
        replicas, state, _ = _sync(hpa, replicas, usage, state, now)
        trace.append((now, replicas))
    # 0 s: 90 % of 50 % target -> 4; 30 s: 10 % -> 1 proposed, but the 0 s/15 s recommendations hold 4
    # until they are older than 300 s (the 15 s one still counts at 300 s, by Go's Before(cutoff) rule)
    assert trace == [(0.0, 4), (15.0, 4), (30.0, 4), (300.0, 4), (330.0, 1)]


def test_status_wire_form_and_conditions() -> None:
    hpa = _hpa()
    _, _, status = _sync(hpa, 2, 900, HPAState(), 0.0)
    assert status == {
        "currentReplicas": 2,
        "desiredReplicas": 4,
        "lastScaleTime": "2026-01-01T00:00:00Z",
        "currentMetrics": [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": 90, "averageValue": "900m"}},
            }
        ],
        "conditions": [
            {
                "type": "AbleToScale",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "status": "True",
                "reason": "SucceededRescale",
                "message": "the HPA controller was able to update the target scale to 4",
            },
            {
                "type": "ScalingActive",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "status": "True",
                "reason": "ValidMetricFound",
                "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
            },
            {
                "type": "ScalingLimited",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "status": "False",
                "reason": "DesiredWithinRange",
                "message": "the desired count is within the acceptable range",
            },
        ],
    }


def test_behavior_path_rate_limits_with_defaults() -> None:
    hpa = _hpa(behavior={"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}})
    state = HPAState()
    trace = []
    replicas = 1
    for now in (0.0, 15.0, 60.0, 75.0):
        replicas, state, status = _sync(hpa, replicas, 1000, state, now)
        trace.append((now, replicas, status["conditions"][-1]["reason"]))
    assert trace == [
        (0.0, 2, "DesiredWithinRange"),  # 100 % of a 50 % target: 1 -> 2, exactly the 1-pod limit
        (15.0, 2, "ScaleUpLimit"),  # the +1 at 0 s is inside the 60 s period: limit stays 2
        (60.0, 3, "ScaleUpLimit"),
        (75.0, 3, "ScaleUpLimit"),
    ]


def test_failed_get_scale_surfaces_in_able_to_scale() -> None:
    hpa = _hpa()
    d = reconcile(
        hpa,
        None,
        [],
        FakeMetrics(),
        HPAState(),
        5.0,
        scale_error='DisaggregatedService "ds" has no scale subresource',
    )
    cond = d.status["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("AbleToScale", "False", "FailedGetScale")
    assert (
        cond["message"]
        == 'the HPA controller was unable to get the target\'s current scale: DisaggregatedService "ds" has no scale subresource'
    )
    assert d.rescale is False
    assert [(e.type, e.reason) for e in d.events] == [("Warning", "FailedGetScale")]


def test_missing_selector_and_all_invalid_metrics_block_scaling() -> None:
    d = reconcile(_hpa(), Scale(3, 3, ""), _pods(3), FakeMetrics(), HPAState(), 0.0)
    assert [(c["type"], c["status"], c["reason"]) for c in d.status["conditions"]] == [
        ("AbleToScale", "True", "SucceededGetScale"),
        ("ScalingActive", "False", "InvalidSelector"),
    ]
    ext = [
        {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "1"}}}
    ]
    d = reconcile(
        _hpa(metrics=ext),
        Scale(3, 3, "app=web"),
        _pods(3),
        FakeMetrics(external_error="boom"),
        HPAState(),
        0.0,
    )
    assert (d.rescale, d.desired_replicas) == (False, 0)
    assert d.status["conditions"][1]["message"] == (
        "the HPA was unable to compute the replica count: unable to get external metric ns/q/nil: "
        "unable to fetch metrics from external metrics API: boom"
    )


def test_rescale_failed_keeps_previous_desired_and_sets_failed_update_scale() -> None:
    hpa = _hpa()
    hpa["status"] = {"currentReplicas": 2, "desiredReplicas": 2}
    pods = _pods(2)
    state = HPAState()
    d = reconcile(hpa, Scale(2, 2, "app=web"), pods, FakeMetrics({p.name: 900 for p in pods}), state, 0.0)
    failed = rescale_failed(d, state, "conflict", 0.0)
    assert failed.status["desiredReplicas"] == 2
    assert next((c["type"], c["status"], c["reason"]) for c in failed.status["conditions"]) == (
        "AbleToScale",
        "False",
        "FailedUpdateScale",
    )
    assert [e.reason for e in failed.events] == ["FailedRescale"]
