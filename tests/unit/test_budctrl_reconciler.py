"""The BudAIScaler reconciler against the real API server and runtime: finalizer, validation,
conflicts in both profiles, target errors, deletion, HPA routing, activation from zero."""

from __future__ import annotations

import itertools
import math
from typing import Any

from model.quirks import QuirkSet
from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.controllers.budaiscaler import (
    FINALIZER,
    AlgorithmCall,
    AlgorithmOutcome,
    BudAIScalerReconciler,
    bud_algorithm,
    start_budaiscaler_controller,
    validate_scaler,
)
from sim.runtime import InformerFactory

NS = "default"
LABELS = {"app": "web"}


def proportional(call: AlgorithmCall) -> AlgorithmOutcome:
    snap = call.inputs.metric_snapshots.get("load")
    if snap is None or snap.count == 0:
        return AlgorithmOutcome(desired=call.inputs.current_replicas, reason="no metrics")
    return AlgorithmOutcome(desired=max(1, math.ceil(round(snap.sum, 6) / 10.0)), reason=f"load {snap.sum:g}")


class Metrics:
    def __init__(self, per_pod: float) -> None:
        self.per_pod = per_pod

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> float | None:
        return self.per_pod if metric == "load" else None


class Queue:
    def __init__(self, waiting: float) -> None:
        self.waiting = waiting

    def queued(self, namespace: str, ds: str, role: str, now: float) -> float:
        return self.waiting


def scaler(name: str, kind: str = "Deployment", target: str = "web", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
        "minReplicas": 1,
        "maxReplicas": 10,
        "scalingStrategy": "BudScaler",
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "load", "targetValue": "10"}],
    }
    body.update(spec)
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": name, "namespace": NS},
        "spec": body,
    }


class World:
    def __init__(
        self,
        profile: str = "upstream",
        per_pod: float = 10.0,
        queue: float | None = None,
        hpa_hook: Any = None,
    ) -> None:
        self.sim = Simulation(seed=1)
        self.api = APIServer(self.sim)
        self.informers = InformerFactory(self.sim, self.api)
        self.events: list[dict[str, Any]] = []
        self.rec: BudAIScalerReconciler = start_budaiscaler_controller(
            self.sim,
            self.api,
            self.informers,
            Metrics(per_pod),
            QuirkSet(profile),
            events=self.events.append,
            algorithm=proportional,
            activation=None if queue is None else Queue(queue),
            hpa_hook=hpa_hook,
        )

    def deployment(self, name: str = "web", replicas: int = 2, labels: dict[str, str] | None = None) -> None:
        labels = labels or LABELS
        self.api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "image": "x"}]},
                    },
                },
            }
        )
        for i in range(replicas):
            self.pod(f"{name}-{i}", labels)

    def pod(self, name: str, labels: dict[str, str]) -> None:
        self.api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": NS, "labels": labels},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            }
        )
        pod = self.api.get("Pod", NS, name)
        pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        self.api.update_status(pod)

    def ds(self, name: str = "pipe", replicas: int = 1) -> None:
        self.api.create(
            {
                "apiVersion": "scaler.bud.studio/v1alpha1",
                "kind": "DisaggregatedService",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "roles": [
                        {"name": "router", "replicas": replicas},
                        {"name": "inference", "replicas": replicas},
                    ]
                },
            }
        )

    def ready(self, name: str) -> dict[str, Any] | None:
        for c in self.api.get("BudAIScaler", NS, name).get("status", {}).get("conditions", []):
            if c["type"] == "Ready":
                return {k: c[k] for k in ("status", "reason", "message")}
        return None

    def kinds(self, name: str) -> list[str]:
        return [e["event"] for e in self.events if e["scaler"] == f"{NS}/{name}"]

    def replica_writers(self, kind: str = "Deployment") -> list[tuple[str, str]]:
        return [
            (e.name, e.actor)
            for e in self.api.audit.entries
            if e.kind == kind
            and e.actor == "budaiscaler-controller"
            and e.result == "ok"
            and e.subresource is None
        ]


def test_validate_scaler_messages() -> None:
    spec = scaler("s")["spec"]
    assert validate_scaler(spec) is None
    assert (
        validate_scaler({**spec, "scaleTargetRef": {"kind": "Deployment"}})
        == "scaleTargetRef.name is required"
    )
    assert validate_scaler({**spec, "metricsSources": []}) == "at least one metric source is required"
    assert validate_scaler({**spec, "maxReplicas": 0}) == "maxReplicas must be at least 1"
    assert validate_scaler({**spec, "minReplicas": 5, "maxReplicas": 3}) == (
        "minReplicas (5) cannot be greater than maxReplicas (3)"
    )
    no_min = {k: v for k, v in spec.items() if k != "minReplicas"}
    assert validate_scaler({**no_min, "maxReplicas": 1}) is None


