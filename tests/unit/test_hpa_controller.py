"""The SimPy HPA controller against the fake API server: sync cadence, scale writes, status, and the
BudAIScaler HPA-strategy hook aimed at a DisaggregatedService role (upstream vs corrected)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.quirks import QuirkSet
from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.controllers.hpa import make_budaiscaler_hpa_hook, parse_selector, start_hpa_controller
from sim.runtime import InformerFactory


@dataclass(frozen=True)
class Sample:
    value: float
    timestamp: float
    window: float = 15.0


class FakeProvider:
    """metrics-server stand-in: every pod uses `cpu_milli` millicores, sampled at `now`."""

    def __init__(self, cpu_milli: float) -> None:
        self.cpu_milli = cpu_milli

    def resource_usage(self, namespace: str, pod: str, resource: str, now: float) -> Sample | None:
        return Sample(self.cpu_milli, now) if resource == "cpu" else None

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> Sample | None:
        return None


def _world() -> tuple[Simulation, APIServer, InformerFactory]:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    return sim, api, InformerFactory(sim, api)


def _deployment(api: APIServer, name: str, replicas: int) -> None:
    labels = {"app": name}
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": "x"}]},
                },
            },
        },
        actor="test",
    )
    for i in range(replicas):
        pod = api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"{name}-{i}", "namespace": "ns", "labels": labels},
                "spec": {
                    "containers": [{"name": "app", "image": "x", "resources": {"requests": {"cpu": "1"}}}]
                },
            },
            actor="test",
        )
        pod["status"] = {
            "phase": "Running",
            "startTime": "2025-12-31T23:00:00Z",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-12-31T23:00:10Z"}],
        }
        api.update_status(pod, actor="test")


def _hpa(target: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web-hpa", "namespace": "ns"},
        "spec": {
            "scaleTargetRef": target,
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        },
    }


def test_parse_selector_round_trips_the_scale_selector_forms() -> None:
    assert parse_selector("app=web,tier in (a,b),!gone,present") == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "gone", "operator": "DoesNotExist"},
            {"key": "present", "operator": "Exists"},
        ],
    }


def test_first_sync_one_period_after_creation_scales_the_deployment() -> None:
    sim, api, informers = _world()
    _deployment(api, "web", 2)
    api.create(_hpa({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}), actor="test")
    events: list[dict[str, Any]] = []
    ctrl = start_hpa_controller(sim, api, informers, FakeProvider(900.0), events=events.append)
    sim.run(until=14.0)
    assert api.get("Deployment", "ns", "web")["spec"]["replicas"] == 2
    sim.run(until=31.0)
    # 90 % of a 50 % target over 2 ready pods -> 4 at t=15; at t=30 the 2 listed pods still read 90 %
    # but the scale is now 4 and only 2 pods have metrics: missing pods count 0 on scale-up -> stays 4
    assert [(t, d.desired_replicas, d.rescale) for t, _, d in ctrl.decisions] == [
        (15.0, 4, True),
        (30.0, 4, False),
    ]
    assert api.get("Deployment", "ns", "web")["spec"]["replicas"] == 4
    status = api.get("HorizontalPodAutoscaler", "ns", "web-hpa")["status"]
    assert status["desiredReplicas"] == 4
    assert status["lastScaleTime"] == "2026-01-01T00:00:15Z"
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("AbleToScale", "True", "ReadyForNewScale"),
        ("ScalingActive", "True", "ValidMetricFound"),
        ("ScalingLimited", "False", "DesiredWithinRange"),
    ]
    assert [(e["t"], e["reason"], e["message"]) for e in events] == [
        (
            15.0,
            "SuccessfulRescale",
            "New size: 4; reason: cpu resource utilization (percentage of request) above target",
        )
    ]


def _scaler(api: APIServer) -> dict[str, Any]:
    """Created in the API server so the `<name>-hpa` it owns is not garbage-collected."""
    obj = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "decode", "namespace": "ns"},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "scaler.bud.studio/v1alpha1",
                "kind": "DisaggregatedService",
                "name": "llm",
            },
            "subTargetSelector": {"roleName": "decode"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "scalingStrategy": "HPA",
            "metricsSources": [{"metricSourceType": "resource", "targetMetric": "cpu", "targetValue": "50"}],
        },
    }
    return api.create(obj, actor="test")


def test_upstream_hpa_on_a_ds_role_cannot_get_a_scale() -> None:
    sim, api, informers = _world()
    events: list[dict[str, Any]] = []
    hook = make_budaiscaler_hpa_hook(sim, api, QuirkSet.upstream(), events=events.append)
    ctrl = start_hpa_controller(sim, api, informers, FakeProvider(900.0))
    scaler = _scaler(api)
    hook(scaler, 0.0)
    hpa = api.get("HorizontalPodAutoscaler", "ns", "decode-hpa")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "name": "llm",
    }
    assert (events[0]["event"], events[0]["quirksTriggered"]) == (
        "hpa-created",
        ["hpa_targets_ds_drops_role"],
    )
    sim.run(until=16.0)
    decision = ctrl.decisions[0][2]
    cond = decision.status["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("AbleToScale", "False", "FailedGetScale")
    assert cond["message"].startswith("the HPA controller was unable to get the target's current scale: ")
    hook(scaler, 16.0)  # the scaler's next reconcile copies the HPA status back
    surfaced = [c for c in scaler["status"]["conditions"] if c["type"] == "HPAAbleToScale"]
    assert [(c["status"], c["reason"]) for c in surfaced] == [("False", "FailedGetScale")]
    assert (scaler["status"]["actualScale"], scaler["status"]["desiredScale"]) == (0, 0)


def test_corrected_hpa_targets_the_role_deployment_and_scales_it() -> None:
    sim, api, informers = _world()
    _deployment(api, "llm-decode", 2)
    hook = make_budaiscaler_hpa_hook(sim, api, QuirkSet.corrected())
    start_hpa_controller(sim, api, informers, FakeProvider(900.0))
    scaler = _scaler(api)
    hook(scaler, 0.0)
    assert api.get("HorizontalPodAutoscaler", "ns", "decode-hpa")["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llm-decode",
    }
    sim.run(until=16.0)
    assert api.get("Deployment", "ns", "llm-decode")["spec"]["replicas"] == 4
    hook(scaler, 16.0)
    assert (scaler["status"]["actualScale"], scaler["status"]["desiredScale"]) == (2, 4)
    assert [c for c in scaler["status"]["conditions"] if c["type"].startswith("HPA")] == []


def test_hook_build_failure_is_a_retryable_reconcile_error() -> None:
    from sim.controllers.budaiscaler import ReconcileFailed

    sim, api, _ = _world()
    hook = make_budaiscaler_hpa_hook(sim, api, QuirkSet.upstream())
    scaler = _scaler(api)
    scaler["spec"]["metricsSources"] = [{"metricSourceType": "pod", "targetMetric": "x", "targetValue": "1"}]
    try:
        hook(scaler, 0.0)
    except ReconcileFailed as err:
        assert str(err).endswith(
            "failed to build HPA: failed to build metrics: no valid metrics could be converted to HPA format"
        )
    else:  # pragma: no cover
        raise AssertionError("expected ReconcileFailed")


def test_two_hpas_on_one_deployment_become_ambiguous_once_both_synced() -> None:
    sim, api, informers = _world()
    _deployment(api, "web", 2)
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    api.create(_hpa(target), actor="test")
    second = _hpa(target)
    second["metadata"]["name"] = "web-hpa-2"
    api.create(second, actor="test")
    ctrl = start_hpa_controller(sim, api, informers, FakeProvider(900.0))
    sim.run(until=31.0)
    active = [
        (t, key, next(c["reason"] for c in d.status["conditions"] if c["type"] == "ScalingActive"))
        for t, key, d in ctrl.decisions
    ]
    # the first sync of web-hpa sees only its own selector (web-hpa-2 is not synced yet) and scales
    assert active == [
        (15.0, "ns/web-hpa", "ValidMetricFound"),
        (15.0, "ns/web-hpa-2", "AmbiguousSelector"),
        (30.0, "ns/web-hpa", "AmbiguousSelector"),
        (30.0, "ns/web-hpa-2", "AmbiguousSelector"),
    ]
    msg = ctrl.decisions[-1][2].status["conditions"][1]["message"]
    assert msg == "pods by selector app=web are controlled by multiple HPAs: [ns/web-hpa ns/web-hpa-2]"
