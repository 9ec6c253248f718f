"""Desired children, service types, dependsOn gating, status and the action plan of one reconcile."""

from __future__ import annotations

import copy
from typing import Any

from sim.decisions.disaggregated import (
    LABEL_DS,
    LABEL_MANAGED_BY,
    LABEL_ROLE,
    LABEL_ROLE_TYPE,
    Phase,
    desired_deployment,
    desired_service,
    plan_reconcile,
)

TS = "2026-01-01T00:00:10Z"


def _ds(
    roles: list[dict[str, Any]], generation: int = 1, status: dict[str, Any] | None = None
) -> dict[str, Any]:
    ds: dict[str, Any] = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "emb", "namespace": "ns", "uid": "uid-ds", "generation": generation},
        "spec": {"serviceType": "Embedding", "roles": roles},
    }
    if status is not None:
        ds["status"] = status
    return ds


EMBEDDING = [
    {"name": "router", "roleType": "Router", "replicas": 1},
    {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 2},
    {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
]


def _running(ds: dict[str, Any], role: dict[str, Any], ready: int | None = None) -> dict[str, Any]:
    dep = desired_deployment(ds, role, track_applied=True)
    n = dep["spec"]["replicas"]
    dep["metadata"].update(generation=1, resourceVersion="7")
    dep["status"] = {"replicas": n, "readyReplicas": n if ready is None else ready, "observedGeneration": 1}
    return dep


def _plan(ds: dict[str, Any], deps: list[dict[str, Any]], svcs: list[dict[str, Any]], upstream: bool) -> Any:
    return plan_reconcile(
        ds, deps, svcs, now=10.0, timestamp=TS, ready_requires_nonzero=upstream, overwrite_replicas=upstream
    )


def _verbs(plan: Any) -> list[tuple[str, str, str]]:
    return [(a.verb.value, a.kind, a.name) for a in plan.actions]


def test_deployment_shape() -> None:
    ds = _ds(EMBEDDING)
    dep = desired_deployment(ds, EMBEDDING[2])
    labels = {
        LABEL_DS: "emb",
        LABEL_ROLE: "inference",
        LABEL_ROLE_TYPE: "Inference",
        LABEL_MANAGED_BY: "disaggregatedservice-controller",
    }
    assert dep["metadata"]["name"] == "emb-inference"
    assert dep["metadata"]["namespace"] == "ns"
    assert dep["metadata"]["labels"] == labels
    assert dep["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "DisaggregatedService",
            "name": "emb",
            "uid": "uid-ds",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["selector"] == {"matchLabels": labels}
    assert dep["spec"]["template"]["metadata"]["labels"] == labels


def test_user_template_keeps_its_labels_and_gets_ours() -> None:
    role = {
        "name": "decode",
        "roleType": "Decode",
        "template": {
            "metadata": {"labels": {"app": "vllm"}},
            "spec": {"containers": [{"name": "c", "image": "vllm"}]},
        },
    }
    dep = desired_deployment(_ds([role]), role)
    assert dep["spec"]["template"]["metadata"]["labels"]["app"] == "vllm"
    assert dep["spec"]["template"]["metadata"]["labels"][LABEL_ROLE] == "decode"
    assert dep["spec"]["template"]["spec"] == {"containers": [{"name": "c", "image": "vllm"}]}
    assert role["template"]["metadata"]["labels"] == {"app": "vllm"}  # input not mutated


def test_service_types_per_role_type() -> None:
    roles = [
        {"name": t.lower(), "roleType": t}
        for t in ("Router", "Tokenizer", "Inference", "Prefill", "Decode", "Custom")
    ]
    ds = _ds(roles)
    got = {r["name"]: desired_service(ds, r)["spec"].get("clusterIP") for r in roles}
    assert got == {
        "router": None,
        "tokenizer": "None",
        "inference": "None",
        "prefill": "None",
        "decode": "None",
        "custom": "None",
    }
    assert all(desired_service(ds, r)["spec"]["type"] == "ClusterIP" for r in roles)


def test_service_ports_default_and_custom() -> None:
    ds = _ds([])
    assert desired_service(ds, {"name": "a", "roleType": "Router"})["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}
    ]
    assert desired_service(ds, {"name": "a", "service": {"port": 9000}})["spec"]["ports"] == [
        {"name": "http", "port": 9000, "targetPort": 9000, "protocol": "TCP"}
    ]
    assert desired_service(ds, {"name": "a", "service": {"port": 50051, "targetPort": "grpc"}})["spec"][
        "ports"
    ] == [{"name": "http", "port": 50051, "targetPort": "grpc", "protocol": "TCP"}]


def test_first_reconcile_creates_roles_without_dependencies_in_spec_order() -> None:
    plan = _plan(_ds(EMBEDDING), [], [], upstream=False)
    assert _verbs(plan) == [
        ("create", "Deployment", "emb-router"),
        ("create", "Service", "emb-router"),
        ("create", "Deployment", "emb-tokenizer"),
        ("create", "Service", "emb-tokenizer"),
    ]
    assert [(r.name, r.started, r.ready, r.waiting_for) for r in plan.roles] == [
        ("router", False, False, ()),
        ("tokenizer", False, False, ()),
        ("inference", False, False, ("tokenizer",)),
    ]
    assert plan.requeue_after == 5.0
    assert plan.status["phase"] == Phase.PENDING
    inf = plan.status["roleStatuses"][2]
    assert inf["conditions"][0]["reason"] == "WaitingForDependencies"
    assert inf["conditions"][0]["message"] == "Waiting for dependencies to be ready: tokenizer"


def test_dependent_created_once_dependency_ready() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, EMBEDDING[0]), _running(ds, EMBEDDING[1], ready=1)]
    svcs = [desired_service(ds, r) for r in EMBEDDING[:2]]
    not_yet = _plan(ds, deps, svcs, upstream=False)
    assert _verbs(not_yet) == []
    assert not_yet.status["phase"] == Phase.PROGRESSING
    assert not_yet.requeue_after == 5.0
    deps[1] = _running(ds, EMBEDDING[1])
    go = _plan(ds, deps, svcs, upstream=False)
    assert _verbs(go) == [("create", "Deployment", "emb-inference"), ("create", "Service", "emb-inference")]
    assert go.actions[0].reason == "DependenciesReady"
    assert go.requeue_after is None