def test_finalizer_then_scale_then_requeue_every_10s() -> None:
    w = World(per_pod=20.0)  # 2 pods x 20 = 40 -> 4 replicas
    w.deployment()
    w.api.create(scaler("s"))
    w.sim.run(until=25.0)
    obj = w.api.get("BudAIScaler", NS, "s")
    assert obj["metadata"]["finalizers"] == [FINALIZER]
    assert w.kinds("s")[:2] == ["finalizer-added", "decision"]
    assert w.api.get("Deployment", NS, "web")["spec"]["replicas"] == 4
    st = obj["status"]
    assert (st["desiredScale"], st["actualScale"], len(st["scalingHistory"])) == (4, 4, 1)
    assert st["scalingHistory"][0]["previousScale"] == 2 and st["scalingHistory"][0]["newScale"] == 4
    assert w.ready("s") == {
        "status": "True",
        "reason": "ScalerReady",
        "message": "BudAIScaler is ready and operating",
    }
    decisions = [e["t"] for e in w.events if e["event"] == "decision"]
    assert [round(b - a, 6) for a, b in itertools.pairwise(decisions)] == [10.0, 10.0]


def test_validation_failure_sets_condition_and_requeues() -> None:
    w = World()
    w.deployment()
    w.api.create(scaler("s", metricsSources=[]))
    w.sim.run(until=15.0)
    assert w.ready("s") == {
        "status": "False",
        "reason": "ValidationFailed",
        "message": "at least one metric source is required",
    }
    assert w.kinds("s") == ["finalizer-added", "validation-failed", "validation-failed"]
    assert w.replica_writers() == []


def test_upstream_conflict_both_stop_corrected_oldest_wins() -> None:
    up = World("upstream", per_pod=20.0)
    up.deployment()
    up.api.create(scaler("a"))
    up.sim.run(until=1.5)
    up.api.create(scaler("b"))
    up.sim.run(until=30.0)
    assert up.ready("a") == {
        "status": "False",
        "reason": "ConflictDetected",
        "message": "conflict: BudAIScaler b is already targeting Deployment/web",
    }
    assert up.ready("b") == {
        "status": "False",
        "reason": "ConflictDetected",
        "message": "conflict: BudAIScaler a is already targeting Deployment/web",
    }
    # a scaled once before b existed; after that nobody writes.
    assert up.replica_writers() == [("web", "budaiscaler-controller")]

    co = World("corrected", per_pod=20.0)
    co.deployment()
    co.api.create(scaler("b"))
    co.sim.run(until=1.5)
    co.api.create(scaler("a"))  # younger, although its name sorts first
    co.sim.run(until=30.0)
    assert co.ready("b") is not None and co.ready("b")["status"] == "True"  # type: ignore[index]
    ready_a = co.ready("a")
    assert ready_a is not None and (ready_a["status"], ready_a["reason"]) == ("False", "ConflictDetected")
    assert (
        "BudAIScaler b (created 2026-01-01T00:00:00Z) already controls the pods of Deployment/web"
        in ready_a["message"]
    )


def test_upstream_misses_role_vs_generated_deployment_corrected_catches_it() -> None:
    for profile, expected in (("upstream", [True, True]), ("corrected", [True, False])):
        w = World(profile)
        w.ds()
        w.deployment(
            "pipe-router",
            1,
            {"scaler.bud.studio/disaggregated-service": "pipe", "scaler.bud.studio/role": "router"},
        )
        w.api.create(
            scaler(
                "on-role",
                kind="DisaggregatedService",
                target="pipe",
                subTargetSelector={"roleName": "router"},
            )
        )
        w.sim.run(until=1.5)
        w.api.create(scaler("on-dep", target="pipe-router"))
        w.sim.run(until=12.0)
        got = [w.ready(n)["status"] == "True" for n in ("on-role", "on-dep")]  # type: ignore[index]
        assert got == expected, profile


def test_target_errors_fail_the_reconcile_with_upstream_messages() -> None:
    w = World()
    w.ds()
    w.ds("pipe2")
    w.api.create(scaler("whole", kind="DisaggregatedService", target="pipe"))
    w.api.create(
        scaler("typo", kind="DisaggregatedService", target="pipe2", subTargetSelector={"roleName": "decode"})
    )
    w.sim.run(until=3.0)
    assert w.ready("whole") == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": "scaling failed: failed to get scale: generic scale not implemented for DisaggregatedService/pipe",
    }
    assert w.ready("typo") == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": "scaling failed: failed to get scale: role 'decode' not found in DisaggregatedService "
        "default/pipe2; known roles: inference, router",
    }
    # Failures are retried with backoff (several attempts within 3 s), not every 10 s.
    assert w.kinds("whole").count("reconcile-failed") >= 3


