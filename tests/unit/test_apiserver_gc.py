"""Garbage collection through ownerReferences: background, orphan, dangling owners, finalizers."""

from __future__ import annotations

from typing import Any

from sim.apiserver import APIServer
from sim.clock import Simulation


def cm(
    name: str, owners: list[dict[str, Any]] | None = None, finalizers: list[str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if owners:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": o["metadata"]["name"],
                "uid": o["metadata"]["uid"],
            }
            for o in owners
        ]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {}}


def names(api: APIServer) -> list[str]:
    return [o["metadata"]["name"] for o in api.list("ConfigMap")]


def test_background_cascade_after_gc_delay() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, gc_delay=3.0)
    a = api.create(cm("a"))
    b = api.create(cm("b", [a]))
    api.create(cm("c", [b]))
    api.delete("ConfigMap", "ns", "a")
    sim.run(until=2.9)
    assert names(api) == ["b", "c"]
    sim.run(until=3.1)
    assert names(api) == ["c"]
    sim.run(until=6.1)
    assert names(api) == []
    assert [(t, action, name) for t, action, _, _, name in api.gc.log] == [
        (3.0, "delete", "b"),
        (6.0, "delete", "c"),
    ]


def test_dependent_with_another_live_owner_only_loses_the_reference() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    a = api.create(cm("a"))
    b = api.create(cm("b"))
    api.create(cm("c", [a, b]))
    api.delete("ConfigMap", "ns", "a")
    sim.run(until=1)
    c = api.get("ConfigMap", "ns", "c")
    assert [r["name"] for r in c["metadata"]["ownerReferences"]] == ["b"]


def test_orphan_propagation_keeps_dependents() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    a = api.create(cm("a"))
    api.create(cm("b", [a]))
    api.delete("ConfigMap", "ns", "a", propagation_policy="Orphan")
    sim.run(until=1)
    assert names(api) == ["b"]
    assert "ownerReferences" not in api.get("ConfigMap", "ns", "b")["metadata"]


def test_created_with_missing_owner_is_collected() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, gc_delay=1.0)
    a = api.create(cm("a"))
    api.delete("ConfigMap", "ns", "a")
    api.create(cm("late", [a]))  # e.g. a controller acting on a stale cache
    sim.run(until=2)
    assert names(api) == []


def test_dependent_with_finalizer_stays_terminating() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    a = api.create(cm("a"))
    api.create(cm("b", [a], finalizers=["x.io/keep"]))
    api.delete("ConfigMap", "ns", "a")
    sim.run(until=1)
    b = api.get("ConfigMap", "ns", "b")
    assert b["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:00Z"
