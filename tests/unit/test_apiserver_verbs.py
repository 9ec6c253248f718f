"""API server verbs: exact resourceVersions, generations, errors and messages."""

from __future__ import annotations

from typing import Any

import pytest

from sim.apiserver import APIServer, WatchEventType
from sim.apiserver.errors import (
    AlreadyExists,
    Conflict,
    Invalid,
    MethodNotAllowed,
    NotFound,
    Unsupported,
)
from sim.clock import Simulation


def deployment(name: str = "web", replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "img"}]},
            },
        },
    }


def ds(name: str = "pipe") -> dict[str, Any]:
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"roles": [{"name": "a"}]},
    }


@pytest.fixture
def api() -> APIServer:
    return APIServer(Simulation(seed=1))


def test_create_sets_server_fields(api: APIServer) -> None:
    d = api.create(deployment(), actor="me")
    meta = d["metadata"]
    assert (meta["resourceVersion"], meta["generation"], meta["creationTimestamp"]) == (
        "1",
        1,
        "2026-01-01T00:00:00Z",
    )
    assert d["status"] == {}
    assert d["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    with pytest.raises(AlreadyExists, match=r'^deployments.apps "web" already exists$'):
        api.create(deployment())


def test_uids_are_deterministic() -> None:
    a = APIServer(Simulation(seed=1)).create(deployment())["metadata"]["uid"]
    b = APIServer(Simulation(seed=99)).create(deployment())["metadata"]["uid"]
    assert a == b
    assert len(a) == 36


def test_get_not_found_message(api: APIServer) -> None:
    with pytest.raises(NotFound, match=r'^deployments.apps "nope" not found$'):
        api.get("Deployment", "ns", "nope")
    with pytest.raises(NotFound, match=r'^pods "p" not found$'):
        api.get("Pod", "ns", "p")


def test_reads_are_copies(api: APIServer) -> None:
    src = deployment()
    api.create(src)
    src["spec"]["replicas"] = 99
    got = api.get("Deployment", "ns", "web")
    got["spec"]["replicas"] = 42
    assert api.get("Deployment", "ns", "web")["spec"]["replicas"] == 1


def test_stale_update_conflicts_with_kubernetes_message(api: APIServer) -> None:
    d = api.create(deployment())
    fresh = api.get("Deployment", "ns", "web")
    fresh["spec"]["replicas"] = 2
    assert api.update(fresh, actor="a")["metadata"]["resourceVersion"] == "2"
    d["spec"]["replicas"] = 3
    with pytest.raises(Conflict) as err:
        api.update(d, actor="b")
    assert str(err.value) == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert [(e.actor, e.result, e.rv_before, e.rv_after) for e in api.audit.entries] == [
        ("client", "ok", None, "1"),
        ("a", "ok", "1", "2"),
        ("b", "Conflict", "2", None),
    ]


def test_crd_conflict_resource_name(api: APIServer) -> None:
    obj = api.create(ds())
    api.update(obj)  # no-op: same object, same rv
    obj["spec"]["roles"] = [{"name": "b"}]
    api.update(obj)
    with pytest.raises(Conflict, match=r'disaggregatedservices\.scaler\.bud\.studio "pipe"'):
        api.update(obj)


def test_crd_update_requires_resource_version(api: APIServer) -> None:
    api.create(ds())
    with pytest.raises(Invalid) as err:
        api.update(ds())
    assert err.value.field_paths == ["metadata.resourceVersion"]


def test_generation_bumps_on_spec_changes_only(api: APIServer) -> None:
    d = api.create(deployment())
    d["metadata"]["labels"]["x"] = "y"
    d = api.update(d)
    assert (d["metadata"]["generation"], d["metadata"]["resourceVersion"]) == (1, "2")
    d["status"] = {"replicas": 5}
    d = api.update_status(d)
    assert (d["metadata"]["generation"], d["status"]) == (1, {"replicas": 5})
    d["spec"]["replicas"] = 4
    d = api.update(d)
    assert d["metadata"]["generation"] == 2
    assert api.update_scale("Deployment", "ns", "web", 6)["spec"] == {"replicas": 6}
    assert api.get("Deployment", "ns", "web")["metadata"]["generation"] == 3


def test_status_spec_split(api: APIServer) -> None:
    d = api.create(deployment())
    d["spec"]["replicas"] = 7
    d["status"] = {"replicas": 9}
    after = api.update(d)
    assert (after["spec"]["replicas"], after["status"]) == (7, {})
    after["spec"]["replicas"] = 1
    after["status"] = {"readyReplicas": 2}
    after = api.update_status(after)
    assert (after["spec"]["replicas"], after["status"]) == (7, {"readyReplicas": 2})
    patched = api.patch("Deployment", "ns", "web", {"spec": {"replicas": 3}, "status": {"x": 1}})
    assert (patched["spec"]["replicas"], patched["status"]) == (3, {"readyReplicas": 2})
    patched = api.patch("Deployment", "ns", "web", {"status": {"readyReplicas": None}}, subresource="status")
    assert patched["status"] == {}
    assert [(e.verb, e.subresource, e.changed_fields) for e in api.audit.entries[1:]] == [
        ("update", None, ("metadata.generation", "spec.replicas")),
        ("update", "status", ("status.readyReplicas",)),
        ("patch", None, ("metadata.generation", "spec.replicas")),
        ("patch", "status", ("status.readyReplicas",)),
    ]


def test_noop_update_keeps_resource_version(api: APIServer) -> None:
    d = api.create(deployment())
    assert api.update(d)["metadata"]["resourceVersion"] == "1"
    assert api.update_status(d)["metadata"]["resourceVersion"] == "1"


def test_patch_resource_version_precondition(api: APIServer) -> None:
    api.create(deployment())
    api.patch("Deployment", "ns", "web", {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}})
    with pytest.raises(Conflict):
        api.patch("Deployment", "ns", "web", {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 3}})


