"""Scenario: three BudAIScalers on the router, tokenizer and inference roles of one
DisaggregatedService scale independently under a load step.

All three write `spec.roles[i].replicas` of the same DS object with the resourceVersion their cache
holds, while a DS status writer updates the same object's status; with watch latency the caches
lag, so writes Conflict, the reconciles fail and are retried with backoff, and at the end the DS
spec equals each scaler's last decision.

The DS controller, the Deployment controller and the kubelet are replaced by a small fake that
turns each role's replicas into Ready pods, and load arrives through fake per-pod metrics, so the
test exercises exactly the BudAIScaler controller against the real API server and runtime.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("sim.runtime", reason="controller runtime not available yet")

from model.quirks import QuirkSet
from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.controllers.budaiscaler import AlgorithmCall, AlgorithmOutcome, start_budaiscaler_controller
from sim.runtime import InformerFactory

NS = "default"
DS = "embedding-pipeline"
ROLES = ("router", "tokenizer", "inference")
TARGET = 10.0
STEP_AT = 60.0
LOAD_BEFORE = {"router": 5.0, "tokenizer": 15.0, "inference": 25.0}
LOAD_AFTER = {"router": 30.0, "tokenizer": 55.0, "inference": 95.0}
EXPECTED_BEFORE = {"router": 1, "tokenizer": 2, "inference": 3}
EXPECTED_AFTER = {"router": 3, "tokenizer": 6, "inference": 10}
LABEL_DS = "scaler.bud.studio/disaggregated-service"
LABEL_ROLE = "scaler.bud.studio/role"


def ds_object() -> dict[str, Any]:
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": DS, "namespace": NS},
        "spec": {
            "serviceType": "Embedding",
            "roles": [{"name": r, "roleType": r.capitalize(), "replicas": 1} for r in ROLES],
        },
    }


def scaler_object(role: str) -> dict[str, Any]:
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": f"{role}-scaler", "namespace": NS},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "scaler.bud.studio/v1alpha1",
                "kind": "DisaggregatedService",
                "name": DS,
            },
            "subTargetSelector": {"roleName": role},
            "minReplicas": 1,
            "maxReplicas": 10,
            "scalingStrategy": "BudScaler",
            "metricsSources": [{"metricSourceType": "pod", "targetMetric": "load", "targetValue": "10"}],
        },
    }


class FakeRoles:
    """Stands in for the DS controller + Deployment controller + kubelet: every second, make each
    role's Ready pods match the DS spec, mirror it into the role's Deployment, and write DS status
    from a view that is half a second old (as a controller reading its cache would)."""

    actor = "fake-ds-and-kubelet"

    def __init__(self, sim: Simulation, api: APIServer) -> None:
        self.sim = sim
        self.api = api
        self.ready: dict[str, list[str]] = {r: [] for r in ROLES}
        self.status_conflicts = 0

    def start(self) -> None:
        for r in ROLES:
            self.api.create(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": f"{DS}-{r}", "namespace": NS},
                    "spec": {
                        "replicas": 1,
                        "selector": {"matchLabels": {LABEL_DS: DS, LABEL_ROLE: r}},
                        "template": {
                            "metadata": {"labels": {LABEL_DS: DS, LABEL_ROLE: r}},
                            "spec": {"containers": [{"name": "c", "image": "x"}]},
                        },
                    },
                },
                actor=self.actor,
            )
        self.sim.env.process(self._loop())

    def _loop(self) -> Iterator[Any]:
        while True:
            ds = self.api.get("DisaggregatedService", NS, DS)
            for role in ds["spec"]["roles"]:
                self._converge(role["name"], int(role["replicas"]))
            yield self.sim.env.timeout(0.5)
            stale = dict(ds)
            stale["status"] = {
                "roleStatuses": [{"name": r, "readyReplicas": len(self.ready[r])} for r in ROLES],
                "observedGeneration": ds["metadata"].get("generation", 1),
            }
            try:
                self.api.update_status(stale, actor=self.actor)
            except Exception:  # Conflict: the real DS controller would requeue
                self.status_conflicts += 1
            yield self.sim.env.timeout(0.5)

    def _converge(self, role: str, want: int) -> None:
        pods = self.ready[role]
        while len(pods) < want:
            name = f"{DS}-{role}-{len(pods)}"
            self.api.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "namespace": NS, "labels": {LABEL_DS: DS, LABEL_ROLE: role}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
                actor=self.actor,
            )
            pod = self.api.get("Pod", NS, name)
            pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
            self.api.update_status(pod, actor=self.actor)
            pods.append(name)
        while len(pods) > want:
            self.api.delete("Pod", NS, pods.pop(), actor=self.actor)
        dep = self.api.get("Deployment", NS, f"{DS}-{role}")
        if dep["spec"]["replicas"] != want:
            dep["spec"]["replicas"] = want
            dep = self.api.update(dep, actor=self.actor)
        dep["status"] = {
            "replicas": want,
            "readyReplicas": want,
            "observedGeneration": dep["metadata"]["generation"],
        }
        self.api.update_status(dep, actor=self.actor)


class FakeLoadMetrics:
    """Per-pod `load` = the role's offered load split evenly over its Ready pods."""

    def __init__(self, roles: FakeRoles) -> None:
        self.roles = roles

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> float | None:
        role = next((r for r in ROLES if pod.startswith(f"{DS}-{r}-")), None)
        if role is None or metric != "load" or pod not in self.roles.ready[role]:
            return None
        load = (LOAD_AFTER if now >= STEP_AT else LOAD_BEFORE)[role]
        return load / len(self.roles.ready[role])