def test_deletion_removes_the_finalizer() -> None:
    w = World()
    w.deployment()
    w.api.create(scaler("s"))
    w.sim.run(until=5.0)
    w.api.delete("BudAIScaler", NS, "s")
    w.sim.run(until=6.0)
    assert w.api.peek("BudAIScaler", NS, "s") is None
    assert w.kinds("s")[-1] == "finalizer-removed"


def test_hpa_strategy_builds_the_hpa_and_deletion_removes_it() -> None:
    w = World()
    w.deployment()
    cpu = [{"metricSourceType": "resource", "targetMetric": "cpu", "targetValue": "50"}]
    w.api.create(scaler("h", scalingStrategy="HPA", metricsSources=cpu))
    w.api.create(scaler("x", target="other", scalingStrategy="Magic"))
    # A pod-type source is not supported by HPA: upstream's BuildHPA fails.
    w.api.create(scaler("p", target="third", scalingStrategy="HPA"))
    w.sim.run(until=3.0)
    assert w.ready("p") == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": "failed to build HPA: failed to build metrics: no valid metrics could be converted to HPA format",
    }
    hpa = w.api.get("HorizontalPodAutoscaler", NS, "h-hpa")
    assert (hpa["spec"]["scaleTargetRef"], hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        1,
        10,
    )
    assert hpa["metadata"]["ownerReferences"][0]["name"] == "h"
    assert w.kinds("h")[:2] == ["finalizer-added", "hpa-created"]
    assert w.ready("h") == {
        "status": "True",
        "reason": "ScalerReady",
        "message": "BudAIScaler is ready and operating",
    }
    assert w.ready("x") == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": "unknown scaling strategy: Magic",
    }
    w.api.delete("BudAIScaler", NS, "h")
    w.sim.run(until=4.0)
    assert w.api.peek("HorizontalPodAutoscaler", NS, "h-hpa") is None
    assert w.api.peek("BudAIScaler", NS, "h") is None
    assert w.kinds("h")[-2:] == ["hpa-deleted", "finalizer-removed"]


def test_hpa_hook_status_changes_are_written() -> None:
    calls: list[float] = []

    def hook(scaler: dict[str, Any], now: float) -> None:
        calls.append(now)
        scaler.setdefault("status", {})["desiredScale"] = 7

    w = World(hpa_hook=hook)
    w.deployment()
    cpu = [{"metricSourceType": "resource", "targetMetric": "cpu", "targetValue": "50"}]
    w.api.create(scaler("h", scalingStrategy="HPA", metricsSources=cpu))
    w.sim.run(until=15.0)
    assert len(calls) == 2
    assert w.api.get("BudAIScaler", NS, "h")["status"]["desiredScale"] == 7


def test_role_at_zero_wakes_only_when_corrected() -> None:
    for profile, expected in (("upstream", 0), ("corrected", 1)):
        w = World(profile, queue=5.0)
        w.ds(replicas=0)
        w.api.create(
            scaler(
                "r",
                kind="DisaggregatedService",
                target="pipe",
                subTargetSelector={"roleName": "router"},
                minReplicas=0,
            )
        )
        w.sim.run(until=3.0)
        roles = {
            r["name"]: r["replicas"] for r in w.api.get("DisaggregatedService", NS, "pipe")["spec"]["roles"]
        }
        assert roles == {"router": expected, "inference": 0}, profile


def test_schedule_hint_of_one_scaler_floors_another_only_upstream() -> None:
    """upstream keeps one predictor for all scalers: a's active hint floors b (which has a hint of its own)."""
    results = {}
    for profile in ("upstream", "corrected"):
        w = World(profile)
        w.rec.algorithm = bud_algorithm
        w.deployment("web", 2)
        w.deployment("api", 2, {"app": "api"})
        midnight = {"name": "midnight", "cronExpression": "0 0 * * *", "duration": "1h", "targetReplicas": 5}
        noon = {"name": "noon", "cronExpression": "0 12 * * *", "duration": "1h", "targetReplicas": 7}
        w.api.create(scaler("a", scheduleHints=[midnight]))
        w.sim.run(until=1.0)
        w.api.create(scaler("b", target="api", scheduleHints=[noon]))
        w.sim.run(until=60.0)
        results[profile] = (
            w.api.get("Deployment", NS, "web")["spec"]["replicas"],
            w.api.get("Deployment", NS, "api")["spec"]["replicas"],
        )
    assert results["corrected"] == (5, 2)
    assert results["upstream"] == (5, 5)