def test_scale_subresource(api: APIServer) -> None:
    api.create(deployment(replicas=2))
    assert api.get_scale("Deployment", "ns", "web") == {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "uid": api.get("Deployment", "ns", "web")["metadata"]["uid"],
            "resourceVersion": "1",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 0, "selector": "app=web"},
    }
    with pytest.raises(Conflict):
        api.update_scale("Deployment", "ns", "web", 3, resource_version="0")
    with pytest.raises(Invalid):
        api.update_scale("Deployment", "ns", "web", -1)
    api.create(ds())
    with pytest.raises(MethodNotAllowed):
        api.get_scale("DisaggregatedService", "ns", "pipe")


def test_list_namespace_selector_sorted(api: APIServer) -> None:
    for name in ("b", "a", "c"):
        api.create(deployment(name))
    other = deployment("a")
    other["metadata"]["namespace"] = "aaa"
    api.create(other)
    assert [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in api.list("Deployment")] == [
        ("aaa", "a"),
        ("ns", "a"),
        ("ns", "b"),
        ("ns", "c"),
    ]
    assert [d["metadata"]["name"] for d in api.list("Deployment", "ns", {"matchLabels": {"app": "b"}})] == [
        "b"
    ]
    sel = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "c"]}]}
    assert [d["metadata"]["name"] for d in api.list("Deployment", "ns", sel)] == ["a", "c"]


def test_unknown_kind_fails_loudly(api: APIServer) -> None:
    with pytest.raises(Unsupported, match="Widget"):
        api.create({"kind": "Widget", "metadata": {"name": "w"}})
    with pytest.raises(TypeError, match=r"spec.replicas"):
        api.create({**deployment(), "spec": {"replicas": {1, 2}}})


def test_generate_name_is_deterministic() -> None:
    names = []
    for _ in range(2):
        api = APIServer(Simulation(seed=3))
        pod = {"kind": "Pod", "metadata": {"generateName": "web-", "namespace": "ns"}, "spec": {}}
        names.append([api.create(pod)["metadata"]["name"] for _ in range(3)])
    assert names[0] == names[1]
    assert all(n.startswith("web-") and len(n) == 9 for n in names[0])


def test_admission_rejects_with_field_paths() -> None:
    class Issue:
        def __init__(self, path: str, message: str, severity: str) -> None:
            self.path, self.message, self.severity = path, message, severity

    def admit(obj: dict[str, Any]) -> list[Issue]:
        out = [Issue("metadata.name", "just a warning", "warning")]
        if obj["spec"].get("replicas", 0) < 0:
            out.append(Issue("spec.replicas", "must be >= 0", "error"))
        return out

    api = APIServer(Simulation(seed=1), admission=admit)
    api.create(deployment())
    with pytest.raises(Invalid) as err:
        api.create(deployment("bad", replicas=-1))
    assert err.value.field_paths == ["spec.replicas"]
    assert str(err.value) == 'Deployment.apps "bad" is invalid: spec.replicas: must be >= 0'


def test_watch_latency_and_order() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, watch_latency=0.5, watch_jitter=0.2)
    seen: list[tuple[str, str, str]] = []
    api.watch(
        "Deployment",
        lambda e: seen.append((e.type.value, e.obj["metadata"]["resourceVersion"], f"{sim.now:.3f}")),
    )
    d = api.create(deployment())
    d["spec"]["replicas"] = 2
    api.update(d)
    api.delete("Deployment", "ns", "web")
    sim.run(until=2)
    assert [s[:2] for s in seen] == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "3")]
    times = [float(s[2]) for s in seen]
    assert times == sorted(times)
    assert all(0.5 <= t <= 0.7 for t in times)
    assert WatchEventType.ADDED == "ADDED"