def test_zero_replica_dependency_blocks_upstream_only() -> None:
    roles = [{"name": "a", "replicas": 0}, {"name": "b", "replicas": 1, "dependsOn": ["a"]}]
    ds = _ds(roles)
    deps = [_running(ds, roles[0])]
    svcs = [desired_service(ds, roles[0])]
    up = _plan(ds, deps, svcs, upstream=True)
    assert _verbs(up) == []
    assert up.roles[1].waiting_for == ("a",)
    assert up.requeue_after == 5.0
    assert up.quirks_triggered == ("ds_ready_requires_nonzero",)
    cor = _plan(ds, deps, svcs, upstream=False)
    assert _verbs(cor) == [("create", "Deployment", "emb-b"), ("create", "Service", "emb-b")]
    assert cor.quirks_triggered == ()


def test_quirk_not_reported_when_both_rules_agree() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    assert _plan(ds, deps, [], upstream=True).quirks_triggered == ()


def test_running_role_not_torn_down_when_dependency_unready() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    deps[1]["status"]["readyReplicas"] = 0  # tokenizer lost its pods
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    prev = _plan(ds, [_running(ds, r) for r in EMBEDDING], svcs, upstream=False)
    assert prev.status["phase"] == Phase.READY
    ds_with_status = _ds(EMBEDDING, status=prev.status)
    plan = _plan(ds_with_status, deps, svcs, upstream=False)
    assert _verbs(plan) == []
    assert plan.status["phase"] == Phase.DEGRADED
    assert [r.started for r in plan.roles] == [True, True, True]
    assert plan.roles[2].waiting_for == ()


