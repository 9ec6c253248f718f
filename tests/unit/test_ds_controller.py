"""The DisaggregatedService controller through the fake API server and informers.

Deployments are driven by a tiny stand-in (`ReadyAfter`): a Deployment reports all replicas Ready at
its generation `delay[name]` seconds after it is created or its spec changes. Exact audit logs."""

from __future__ import annotations

import copy
from typing import Any

from model.admission import admit
from model.quirks import QuirkSet
from sim.apiserver import APIServer, FaultWindow, WatchEvent, WatchEventType
from sim.apiserver.errors import ApiError
from sim.clock import Simulation
from sim.controllers.disaggregated import start_disaggregated_controller
from sim.decisions.disaggregated import CONTROLLER_NAME
from sim.runtime import Controller, InformerFactory

DRIVER = "ready-after"


class ReadyAfter:
    def __init__(self, sim: Simulation, api: APIServer, delays: dict[str, float]) -> None:
        self.sim, self.api, self.delays = sim, api, delays
        self.seen: set[tuple[str, int]] = set()
        api.watch("Deployment", self._on, name=DRIVER)

    def _on(self, ev: WatchEvent) -> None:
        if ev.type is WatchEventType.DELETED:
            return
        key = (ev.obj["metadata"]["name"], int(ev.obj["metadata"]["generation"]))
        if key not in self.seen:
            self.seen.add(key)
            self.sim.env.process(self._ready(*key))

    def _ready(self, name: str, generation: int) -> Any:
        yield self.sim.env.timeout(self.delays.get(name, 1.0))
        obj = self.api.peek("Deployment", "ml", name)
        if obj is None or obj["metadata"]["generation"] != generation:
            return
        n = obj["spec"]["replicas"]
        new = {**obj, "status": {"observedGeneration": generation, "replicas": n, "readyReplicas": n}}
        try:
            self.api.update_status(new, actor=DRIVER)
        except ApiError:
            return


ROLES = [
    {"name": "router", "roleType": "Router", "replicas": 1},
    {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 2},
    {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
]


def _manifest(roles: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "emb", "namespace": "ml"},
        "spec": {"serviceType": "Embedding", "roles": copy.deepcopy(roles)},
    }


def _setup(
    quirks: QuirkSet, delays: dict[str, float], roles: list[dict[str, Any]] = ROLES
) -> tuple[Simulation, APIServer, Controller, list[dict[str, Any]]]:
    sim = Simulation(3)
    api = APIServer(sim, admission=admit)
    ReadyAfter(sim, api, delays)
    events: list[dict[str, Any]] = []
    ctrl = start_disaggregated_controller(
        sim, api, InformerFactory(sim, api), quirks=quirks, events=events.append
    )
    api.create(_manifest(roles), actor="test")
    return sim, api, ctrl, events


def _writes(
    api: APIServer, kinds: tuple[str, ...] = ("Deployment", "Service")
) -> list[tuple[float, str, str, str]]:
    return [
        (e.t, e.verb, e.kind, e.name)
        for e in api.audit.entries
        if e.actor == CONTROLLER_NAME and e.kind in kinds and e.result == "ok"
    ]


DELAYS = {"emb-router": 3.0, "emb-tokenizer": 10.0, "emb-inference": 20.0}


def test_embedding_pipeline_order_and_times() -> None:
    sim, api, _, events = _setup(QuirkSet.corrected(), DELAYS)
    sim.run(until=60)
    assert _writes(api) == [
        (0.0, "create", "Deployment", "emb-router"),
        (0.0, "create", "Service", "emb-router"),
        (0.0, "create", "Deployment", "emb-tokenizer"),
        (0.0, "create", "Service", "emb-tokenizer"),
        (10.0, "create", "Deployment", "emb-inference"),
        (10.0, "create", "Service", "emb-inference"),
    ]
    ds = api.get("DisaggregatedService", "ml", "emb")
    assert ds["status"]["phase"] == "Ready"
    assert ds["status"]["observedGeneration"] == 1
    assert [(r["name"], r["replicas"], r["readyReplicas"]) for r in ds["status"]["roleStatuses"]] == [
        ("router", 1, 1),
        ("tokenizer", 2, 2),
        ("inference", 3, 3),
    ]
    assert events[0]["t"] == 0.0
    assert events[0]["actions"][0] == {
        "verb": "create",
        "kind": "Deployment",
        "name": "emb-router",
        "role": "router",
        "reason": "NoDependencies",
    }
    assert events[0]["waiting"] == {"inference": ["tokenizer"]}
    phases = [(e["t"], e["phase"]) for e in events if e["type"] == "reconcile"]
    assert phases[0] == (0.0, "Pending")
    assert phases[-1] == (30.0, "Ready")
    # status writes go through the status subresource only
    ds_writes = [
        e for e in api.audit.entries if e.kind == "DisaggregatedService" and e.actor == CONTROLLER_NAME
    ]
    assert {e.subresource for e in ds_writes} == {"status"}


