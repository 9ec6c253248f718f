"""Each named invariant on hand-built observations (exact violations) and through the SimCluster
harness on the four upstream defects (found under `upstream`, absent under `corrected`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model.quirks import QuirkSet
from sim.apiserver.audit import AuditEntry
from sim.invariants import (
    INVARIANTS,
    Disturbance,
    Observation,
    Snapshot,
    Violation,
    check,
    convergence,
    dependency_ordering,
    fights,
    no_orphans,
    replica_bounds_report,
    request_conservation,
)
from sim.testing.cluster import SimCluster

ROOT = Path(__file__).resolve().parents[2]
DS_YAML = (ROOT / "scenarios/manifests/embedding-pipeline.yaml").read_text(encoding="utf-8").split("---")[0]


def entry(t: float, actor: str, verb: str, kind: str, name: str, fields: tuple[str, ...] = ()) -> AuditEntry:
    return AuditEntry(t, actor, verb, kind, "ns", name, "1", "2", fields)


def deployment(name: str, replicas: int, ready: int, uid: str = "u1", gen: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": uid, "generation": gen},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": ready, "replicas": ready, "observedGeneration": gen},
    }


def ds(roles: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "ds1"}, "spec": {"roles": roles}}


def test_registry_names() -> None:
    assert list(INVARIANTS) == [
        "request_conservation",
        "dependency_ordering",
        "dependents_start",
        "conflict_rules",
        "no_orphans",
        "replica_bounds",
        "no_fights",
        "convergence",
        "panic_threshold",
        "wakes_from_zero",
        "load_served",
    ]


def test_request_conservation_counts() -> None:
    ok = Observation(
        now=5.0,
        quirks=QuirkSet.corrected(),
        requests={"arrived": 10, "completed": 7, "dropped": 1, "in_flight": 2},
    )
    assert request_conservation(ok) == []
    bad = Observation(
        now=5.0,
        quirks=QuirkSet.corrected(),
        requests={"arrived": 10, "completed": 7, "dropped": 1, "in_flight": 1},
    )
    assert request_conservation(bad) == [
        Violation(
            "request_conservation", 5.0, "arrived 10 != completed 7 + dropped 1 + timed out 0 + in flight 1"
        )
    ]
    timed_out = Observation(
        now=5.0,
        quirks=QuirkSet.corrected(),
        requests={"arrived": 10, "completed": 7, "dropped": 1, "timed_out": 1, "in_flight": 1},
    )
    assert request_conservation(timed_out) == []


def _ordering_obs(dep_ready_first: bool, quirks: QuirkSet) -> Observation:
    roles = [{"name": "a", "replicas": 0}, {"name": "b", "dependsOn": ["a"]}]
    audit = [
        entry(0.0, "dsim-user", "create", "DisaggregatedService", "p"),
        entry(1.0, "disaggregatedservice-controller", "create", "Deployment", "p-a"),
        entry(2.0, "deployment-controller", "update", "Deployment", "p-a", ("status",)),
        entry(3.0, "disaggregatedservice-controller", "create", "Deployment", "p-b"),
    ]
    a_status = deployment("p-a", 0, 0) if dep_ready_first else {**deployment("p-a", 0, 0), "status": {}}
    history = [
        Snapshot(0, 0.0, "DisaggregatedService", "ns", "p", ds(roles)),
        Snapshot(1, 1.0, "Deployment", "ns", "p-a", {**deployment("p-a", 0, 0), "status": {}}),
        Snapshot(2, 2.0, "Deployment", "ns", "p-a", a_status),
        Snapshot(3, 3.0, "Deployment", "ns", "p-b", deployment("p-b", 1, 0, uid="u2")),
    ]
    return Observation(now=3.0, quirks=quirks, audit=audit, history=history)


def test_dependency_ordering_uses_the_corrected_rule() -> None:
    assert dependency_ordering(_ordering_obs(True, QuirkSet.corrected())) == []
    assert dependency_ordering(_ordering_obs(False, QuirkSet.corrected())) == [
        Violation(
            "dependency_ordering",
            3.0,
            "p role b (Deployment p-b) created at 3s before its dependency a was Ready",
        )
    ]
    # upstream readiness is another rule: the invariant is not judged there
    assert dependency_ordering(_ordering_obs(False, QuirkSet.upstream())) == []


def test_no_orphans_after_gc_delay() -> None:
    owner = deployment("p-a", 1, 1, uid="owner")
    child = {
        "metadata": {
            "name": "p-a-x",
            "namespace": "ns",
            "uid": "c",
            "ownerReferences": [{"kind": "Deployment", "name": "p-a", "uid": "owner"}],
        }
    }
    history = [
        Snapshot(0, 0.0, "Deployment", "ns", "p-a", owner),
        Snapshot(1, 10.0, "Deployment", "ns", "p-a", None),
    ]
    obs = Observation(
        now=10.5, quirks=QuirkSet.corrected(), history=history, objects={"Pod": [child]}, gc_delay=0.0
    )
    assert no_orphans(obs) == []
    obs.now = 12.0
    obs.disturbances = [Disturbance(10.0, 10.0, "dsim-user delete Deployment/p-a")]  # the delete itself
    assert no_orphans(obs) == [
        Violation(
            "no_orphans",
            11.0,
            "Pod ns/p-a-x survives its owner(s) Deployment/p-a removed at 10s (gc delay 0s)",
        )
    ]


def test_fights_need_two_control_loops_alternating() -> None:
    f = ("spec.replicas",)
    audit = [
        entry(1.0, "a", "update", "Deployment", "d", f),
        entry(2.0, "b", "update", "Deployment", "d", f),
        entry(3.0, "a", "update", "Deployment", "d", f),
        entry(4.0, "dsim-user", "update", "Deployment", "d", f),
        entry(5.0, "b", "update", "Deployment", "d", f),
    ]
    obs = Observation(now=5.0, quirks=QuirkSet.corrected(), audit=audit)
    assert fights(obs) == [
        Violation(
            "no_fights", 5.0, "Deployment ns/d spec.replicas: writes alternate a@1s -> b@2s -> a@3s -> b@5s"
        )
    ]
    assert fights(Observation(now=5.0, quirks=QuirkSet.corrected(), audit=audit[:3])) == []


def _decision(t: float, desired: int, quirks: list[str]) -> dict[str, Any]:
    return {
        "t": t,
        "actor": "budaiscaler-controller",
        "event": "decision",
        "scaler": "ns/s",
        "target": "DisaggregatedService/ns/p/a",
        "current": 2,
        "desired": desired,
        "write": "ok",
        "details": {"quirksTriggered": quirks},
    }


def test_replica_bounds_excuses_only_documented_quirks() -> None:
    scaler = {"metadata": {"name": "s", "namespace": "ns"}, "spec": {"minReplicas": 0, "maxReplicas": 3}}
    history = [Snapshot(0, 0.0, "BudAIScaler", "ns", "s", scaler)]
    events = [_decision(1.0, 2, []), _decision(2.0, 5, ["scale_down_floor_one"]), _decision(3.0, 4, [])]
    obs = Observation(now=4.0, quirks=QuirkSet.upstream(), history=history, events=events)
    violations, excused = replica_bounds_report(obs)
    assert [(v.time, v.detail) for v in violations] == [
        (3.0, "ns/s wrote 4 replicas to DisaggregatedService/ns/p/a, outside [0, 3]")
    ]
    assert [(e.time, e.quirks) for e in excused] == [(2.0, ("scale_down_floor_one",))]
    obs.quirks = QuirkSet.corrected()  # a quirk that is off excuses nothing
    assert len(replica_bounds_report(obs)[0]) == 2


def test_convergence_waits_for_quiet_then_checks_status_against_spec() -> None:
    d = ds([{"name": "a", "replicas": 2}])
    dep = deployment("p-a", 3, 3)
    obs = Observation(
        now=300.0,
        quirks=QuirkSet.corrected(),
        objects={"DisaggregatedService": [d], "Deployment": [dep]},
        disturbances=[Disturbance(0.0, 250.0, "fault conflict")],
    )
    assert convergence(obs) == []  # only 50 s of quiet
    obs.now = 400.0
    assert convergence(obs) == [
        Violation("convergence", 400.0, "p role a asks for 2 replicas, Deployment has 3")
    ]


def _run(profile: str, manifests: list[Any], rate: float, seconds: float = 240.0) -> list[str]:
    c = SimCluster(seed=1, profile=profile)
    for m in manifests:
        c.apply(m)
    c.load("embedding-pipeline", rate)
    c.advance(seconds)
    return sorted({v.name for v in c.violations()})


def _scaler(
    name: str, kind: str, target: str, role: str | None, lo: int, hi: int, **kw: str
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {
            "apiVersion": "apps/v1" if kind == "Deployment" else "scaler.bud.studio/v1alpha1",
            "kind": kind,
            "name": target,
        },
        "minReplicas": lo,
        "maxReplicas": hi,
        "scalingStrategy": kw.get("strategy", "BudScaler"),
        "metricsSources": [
            {
                "metricSourceType": "pod",
                "targetMetric": kw.get("metric", "num_requests_waiting"),
                "targetValue": kw.get("target_value", "10"),
            }
        ],
    }
    if role:
        spec["subTargetSelector"] = {"roleName": role}
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": name},
        "spec": spec,
    }


@pytest.mark.parametrize("profile", ["upstream", "corrected"])
def test_four_upstream_defects_through_the_harness(profile: str) -> None:
    s2z = (ROOT / "scenarios/manifests/scale-to-zero.yaml").read_text(encoding="utf-8")
    cross = [
        DS_YAML,
        _scaler("a-role", "DisaggregatedService", "embedding-pipeline", "inference", 1, 10),
        _scaler("b-dep", "Deployment", "embedding-pipeline-inference", None, 4, 4),
    ]
    panic = [
        DS_YAML,
        _scaler(
            "kpa",
            "DisaggregatedService",
            "embedding-pipeline",
            "inference",
            1,
            10,
            strategy="KPA",
            metric="requests_per_second",
            target_value="4",
        ),
    ]
    found = {
        "zero": _run(profile, [s2z], 10.0),
        "cross": _run(profile, cross, 5.0),
        "panic": _run(profile, panic, 5.0),
    }
    if profile == "upstream":
        assert found == {
            "zero": ["dependents_start", "wakes_from_zero"],
            "cross": ["no_fights"],
            "panic": ["panic_threshold"],
        }
    else:
        assert found == {"zero": [], "cross": [], "panic": []}


def test_check_runs_named_subset() -> None:
    obs = Observation(
        now=1.0,
        quirks=QuirkSet.corrected(),
        requests={"arrived": 1, "completed": 0, "dropped": 0, "in_flight": 0},
    )
    assert [v.name for v in check(obs)] == ["request_conservation"]
    assert check(obs, ["no_orphans"]) == []


@pytest.mark.parametrize(
    ("profile", "after_edit", "later"), [("corrected", [], []), ("upstream", [], ["wakes_from_zero"])]
)
def test_wakes_from_zero_clock_restarts_when_the_scaler_is_edited(
    profile: str, after_edit: list[str], later: list[str]
) -> None:
    from sim.testing.strategies import budaiscaler, disaggregated_service

    def scaler(role: str) -> dict[str, Any]:
        return budaiscaler(
            "scaler-a",
            target_kind="DisaggregatedService",
            target_name="pipe",
            role=role,
            min_replicas=0,
            max_replicas=1,
            metric="requests_per_second",
            target_value="2",
        )

    c = SimCluster(seed=0, profile=profile, nodes=3)
    c.apply(scaler("tokenizer"))  # a role the service does not have: the scaler fails, in backoff
    c.apply(disaggregated_service("pipe", [{"name": "router", "roleType": "Router", "replicas": 0}]))
    c.advance(10)
    c.load("pipe", 2.0)
    c.advance(150)
    c.apply(scaler("router"))  # requests have waited 150 s, but this scaler has just been aimed here
    assert [v.name for v in c.violations()] == after_edit
    c.advance(90)
    assert [v.name for v in c.violations()] == later


def test_two_role_scalers_of_one_service_do_not_fight() -> None:
    """DisaggregatedService writes change `spec.roles` as a whole list: no_fights compares roles."""
    from sim.testing.strategies import budaiscaler, disaggregated_service

    c = SimCluster(seed=0, profile="corrected", nodes=3)
    c.apply(
        disaggregated_service(
            "pipe", [{"name": n, "roleType": "Router", "replicas": 0} for n in ("router", "tokenizer")]
        )
    )
    c.load("pipe", 10.0)
    for name, role in (("scaler-a", "router"), ("scaler-b", "tokenizer")):
        c.apply(
            budaiscaler(
                name,
                target_kind="DisaggregatedService",
                target_name="pipe",
                role=role,
                min_replicas=0,
                max_replicas=2,
                metric="requests_per_second",
                target_value="2",
            )
        )
        c.advance(15)
    wrote = {str(e["scaler"]) for e in c.events if e.get("event") == "decision" and e.get("write") == "ok"}
    assert wrote == {"default/scaler-a", "default/scaler-b"}  # both scaled the same DisaggregatedService
    assert c.violations(["no_fights"]) == []
