"""Foreground deletion: the foregroundDeletion finalizer holds the owner until every dependent that
blocks it (blockOwnerDeletion) is gone; non-blocking dependents are deleted but not waited for."""

from __future__ import annotations

from typing import Any

from sim.apiserver import APIServer
from sim.clock import Simulation


def cm(
    name: str, owner: dict[str, Any] | None = None, block: bool = True, finalizers: list[str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "blockOwnerDeletion": block,
            }
        ]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {}}


def names(api: APIServer) -> list[str]:
    return [o["metadata"]["name"] for o in api.list("ConfigMap")]


def test_owner_waits_for_blocking_dependents_then_goes() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, gc_delay=1.0)
    a = api.create(cm("a"))
    api.create(cm("b", a, block=True, finalizers=["example.com/hold"]))
    api.create(cm("c", a, block=False))
    api.delete("ConfigMap", "ns", "a", propagation_policy="Foreground")
    owner = api.peek("ConfigMap", "ns", "a")
    assert owner is not None
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert owner["metadata"]["deletionTimestamp"] is not None
    assert owner["metadata"]["generation"] == a["metadata"]["generation"] + 1
    sim.run(until=5)
    # c is gone (not blocking); b is terminating behind its own finalizer, so a still waits
    assert names(api) == ["a", "b"]
    b = api.get("ConfigMap", "ns", "b")
    api.update({**b, "metadata": {**b["metadata"], "finalizers": []}})
    sim.run(until=7)
    assert names(api) == []
    assert [action for _, action, *_ in api.gc.log] == [
        "delete-foreground-dependent",
        "delete-foreground-dependent",
        "foreground-done",
    ]


def test_foreground_without_dependents_finishes_after_the_gc_delay() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, gc_delay=2.0)
    api.create(cm("solo"))
    api.delete("ConfigMap", "ns", "solo", propagation_policy="Foreground")
    assert names(api) == ["solo"]
    sim.run(until=2.5)
    assert names(api) == []
    assert not api.gc.waiting
