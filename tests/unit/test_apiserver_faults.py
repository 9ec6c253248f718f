"""Fault injection windows: conflicts, errors, timeouts, latency and watch disconnects."""

from __future__ import annotations

from typing import Any

import pytest

from sim.apiserver import APIServer, FaultWindow
from sim.apiserver.errors import Conflict, InternalError, ServerTimeout, StatusReason, TooManyRequests
from sim.clock import Simulation
from sim.cluster import start_cluster
from sim.runtime import InformerFactory


def svc(name: str) -> dict[str, Any]:
    return {"kind": "Service", "metadata": {"name": name, "namespace": "ns"}, "spec": {"x": 1}}


def at(sim: Simulation, t: float) -> None:
    sim.run(until=t)


def test_conflict_window_only_inside_window_and_matching_kind() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    api.faults.add(FaultWindow(start=10, end=20, kind="conflict", kinds=("Service",)))
    s = api.create(svc("a"))
    s = api.update(s)  # t=0: outside the window
    at(sim, 10)
    with pytest.raises(Conflict):
        api.update(s)
    api.patch("Service", "ns", "a", {"spec": {"x": 2}})  # no resourceVersion precondition: no conflict
    at(sim, 20)
    api.update(api.get("Service", "ns", "a"))
    assert [(t, f, v) for t, f, v, _, _ in api.faults.injected] == [(10, "conflict", "update")]


def test_error_timeout_and_throttle_faults() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    api.create(svc("a"))
    api.faults.add(FaultWindow(start=1, end=2, kind="error", verbs=("get",)))
    api.faults.add(FaultWindow(start=2, end=3, kind="timeout", verbs=("list",)))
    api.faults.add(FaultWindow(start=3, end=4, kind="error", reason=StatusReason.TOO_MANY_REQUESTS))
    at(sim, 1)
    with pytest.raises(InternalError):
        api.get("Service", "ns", "a")
    api.list("Service")
    at(sim, 2)
    with pytest.raises(ServerTimeout):
        api.list("Service")
    at(sim, 3)
    with pytest.raises(TooManyRequests):
        api.create(svc("b"))
    assert api.audit.entries[-1].result == "TooManyRequests"


def test_probability_draws_are_seeded() -> None:
    def outcomes(seed: int) -> list[bool]:
        sim = Simulation(seed=seed)
        api = APIServer(sim)
        api.faults.add(FaultWindow(start=0, end=10, kind="error", probability=0.5, verbs=("get",)))
        api.create(svc("a"))
        out = []
        for _ in range(20):
            try:
                api.get("Service", "ns", "a")
                out.append(True)
            except InternalError:
                out.append(False)
        return out

    assert outcomes(5) == outcomes(5)
    assert outcomes(5) != outcomes(6)
    assert 3 < sum(outcomes(5)) < 17


def test_latency_window_delays_watch_delivery_and_controller() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, watch_latency=0.1)
    seen: list[float] = []
    api.watch("Service", lambda e: seen.append(round(sim.now, 6)))
    api.faults.add(FaultWindow(start=5, end=10, kind="latency", latency=2.0))
    api.create(svc("a"))
    at(sim, 5)
    api.create(svc("b"))
    at(sim, 20)
    assert seen == [0.1, 7.1]
    assert api.take_latency("client") == 2.0  # the create inside the window


def test_injected_conflicts_only_slow_the_deployment_controller_down() -> None:
    sim = Simulation(seed=9)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)
    cluster = start_cluster(sim, api, informers)
    api.faults.add(FaultWindow(start=0, end=30, kind="conflict", probability=0.7))
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        }
    )
    sim.run(until=100)
    errors = [r for r in cluster.deployment_controller.log if r.outcome.value == "error"]
    assert errors and all("Conflict" in (r.error or "") for r in errors)
    st = api.get("Deployment", "ns", "web")["status"]
    assert (st["replicas"], st["readyReplicas"]) == (3, 3)
    assert len(api.list("Pod")) == 3


def test_timeout_on_a_write_may_have_applied_it() -> None:
    """A timed-out write is applied with `applied_probability` (stream fault-timeout-applied); the
    client sees ServerTimeout either way, as when kube-apiserver times out while etcd commits."""

    def run(p: float, n: int = 40) -> list[bool]:
        sim = Simulation(seed=7)
        api = APIServer(sim)
        api.faults.add(FaultWindow(start=0, end=10, kind="timeout", verbs=("create",), applied_probability=p))
        out = []
        for i in range(n):
            with pytest.raises(ServerTimeout):
                api.create(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": f"c{i}", "namespace": "ns"},
                    }
                )
            out.append(api.peek("ConfigMap", "ns", f"c{i}") is not None)
        return out

    assert run(0.0) == [False] * 40
    assert run(1.0) == [True] * 40
    half = run(0.5)
    assert 5 < sum(half) < 35 and half == run(0.5)  # seeded: the same writes land every time