def proportional(call: AlgorithmCall) -> AlgorithmOutcome:
    """desired = ceil(total load / target), clamped to [min, max]; no snapshot -> no change."""
    snap = call.inputs.metric_snapshots.get("load")
    if snap is None or snap.count == 0:
        return AlgorithmOutcome(desired=call.inputs.current_replicas, reason="no metrics")
    desired = math.ceil(round(snap.sum, 6) / TARGET)
    desired = max(1, min(10, desired))
    return AlgorithmOutcome(desired=desired, reason=f"load {snap.sum:g} / target {TARGET:g}")


def simulate(algorithm: Any) -> dict[str, Any]:
    sim = Simulation(seed=5)
    api = APIServer(sim, watch_latency=0.3)
    informers = InformerFactory(sim, api)
    events: list[dict[str, Any]] = []
    roles = FakeRoles(sim, api)
    api.create(ds_object(), actor="user")
    roles.start()
    start_budaiscaler_controller(
        sim,
        api,
        informers,
        FakeLoadMetrics(roles),
        QuirkSet.upstream(),
        events=events.append,
        algorithm=proportional,
    )
    for r in ROLES:
        api.create(scaler_object(r), actor="user")
    sim.run(until=STEP_AT - 1)
    before = {r["name"]: r["replicas"] for r in api.get("DisaggregatedService", NS, DS)["spec"]["roles"]}
    sim.run(until=240.0)
    return {"api": api, "events": events, "before": before, "roles": roles}


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    return simulate(proportional)


@pytest.fixture(scope="module", params=["proportional", "budscaler"])
def any_run(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The same scenario with the fake algorithm and with the real BudScaler port (algorithm=None)."""
    return simulate(proportional if request.param == "proportional" else None)


def test_roles_scale_independently_before_and_after_the_step(run: dict[str, Any]) -> None:
    assert run["before"] == EXPECTED_BEFORE
    final = {
        r["name"]: r["replicas"] for r in run["api"].get("DisaggregatedService", NS, DS)["spec"]["roles"]
    }
    assert final == EXPECTED_AFTER


def test_final_spec_equals_each_scalers_last_decision(run: dict[str, Any]) -> None:
    final = {
        r["name"]: r["replicas"] for r in run["api"].get("DisaggregatedService", NS, DS)["spec"]["roles"]
    }
    last = {}
    for e in run["events"]:
        if e["event"] == "decision":
            last[e["target"].rsplit("/", 1)[1]] = e["desired"]
    assert last == final
    for r in ROLES:
        status = run["api"].get("BudAIScaler", NS, f"{r}-scaler")["status"]
        assert status["desiredScale"] == final[r]
        assert [c["status"] for c in status["conditions"] if c["type"] == "Ready"] == ["True"]


def test_writes_to_the_shared_ds_conflict_and_are_retried(any_run: dict[str, Any]) -> None:
    run = any_run
    api = run["api"]
    ds_writes = [
        e
        for e in api.audit.entries
        if e.kind == "DisaggregatedService" and e.actor == "budaiscaler-controller" and e.subresource is None
    ]
    conflicts = [e for e in ds_writes if e.result != "ok"]
    assert conflicts, "expected at least one Conflict on the shared DS object"
    assert {e.result for e in conflicts} == {"Conflict"}
    failed_decisions = [e for e in run["events"] if e["event"] == "decision" and e["write"] == "Conflict"]
    assert len(failed_decisions) == len(conflicts)
    # Every Conflict is followed by a successful write of the same role's decision.
    ok_writes = [e for e in run["events"] if e["event"] == "decision" and e["write"] == "ok"]
    for f in failed_decisions:
        assert any(o["target"] == f["target"] and o["t"] > f["t"] for o in ok_writes)
    # Each successful DS spec write changed exactly one role's replicas.
    for e in ds_writes:
        if e.result == "ok":
            assert len([c for c in e.changed_fields if c.startswith("spec.roles")]) == 1, e.changed_fields
