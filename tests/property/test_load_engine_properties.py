"""Properties of the vLLM-style engine server under KV pressure (tiny caches force preemption by recompute):
conservation at every sampled instant (arrived = completed + dropped + in flight), every request accounted
for exactly once, admission never beyond the KV blocks or maxNumSeqs, and cancellation (client timeouts)
never leaking a slot, a block or a completion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sim.clock import Simulation
from sim.load import (
    LoadSystem,
    RateWindow,
    Request,
    Sample,
    StaticEndpoints,
    TokenDist,
    pipeline_from_service,
    rate_windows,
)
from sim.load.engine import EngineMode, EngineServer
from tests.helpers.conservation import PD, assert_conserved_all
from tests.unit.test_load_engine import Host


@dataclass(frozen=True)
class Tiny:
    max_num_seqs: int
    max_num_batched_tokens: int
    block_size: int
    kv_blocks: int
    kv_bytes_per_token: int = 1000
    tp: int = 1

    def step_time(self, p: int, attn: int, b: int, ctx: int, prefill_seqs: int = 0) -> float:
        return 0.005 + 2e-5 * p + 1e-9 * attn + 4e-4 * b + 2e-6 * ctx


AGG = {
    "metadata": {"name": "llm", "namespace": "default"},
    "spec": {"roles": [{"name": "llm", "roleType": "Inference"}]},
}


def _check_engine(srv: Any) -> None:
    if isinstance(srv, EngineServer):
        assert srv.max_used_seen <= srv.total_blocks or not srv.uses_kv
        assert srv.max_running_seen <= srv.max_seqs
        assert srv.used_blocks(srv.host.now()) <= max(srv.total_blocks, 0) or not srv.uses_kv


@given(
    seed=st.integers(0, 2**16),
    rate=st.floats(1.0, 30.0),
    blocks=st.integers(40, 400),
    block_size=st.sampled_from([1, 4, 16]),
    max_seqs=st.integers(1, 32),
    budget=st.integers(32, 512),
    disaggregated=st.booleans(),
)
def test_conservation_and_bounds_under_kv_pressure(
    seed: int, rate: float, blocks: int, block_size: int, max_seqs: int, budget: int, disaggregated: bool
) -> None:
    sim = Simulation(seed)
    arr = rate_windows(
        [RateWindow(duration=8.0, rate=rate, cv=2.0)],
        sim.seeds.stream("load"),
        TokenDist(mean=60, cv=1.5, maximum=400),
        TokenDist(mean=40, cv=1.0, maximum=300),
    )
    prof = Tiny(max_seqs, max(budget, max_seqs), block_size, blocks)
    if disaggregated:
        spec = pipeline_from_service(PD)
        ep = StaticEndpoints.replicas({"router": 1, "prefill": 1, "decode": 2})
        engines = {"prefill": prof, "decode": prof}
    else:
        spec = pipeline_from_service(AGG)
        ep = StaticEndpoints.replicas({"llm": 2})
        engines = {"llm": prof}
    samples: list[Sample] = []
    finished: dict[int, str] = {}

    def done(req: Request) -> None:
        assert req.id not in finished
        finished[req.id] = "completed"

    def dropped(req: Request) -> None:
        assert req.id not in finished
        finished[req.id] = str(req.dropped)

    def on_sample(s: Sample) -> None:
        samples.append(s)
        for stage in load.roles.values():
            for srv in stage.servers.values():
                _check_engine(srv)

    load = LoadSystem(
        sim,
        spec,
        arr,
        ep,
        sample_interval=0.5,
        on_sample=on_sample,
        on_complete=done,
        on_drop=dropped,
        engines=engines,
    )
    load.start()
    sim.run(until=300.0)
    assert assert_conserved_all(samples) > 0
    st_ = load.stats()
    assert st_.in_flight == 0, "every request drains"
    assert len(finished) == st_.arrived == st_.completed + st_.dropped
    assert set(load.acc.drops_by_reason) <= {"ExceedsKVCapacity"}
    for stage in load.roles.values():
        for srv in stage.servers.values():
            _check_engine(srv)
            if isinstance(srv, EngineServer):
                assert srv.used == 0 and srv.outstanding() == 0 and srv.n_dec == 0


@given(
    arrivals=st.lists(
        st.tuples(st.floats(0.0, 2.0), st.integers(1, 60), st.integers(1, 80)), min_size=1, max_size=25
    ),
    cancels=st.lists(st.tuples(st.integers(0, 24), st.floats(0.0, 3.0)), max_size=10),
    blocks=st.integers(30, 120),
    mode=st.sampled_from([EngineMode.COMBINED, EngineMode.DECODE, EngineMode.PREFILL]),
)
def test_cancel_never_leaks(
    arrivals: list[tuple[float, int, int]], cancels: list[tuple[int, float]], blocks: int, mode: EngineMode
) -> None:
    host = Host()
    outcome: dict[int, str] = {}
    reqs: dict[int, Request] = {}

    def done(r: Request, t: float) -> None:
        assert r.id not in outcome
        outcome[r.id] = "done"

    def drop(r: Request, t: float, why: object) -> None:
        assert r.id not in outcome
        outcome[r.id] = "dropped"

    srv = EngineServer("e", "llm", host, done, drop, Tiny(4, 64, 4, blocks), mode)

    def arrive(rid: int, inp: int, out: int) -> Any:
        def go(_e: object) -> None:
            r = Request(rid, host.now(), inp, out)
            r.stamps["llm"] = [host.now(), -1.0, -1.0]
            reqs[rid] = r
            srv.submit(r, host.now())

        return go

    def cancel(rid: int) -> Any:
        def go(_e: object) -> None:
            r = reqs.get(rid)
            if r is not None and srv.cancel(r, host.now()):
                assert rid not in outcome
                outcome[rid] = "cancelled"

        return go

    for rid, (t, inp, out) in enumerate(arrivals):
        host.env.timeout(t).callbacks.append(arrive(rid, inp, out))
    for rid, t in cancels:
        host.env.timeout(t).callbacks.append(cancel(rid))
    host.env.run()
    assert sorted(outcome) == list(range(len(arrivals)))
    assert srv.used == 0 and srv.outstanding() == 0 and srv.running == 0
    assert srv.max_used_seen <= blocks and srv.max_running_seen <= 4