def test_requeues_every_5s_while_waiting_on_zero_replica_role_upstream() -> None:
    roles = [
        {"name": "a", "roleType": "Custom", "replicas": 0},
        {"name": "b", "roleType": "Custom", "dependsOn": ["a"]},
    ]
    sim, api, ctrl, events = _setup(QuirkSet.upstream(), {}, roles)
    sim.run(until=21)
    assert events[-1]["quirksTriggered"] == ["ds_ready_requires_nonzero"]
    assert events[-1]["waiting"] == {"b": ["a"]}
    assert _writes(api) == [(0.0, "create", "Deployment", "emb-a"), (0.0, "create", "Service", "emb-a")]
    assert [r.t for r in ctrl.log if r.requeue_after == 5.0][-4:] == [5.0, 10.0, 15.0, 20.0]
    ds = api.get("DisaggregatedService", "ml", "emb")
    b = ds["status"]["roleStatuses"][1]["conditions"][0]
    assert (b["reason"], b["message"]) == (
        "WaitingForDependencies",
        "Waiting for dependencies to be ready: a",
    )
    assert ds["status"]["phase"] == "Progressing"


def test_zero_replica_role_is_ready_under_corrected() -> None:
    roles = [
        {"name": "a", "roleType": "Custom", "replicas": 0},
        {"name": "b", "roleType": "Custom", "dependsOn": ["a"]},
    ]
    sim, api, _, _ = _setup(QuirkSet.corrected(), {"emb-a": 2.0, "emb-b": 4.0}, roles)
    sim.run(until=30)
    assert _writes(api, ("Deployment",)) == [
        (0.0, "create", "Deployment", "emb-a"),
        (2.0, "create", "Deployment", "emb-b"),
    ]
    assert api.get("DisaggregatedService", "ml", "emb")["status"]["phase"] == "Ready"


def test_status_conflict_requeues_rate_limited_and_recovers() -> None:
    sim = Simulation(3)
    api = APIServer(sim, admission=admit)
    api.faults.add(
        FaultWindow(
            start=0.0, end=0.5, kind="conflict", kinds=("DisaggregatedService",), actors=(CONTROLLER_NAME,)
        )
    )
    ReadyAfter(sim, api, DELAYS)
    events: list[dict[str, Any]] = []
    ctrl = start_disaggregated_controller(
        sim, api, InformerFactory(sim, api), quirks=QuirkSet.corrected(), events=events.append
    )
    api.create(_manifest(ROLES), actor="test")
    sim.run(until=60)
    errors = [r for r in ctrl.log if r.outcome == "error"]
    assert errors and all(r.error is not None and r.error.startswith("Conflict") for r in errors)
    assert [e["reason"] for e in events if e["type"] == "reconcile_error"][:1] == ["Conflict"]
    # creates already made are not repeated (the cache sees them); the pipeline still completes
    assert [w for w in _writes(api) if w[1] == "create"] == [
        (0.0, "create", "Deployment", "emb-router"),
        (0.0, "create", "Service", "emb-router"),
        (0.0, "create", "Deployment", "emb-tokenizer"),
        (0.0, "create", "Service", "emb-tokenizer"),
        (10.0, "create", "Deployment", "emb-inference"),
        (10.0, "create", "Service", "emb-inference"),
    ]
    assert api.get("DisaggregatedService", "ml", "emb")["status"]["phase"] == "Ready"


def test_spec_changes_propagate() -> None:
    sim, api, _, _ = _setup(QuirkSet.corrected(), {**DELAYS, "emb-rerank": 5.0})
    sim.run(until=40)
    ds = api.get("DisaggregatedService", "ml", "emb")
    ds["spec"]["roles"][2]["replicas"] = 5  # scale inference
    del ds["spec"]["roles"][0]  # remove router
    ds["spec"]["roles"].append({"name": "rerank", "roleType": "Custom", "dependsOn": ["inference"]})
    api.update(ds, actor="test")
    sim.run(until=100)
    # Gating reads the observed snapshot: inference (3/3 Ready at its generation) counts as Ready in
    # the same reconcile that rescales it, so rerank starts at once (see docs/disaggregated.md).
    assert _writes(api)[6:] == [
        (40.0, "update", "Deployment", "emb-inference"),
        (40.0, "create", "Deployment", "emb-rerank"),
        (40.0, "create", "Service", "emb-rerank"),
        (40.0, "delete", "Deployment", "emb-router"),
        (40.0, "delete", "Service", "emb-router"),
    ]
    assert api.get("Deployment", "ml", "emb-inference")["spec"]["replicas"] == 5
    final = api.get("DisaggregatedService", "ml", "emb")["status"]
    assert (final["phase"], final["observedGeneration"]) == ("Ready", 2)


def test_deleting_the_service_garbage_collects_children() -> None:
    sim, api, _, _ = _setup(QuirkSet.corrected(), DELAYS)
    sim.run(until=40)
    assert len(api.list("Deployment", "ml")) == 3
    api.delete("DisaggregatedService", "ml", "emb", actor="test")
    sim.run(until=50)
    assert api.list("Deployment", "ml") == []
    assert api.list("Service", "ml") == []
    assert not [w for w in _writes(api) if w[1] == "delete"]  # the GC did it, not the controller


def test_hpa_style_scale_write_reverted_only_upstream() -> None:
    for profile, expected in (("upstream", 3), ("corrected", 6)):
        sim, api, _, events = _setup(QuirkSet(profile), DELAYS)
        sim.run(until=40)
        api.update_scale("Deployment", "ml", "emb-inference", 6, actor="horizontal-pod-autoscaler")
        sim.run(until=60)
        assert api.get("Deployment", "ml", "emb-inference")["spec"]["replicas"] == expected, profile
        reverted = [e for e in events if "ds_overwrites_autoscaled_replicas" in e.get("quirksTriggered", [])]
        assert bool(reverted) is (profile == "upstream")