def test_replica_and_template_changes_update_with_observed_resource_version() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    roles2 = copy.deepcopy(EMBEDDING)
    roles2[2]["replicas"] = 5
    roles2[1]["template"] = {"spec": {"containers": [{"name": "tok", "image": "tok:v2"}]}}
    plan = _plan(_ds(roles2, generation=2), deps, svcs, upstream=False)
    assert _verbs(plan) == [
        ("update", "Deployment", "emb-tokenizer"),
        ("update", "Deployment", "emb-inference"),
    ]
    upd = plan.actions[1].obj
    assert upd is not None
    assert upd["spec"]["replicas"] == 5
    assert upd["metadata"]["resourceVersion"] == "7"
    assert "status" not in upd
    assert plan.actions[0].obj["spec"]["template"]["spec"]["containers"][0]["image"] == "tok:v2"


def test_role_removed_deletes_its_children_and_role_added_is_gated() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    roles2 = [EMBEDDING[0], EMBEDDING[1], {"name": "rerank", "roleType": "Custom", "dependsOn": ["nope"]}]
    plan = _plan(_ds(roles2, generation=2), deps, svcs, upstream=False)
    assert _verbs(plan) == [("delete", "Deployment", "emb-inference"), ("delete", "Service", "emb-inference")]
    assert plan.roles[2].waiting_for == ("nope",)


def test_router_becoming_worker_recreates_service() -> None:
    ds = _ds(EMBEDDING)
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    deps = [_running(ds, r) for r in EMBEDDING]
    roles2 = copy.deepcopy(EMBEDDING)
    roles2[0]["roleType"] = "Custom"
    plan = _plan(_ds(roles2, generation=2), deps, svcs, upstream=False)
    assert _verbs(plan) == [("delete", "Deployment", "emb-router"), ("delete", "Service", "emb-router")]
    assert [a.reason for a in plan.actions] == ["SelectorChanged", "ServiceTypeChanged"]


def test_children_not_owned_are_left_alone() -> None:
    ds = _ds(EMBEDDING[:1])
    foreign = desired_deployment(ds, EMBEDDING[0])
    foreign["metadata"]["ownerReferences"] = []
    plan = _plan(ds, [foreign], [], upstream=False)
    assert _verbs(plan) == []
    cond = plan.status["roleStatuses"][0]["conditions"][0]
    assert (cond["reason"], cond["message"]) == (
        "NameConflict",
        "Deployment emb-router exists and is not controlled by this service",
    )
    assert plan.requeue_after == 5.0


def test_status_is_stable_when_nothing_changed() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    first = _plan(ds, deps, svcs, upstream=False)
    assert first.status_changed is True
    assert first.status == {
        "observedGeneration": 1,
        "phase": "Ready",
        "roleStatuses": [
            {
                "name": n,
                "replicas": k,
                "readyReplicas": k,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "AllReplicasReady",
                        "message": "All replicas are ready",
                        "lastTransitionTime": TS,
                        "observedGeneration": 1,
                    }
                ],
            }
            for n, _, k in (
                ("router", "Router", 1),
                ("tokenizer", "Tokenizer", 2),
                ("inference", "Inference", 3),
            )
        ],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "AllRolesReady",
                "message": "All roles are ready",
                "lastTransitionTime": TS,
                "observedGeneration": 1,
            }
        ],
    }
    again = plan_reconcile(
        _ds(EMBEDDING, status=first.status),
        deps,
        svcs,
        now=99.0,
        timestamp="2026-01-01T00:01:39Z",
        ready_requires_nonzero=False,
        overwrite_replicas=False,
    )
    assert again.status_changed is False
    assert again.actions == ()


def test_server_defaults_are_not_drift() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    for d in deps:
        d["spec"]["template"]["spec"].update(restartPolicy="Always", dnsPolicy="ClusterFirst")
        d["spec"]["strategy"] = {"type": "RollingUpdate"}
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    svcs[0]["spec"]["clusterIP"] = "10.96.0.12"
    svcs[0]["spec"]["sessionAffinity"] = "None"
    assert _verbs(_plan(ds, deps, svcs, upstream=False)) == []


