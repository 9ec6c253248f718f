"""Regression (issue 21, `make deep`): the DELETE that sets deletionTimestamp on an object with
finalizers is a write. It must bump resourceVersion, and generation too, as a real API server does
(k8s.io/apiserver pkg/registry/generic/registry/store.go markAsDeleting; pkg/registry/rest/delete.go
BeforeDelete). The state machine found it with: create b, create a owned by b, delete b, add a
finalizer to a, (the garbage collector deletes a), delete a -> `AssertionError: ('5', 5)`."""

from __future__ import annotations

from typing import Any

from sim.apiserver import APIServer
from sim.clock import Simulation


def _svc(name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
            }
        ]
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"x": 0}}


def test_delete_with_finalizer_bumps_resource_version_and_generation() -> None:
    api = APIServer(Simulation(seed=0))
    api.create({**_svc("a"), "metadata": {"name": "a", "namespace": "ns", "finalizers": ["x.io/a"]}})
    before = api.get("Service", "ns", "a")["metadata"]
    api.delete("Service", "ns", "a")
    after = api.get("Service", "ns", "a")["metadata"]
    assert after["deletionTimestamp"] is not None
    assert int(after["resourceVersion"]) > int(before["resourceVersion"])
    assert after["generation"] == before["generation"] + 1
    # a second DELETE while terminating changes nothing (etcd short-circuits the identical object)
    api.delete("Service", "ns", "a")
    again = api.get("Service", "ns", "a")["metadata"]
    assert again["resourceVersion"] == after["resourceVersion"]
    assert again["generation"] == after["generation"]


def test_garbage_collected_dependent_with_finalizer_gets_new_resource_version() -> None:
    sim = Simulation(seed=0)
    api = APIServer(sim, gc_delay=2.0)
    b = api.create(_svc("b"))
    api.create(_svc("a", owner=b))
    api.delete("Service", "ns", "b")
    a = api.get("Service", "ns", "a")
    a["metadata"]["finalizers"] = ["x.io/a"]
    a = api.update(a)
    sim.run(until=5.0)
    marked = api.get("Service", "ns", "a")["metadata"]
    assert marked["deletionTimestamp"] is not None
    assert int(marked["resourceVersion"]) > int(a["metadata"]["resourceVersion"])
    assert marked["generation"] == a["metadata"]["generation"] + 1


def test_apiserver_machine_minimal_sequence_from_make_deep() -> None:
    from tests.stateful.test_apiserver_machine import APIServerMachine

    machine = APIServerMachine()
    machine.create(name="b", x=0, owner=None)
    machine.create(name="a", x=0, owner="b")
    machine.delete(name="b")
    machine.add_finalizer(name="a", fin="x.io/a")
    machine.advance_time(dt=5.0)
    machine.delete(name="a")
    machine.list_equals_model()
    machine.resource_versions_strictly_increase()
    machine.teardown()
