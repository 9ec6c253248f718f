"""Routing modes as truth tables: which Ready pod a role picks, and when a request waits at the entrance."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sim.clock import Simulation
from sim.load import Balancing, LoadSystem, PipelineSpec, Request, StaticEndpoints
from sim.load.pipeline import RoleStep
from sim.load.service_models import ModelKind


@dataclass
class FakePod:
    name: str
    out: int
    kv: float
    slot: bool
    got: list[int] = field(default_factory=list)

    def outstanding(self) -> int:
        return self.out

    def load(self) -> int:
        return self.out

    def kv_usage(self, now: float) -> float:
        return self.kv

    def has_slot(self, req: Request) -> bool:
        return self.slot

    def submit(self, req: Request, now: float) -> None:
        self.got.append(req.id)


def route(mode: str, pods: list[tuple[int, float, bool]], buffered: int = 0) -> str:
    """Where one arriving request goes: the pod's index, or 'wait' (entrance buffer)."""
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.DECODE),))
    ls = LoadSystem(sim, spec, [], StaticEndpoints({}), balancing=mode, sample_interval=None)
    stage = ls.roles["r"]
    fakes = [FakePod(f"p{i}", o, kv, s) for i, (o, kv, s) in enumerate(pods)]
    stage.ready = fakes  # type: ignore[assignment]
    for i in range(buffered):
        stage.buffer.append(Request(100 + i, 0.0, 1, 1))
    stage.enter(Request(0, 0.0, 1, 1), 0.0)
    hit = [str(i) for i, f in enumerate(fakes) if 0 in f.got]
    return hit[0] if hit else "wait"


# pods: (outstanding, kv usage, has a free slot)
BUSY = [(3, 0.9, False), (1, 0.5, False), (2, 0.1, False)]
MIXED = [(3, 0.9, False), (2, 0.5, True), (1, 0.7, True)]
TIES = [(1, 0.5, True), (1, 0.5, True)]


@pytest.mark.parametrize(
    ("mode", "pods", "buffered", "expected"),
    [
        ("round-robin", BUSY, 0, "0"),  # first in turn, whatever the load
        ("least-loaded", BUSY, 0, "1"),
        ("least-outstanding", BUSY, 0, "1"),  # no backlog: to the least outstanding even without a slot
        ("least-outstanding", MIXED, 0, "2"),
        ("least-outstanding", MIXED, 2, "wait"),  # a backlog at the entrance: join it (FIFO)
        ("kv-aware", BUSY, 0, "2"),  # lowest KV usage
        ("kv-aware", MIXED, 0, "1"),
        ("kv-aware", TIES, 0, "0"),  # ties: fewest outstanding, then the first name
        ("router-queue", BUSY, 0, "wait"),  # no free slot anywhere: wait at the router
        ("router-queue", MIXED, 0, "2"),  # free slots: the least outstanding of them
        ("router-queue", MIXED, 1, "wait"),  # never overtakes the queue
        ("router-queue", TIES, 0, "0"),
        ("round-robin", MIXED, 2, "0"),  # round-robin never holds a backlog back
    ],
)
def test_routing_truth_table(
    mode: str, pods: list[tuple[int, float, bool]], buffered: int, expected: str
) -> None:
    assert route(mode, pods, buffered) == expected


def test_scenario_spellings() -> None:
    assert Balancing("least-outstanding") is Balancing.LEAST_OUTSTANDING
    assert Balancing("kv-aware") is Balancing.KV_AWARE
    assert Balancing("router-queue") is Balancing.ROUTER_QUEUE
    assert Balancing("routerQueue") is Balancing.ROUTER_QUEUE


def test_per_role_routing_and_unknown_role() -> None:
    from sim.load import PipelineError

    sim = Simulation(0)
    spec = PipelineSpec(
        "t", "default", (RoleStep("a", "X", ModelKind.FIXED), RoleStep("b", "X", ModelKind.DECODE))
    )
    ls = LoadSystem(sim, spec, [], StaticEndpoints({}), balancing={"b": "kv-aware"})
    assert ls.roles["a"].balancing is Balancing.ROUND_ROBIN
    assert ls.roles["b"].balancing is Balancing.KV_AWARE
    with pytest.raises(PipelineError, match=r"routing\.c"):
        LoadSystem(sim, spec, [], StaticEndpoints({}), balancing={"c": "kv-aware"})


def test_router_queue_keeps_pod_queues_empty() -> None:
    """Under overload, router-queue holds the excess at the entrance: no pod ever queues."""
    from sim.load import Arrival, Sample

    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.FIXED),))
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(i * 0.1, 1, 1) for i in range(300)],
        StaticEndpoints.replicas({"r": 3}),
        {"r": {"overheadS": 1.0, "concurrency": 2}},
        balancing="router-queue",
        buffer=10_000,
        buffer_timeout=10_000.0,
        on_sample=samples.append,
    )
    ls.start()
    pod_queue = 0
    while sim.now < 60:
        sim.run(until=sim.now + 0.5)
        pod_queue = max(pod_queue, sum(s.waiting for s in ls.roles["r"].servers.values()))
    assert pod_queue == 0
    assert max(s.roles[0].waiting for s in samples) > 100  # the backlog waited at the router
    assert ls.stats().completed == 300


def test_router_queue_never_blocks_behind_a_request_no_pod_can_hold() -> None:
    from sim.load import Arrival

    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("d", "X", ModelKind.DECODE),))
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(0.0, 5000, 10), Arrival(0.0, 100, 10)],
        StaticEndpoints.replicas({"d": 1}),
        {"d": {"kvCapacityTokens": 1000}},
        balancing="router-queue",
    )
    ls.start()
    sim.run(until=10.0)
    st = ls.stats()
    assert st.drops_by_reason == {"ExceedsKVCapacity": 1} and st.completed == 1