def test_autoscaled_replicas_reverted_upstream_kept_corrected() -> None:
    ds = _ds(EMBEDDING, status={"observedGeneration": 1})
    deps = [_running(ds, r) for r in EMBEDDING]
    deps[2]["spec"]["replicas"] = 7  # an HPA scaled the inference Deployment
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    up = _plan(ds, deps, svcs, upstream=True)
    assert _verbs(up) == [("update", "Deployment", "emb-inference")]
    assert up.actions[0].obj is not None and up.actions[0].obj["spec"]["replicas"] == 3
    assert "ds_overwrites_autoscaled_replicas" in up.quirks_triggered
    cor = _plan(ds, deps, svcs, upstream=False)
    assert _verbs(cor) == []
    assert cor.quirks_triggered == ()


def test_role_replicas_change_still_propagates_when_tracking() -> None:
    ds = _ds(EMBEDDING)
    deps = [_running(ds, r) for r in EMBEDDING]
    deps[2]["spec"]["replicas"] = 7  # HPA-scaled ...
    roles2 = copy.deepcopy(EMBEDDING)
    roles2[2]["replicas"] = 4  # ... then a BudAIScaler / user rescales the role itself
    plan = _plan(_ds(roles2, generation=2), deps, [desired_service(ds, r) for r in EMBEDDING], upstream=False)
    assert _verbs(plan) == [("update", "Deployment", "emb-inference")]
    obj = plan.actions[0].obj
    assert obj is not None
    assert obj["spec"]["replicas"] == 4
    assert obj["metadata"]["annotations"] == {"scaler.bud.studio/applied-replicas": "4"}


def test_depends_on_edit_reevaluates_roles_not_started() -> None:
    roles = [
        {"name": "a", "roleType": "Custom"},
        {"name": "b", "roleType": "Custom", "dependsOn": ["a"]},
        {"name": "c", "roleType": "Custom", "dependsOn": ["b"]},
    ]
    ds = _ds(roles)
    deps = [_running(ds, roles[0], ready=0), _running(ds, roles[1])]  # a lost its pod; b already runs
    svcs = [desired_service(ds, r) for r in roles[:2]]
    plan = _plan(ds, deps, svcs, upstream=False)
    assert _verbs(plan) == [("create", "Deployment", "emb-c"), ("create", "Service", "emb-c")]
    edited = copy.deepcopy(roles)
    edited[2]["dependsOn"] = ["a", "b"]
    plan = _plan(_ds(edited, generation=2), deps, svcs, upstream=False)
    assert _verbs(plan) == []  # c now waits for a; b keeps running although a is not Ready
    assert [(r.name, r.started, r.waiting_for) for r in plan.roles] == [
        ("a", True, ()),
        ("b", True, ()),
        ("c", False, ("a",)),
    ]


def test_degraded_only_when_pods_lost_without_spec_change() -> None:
    ds = _ds(EMBEDDING)
    svcs = [desired_service(ds, r) for r in EMBEDDING]
    healthy = _plan(ds, [_running(ds, r) for r in EMBEDDING], svcs, upstream=False)
    after = _ds(EMBEDDING, status=healthy.status)
    lost = [_running(ds, r) for r in EMBEDDING]
    lost[2]["status"]["readyReplicas"] = 1
    first = _plan(after, lost, svcs, upstream=False)
    cond = first.status["roleStatuses"][2]["conditions"][0]
    assert (first.status["phase"], cond["reason"], cond["message"]) == (
        "Degraded",
        "ReplicasUnavailable",
        "1/3 replicas ready; the role was Ready at this Deployment generation",
    )
    sticky = _plan(_ds(EMBEDDING, status=first.status), lost, svcs, upstream=False)
    assert sticky.status["phase"] == "Degraded"
    rescaled = [_running(ds, r) for r in EMBEDDING]
    rescaled[2]["metadata"]["generation"] = 2  # someone rescaled it: a new generation, not a loss
    rescaled[2]["status"].update(readyReplicas=1, observedGeneration=2)
    assert _plan(after, rescaled, svcs, upstream=False).status["phase"] == "Progressing"
