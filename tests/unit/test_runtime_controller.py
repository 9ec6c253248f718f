"""Controller runtime: work queue semantics, informer lag, For/Owns mapping, predicates, requeues."""

from __future__ import annotations

from typing import Any

from sim.apiserver import APIServer, FaultWindow
from sim.apiserver.errors import Conflict
from sim.clock import Simulation
from sim.runtime import Controller, GenerationChanged, InformerFactory, Request, Result, WorkQueue
from sim.runtime.workqueue import ItemExponentialFailureRateLimiter


def deployment(name: str, replicas: int = 1, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "scaler.bud.studio/v1alpha1",
                "kind": "DisaggregatedService",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "kind": "Deployment",
        "metadata": meta,
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": {}},
    }


def test_rate_limiter_doubles_from_5ms_to_1000s() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    delays = [rl.when("x") for _ in range(20)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[17] == 655.36
    assert delays[18:] == [1000.0, 1000.0]
    assert rl.num_requeues("x") == 20
    rl.forget("x")
    assert rl.when("x") == 0.005


def test_workqueue_dedups_and_requeues_dirty_items() -> None:
    sim = Simulation(seed=1)
    q: WorkQueue[str] = WorkQueue(sim.env)
    got: list[tuple[str, float]] = []

    def worker() -> Any:
        while True:
            item = yield q.get()
            got.append((item, sim.now))
            if item == "a" and sim.now == 0:
                q.add("a")  # added while processing: queued again after done
            yield sim.env.timeout(1)
            q.done(item)

    q.add("a")
    q.add("a")
    q.add("b")
    q.add_after("c", 5)
    q.add_after("c", 3)  # earlier due time wins
    sim.env.process(worker())
    sim.run(until=10)
    assert got == [("a", 0.0), ("b", 1.0), ("a", 2.0), ("c", 3.0)]


class RecordingReconciler:
    name = "ds-controller"

    def __init__(self, api: APIServer, fail_first: int = 0) -> None:
        self.api = api
        self.seen: list[tuple[float, str]] = []
        self.fail_first = fail_first

    def reconcile(self, req: Request, now: float) -> Result:
        self.seen.append((now, req.name))
        if self.fail_first > 0:
            self.fail_first -= 1
            raise Conflict("boom")
        return Result()


def ds(name: str) -> dict[str, Any]:
    return {
        "kind": "DisaggregatedService",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"roles": []},
    }


def test_for_owns_mapping_and_generation_predicate() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, watch_latency=0.1)
    informers = InformerFactory(sim, api)
    rec = RecordingReconciler(api)
    Controller(
        sim,
        rec,
        informers,
        for_kind="DisaggregatedService",
        owns=("Deployment",),
        for_predicates=(GenerationChanged,),
    ).start()
    owner = api.create(ds("pipe"))
    api.create(deployment("pipe-a", owner=owner))
    sim.run(until=1)
    # the ADDED of the DS and the ADDED of its Deployment arrive together: one reconcile (dedup)
    assert rec.seen == [(0.1, "pipe")]

    def later() -> Any:
        yield sim.env.timeout(1)
        cur = api.get("DisaggregatedService", "ns", "pipe")
        cur["status"] = {"phase": "x"}
        api.update_status(cur)  # status only: generation unchanged -> filtered
        yield sim.env.timeout(1)
        d = api.get("Deployment", "ns", "pipe-a")
        d["spec"]["replicas"] = 2
        api.update(d)  # owned object changed -> owner reconciled
        yield sim.env.timeout(1)
        cur = api.get("DisaggregatedService", "ns", "pipe")
        cur["spec"]["roles"] = [{"name": "r"}]
        api.update(cur)

    sim.env.process(later())
    sim.run(until=5)
    assert rec.seen == [(0.1, "pipe"), (3.1, "pipe"), (4.1, "pipe")]


def test_api_error_gives_rate_limited_requeue_and_log() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)
    rec = RecordingReconciler(api, fail_first=3)
    ctl = Controller(sim, rec, informers, for_kind="DisaggregatedService").start()
    api.create(ds("pipe"))
    sim.run(until=1)
    assert [round(t, 6) for t, _ in rec.seen] == [0.0, 0.005, 0.015, 0.035]
    assert [r.outcome.value for r in ctl.log] == ["error", "error", "error", "success"]


def test_requeue_after_and_reconcile_cost() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)

    class Periodic:
        name = "periodic"

        def __init__(self) -> None:
            self.seen: list[float] = []

        def reconcile(self, req: Request, now: float) -> Result:
            self.seen.append(now)
            return Result(requeue_after=10.0)

    rec = Periodic()
    Controller(sim, rec, informers, for_kind="DisaggregatedService", reconcile_cost=0.5).start()
    api.create(ds("a"))
    sim.run(until=25)
    assert rec.seen == [0.0, 10.0, 20.0]


def test_informer_cache_lags_and_stale_update_conflicts() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim, watch_latency=1.0)
    informers = InformerFactory(sim, api)
    cache = informers.informer("Deployment")
    api.create(deployment("web"))
    assert cache.get("ns", "web") is None
    sim.run(until=1.5)
    cached = cache.get("ns", "web")
    assert cached is not None and cached["metadata"]["resourceVersion"] == "1"
    fresh = api.get("Deployment", "ns", "web")
    fresh["spec"]["replicas"] = 5
    api.update(fresh)
    cached["spec"]["replicas"] = 3
    try:
        api.update(cached)
        raise AssertionError("expected Conflict")
    except Conflict:
        pass


def test_watch_disconnect_relists() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)
    cache = informers.informer("Deployment")
    events: list[tuple[float, str, str]] = []
    cache.add_handler(lambda e: events.append((sim.now, e.type.value, e.obj["metadata"]["name"])))
    api.faults.add(FaultWindow(start=1.0, end=3.0, kind="watch_disconnect"))

    def writer() -> Any:
        yield sim.env.timeout(0.5)
        api.create(deployment("a"))
        yield sim.env.timeout(1.0)
        api.create(deployment("b"))  # written while disconnected: missed by the watch
        api.delete("Deployment", "ns", "a")

    sim.env.process(writer())
    sim.run(until=2.9)
    assert [n for n in (o["metadata"]["name"] for o in cache.peek_list())] == ["a"]
    sim.run(until=5)
    assert events == [(0.5, "ADDED", "a"), (3.0, "DELETED", "a"), (3.0, "ADDED", "b")]
    assert cache.relists == 1
