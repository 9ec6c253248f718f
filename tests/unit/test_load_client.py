"""Clients: deadlines, cancellation on every pod-server kind (slot and KV freed), retries with backoff (an
exact event log), the single-timer deadline watch, pod termination with a grace period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from sim.clock import Simulation
from sim.load import Arrival, LoadSystem, PipelineSpec, Request, Sample, StaticEndpoints
from sim.load.client import DEFAULT_CLIENT_TIMEOUT_S, RetryParams, backoff_delay
from sim.load.pipeline import RoleStep
from sim.load.service_models import DecodeParams, ModelKind, PrefillParams, make_server
from tests.helpers.conservation import assert_conserved_all


class LoggingLoad(LoadSystem):
    """A LoadSystem that logs each attempt, deadline and retry (t, what, request id, attempt)."""

    log: list[tuple[float, str, int, int]]

    def _attempt(self, req: Request, now: float) -> None:
        self.log.append((round(now, 9), "attempt", req.id, req.attempt))
        super()._attempt(req, now)

    def _on_deadline(self, req: Request, now: float) -> None:
        self.log.append((round(now, 9), "deadline", req.id, req.attempt))
        super()._on_deadline(req, now)


def one_role(
    kind: ModelKind,
    arrivals: Sequence[tuple[float, int, int]],
    params: Mapping[str, Any],
    client: Mapping[str, Any],
    pods: int = 1,
    until: float = 100.0,
) -> tuple[LoggingLoad, list[tuple[float, str, int, int]], list[Sample]]:
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", kind),))
    samples: list[Sample] = []
    ls = LoggingLoad(
        sim,
        spec,
        [Arrival(*a) for a in arrivals],
        StaticEndpoints.replicas({"r": pods}),
        {"r": dict(params)},
        on_sample=samples.append,
        sample_interval=0.25,
        client=client,
    )
    ls.log = []

    def log(what: str) -> Any:
        return lambda req: ls.log.append((round(req.completed_at, 9), what, req.id, req.attempt))

    ls.on_complete, ls.on_drop, ls.on_timeout = log("completed"), log("dropped"), log("timed_out")
    ls.start()
    sim.run(until=until)
    assert assert_conserved_all(samples) > 0
    return ls, ls.log, samples


def test_default_client_timeout_is_finite() -> None:
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.FIXED),))
    ls = LoadSystem(sim, spec, [], StaticEndpoints.replicas({"r": 1}))
    assert ls.client.timeout_seconds == DEFAULT_CLIENT_TIMEOUT_S == 600.0
    assert ls.client.retries.limit == 0


def test_retry_after_timeout_exact_event_log() -> None:
    # one slot, 3 s per request; request 1 waits behind request 0, misses its 4 s deadline at t=4, is
    # retried after the 1 s backoff at t=5 and served 5..8 (e2e counts from its first arrival)
    ls, log, _ = one_role(
        ModelKind.FIXED,
        [(0, 10, 1), (0, 10, 1)],
        {"overheadS": 3.0, "concurrency": 1},
        {"timeoutSeconds": 4, "retries": {"limit": 2, "backoffSeconds": 1}},
    )
    assert log == [
        (0.0, "attempt", 0, 0),
        (0.0, "attempt", 1, 0),
        (3.0, "completed", 0, 0),
        (4.0, "deadline", 1, 0),
        (5.0, "attempt", 1, 1),
        (8.0, "completed", 1, 1),
    ]
    st = ls.stats()
    assert (st.arrived, st.completed, st.timed_out, st.retries) == (2, 2, 0, 1)
    assert st.roles["r"].entered == 3  # the retry entered the role again; it is not a new arrival
    assert ls.acc.roles["r"].cancelled == 1


def test_backoff_grows_and_last_attempt_counts_once_as_timed_out() -> None:
    # 10 s of service, 4 s deadline: every attempt times out; backoffs 1 s then 2 s
    ls, log, samples = one_role(
        ModelKind.FIXED,
        [(0, 10, 1)],
        {"overheadS": 10.0, "concurrency": 1},
        {"timeoutSeconds": 4, "retries": {"limit": 2, "backoffSeconds": 1, "multiplier": 2}},
    )
    assert log == [
        (0.0, "attempt", 0, 0),
        (4.0, "deadline", 0, 0),
        (5.0, "attempt", 0, 1),
        (9.0, "deadline", 0, 1),
        (11.0, "attempt", 0, 2),
        (15.0, "deadline", 0, 2),
        (15.0, "timed_out", 0, 2),
    ]
    st = ls.stats()
    assert (st.arrived, st.completed, st.dropped, st.timed_out, st.retries) == (1, 0, 0, 1, 2)
    assert st.timed_out_by_class == {"": 1}
    during_backoff = next(s for s in samples if 9.0 < s.t < 11.0)
    assert during_backoff.in_backoff == 1 and during_backoff.in_flight == 1
    # the aborted attempts freed the pod: nothing left in service after the last deadline
    assert ls.roles["r"].servers["r-000"].running == 0


def test_no_retry_on_timeout_when_retry_on_excludes_it() -> None:
    ls, log, _ = one_role(
        ModelKind.FIXED,
        [(0, 10, 1)],
        {"overheadS": 10.0, "concurrency": 1},
        {"timeoutSeconds": 4, "retries": {"limit": 3}, "retryOn": ["dropped"]},
    )
    assert log[-1] == (4.0, "timed_out", 0, 0)
    assert ls.stats().retries == 0


def test_zero_timeout_waits_forever() -> None:
    ls, log, _ = one_role(
        ModelKind.FIXED, [(0, 10, 1)], {"overheadS": 50.0, "concurrency": 1}, {"timeoutSeconds": 0}
    )
    assert log[-1] == (50.0, "completed", 0, 0)
    assert ls._watch is None


def test_ttft_deadline_only_while_no_first_token() -> None:
    # decode: step 1 s, first token at admission + 1 step; a 0.5 s TTFT deadline cuts the one admitted at
    # t=0 (first token due at t=1), not once its first token came
    params = {"stepOverheadS": 1.0, "stepPerSeqS": 0.0, "maxNumSeqs": 4}
    _, log, _ = one_role(ModelKind.DECODE, [(0, 10, 3)], params, {"ttftTimeoutSeconds": 0.5})
    assert log[-1] == (0.5, "timed_out", 0, 0)
    _, log, _ = one_role(ModelKind.DECODE, [(0, 10, 3)], params, {"ttftTimeoutSeconds": 1.5})
    assert log[-1] == (3.0, "completed", 0, 0)


def test_deadline_watch_costs_no_event_per_request() -> None:
    # 2,000 requests finishing in 0.01 s each under a 600 s deadline: the watch fires about once per
    # deadline period, not once per request
    arrivals = [(i * 0.1, 10, 1) for i in range(2000)]
    ls, _, _ = one_role(ModelKind.FIXED, arrivals, {"overheadS": 0.01, "concurrency": 4}, {}, until=1000.0)
    assert ls.stats().completed == 2000
    assert ls._watch is not None and ls._watch.fires <= 3
    assert len(ls._watch.entries) <= 1


def test_backoff_delay_formula_and_jitter_bounds() -> None:
    r = RetryParams(backoff_seconds=1.0, multiplier=2.0, max_backoff_seconds=5.0)
    assert [backoff_delay(r, k, None) for k in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    sim = Simulation(3)
    j = RetryParams(backoff_seconds=2.0, jitter=0.5)
    draws = [backoff_delay(j, 1, sim.seeds.stream("client-retry")) for _ in range(200)]
    assert all(1.0 <= d < 3.0 for d in draws) and len(set(draws)) > 100
    again = Simulation(3)
    assert draws[:5] == [backoff_delay(j, 1, again.seeds.stream("client-retry")) for _ in range(5)]


# ------------------------------------------------------------------ cancel on each server kind


class Host:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.FIXED),))
        self.ls = LoadSystem(sim, spec, [], StaticEndpoints({}))

    def now(self) -> float:
        return self.sim.now

    def after(self, delay: float, fn: Any, arg: object) -> None:
        self.ls.after(delay, fn, arg)


def server(kind: ModelKind, params: Any) -> tuple[Simulation, Any, list[tuple[float, int]]]:
    sim = Simulation(0)
    done: list[tuple[float, int]] = []
    srv = make_server(kind, params, "p", "r", Host(sim), lambda r, t: done.append((t, r.id)), lambda *a: None)
    return sim, srv, done


def req(rid: int, inp: int, out: int) -> Request:
    r = Request(rid, 0.0, inp, out)
    r.stamps["r"] = [0.0, -1.0, -1.0]
    return r


def test_cancel_multi_server_frees_the_slot() -> None:
    from sim.load.service_models import FixedParams

    sim, srv, done = server(ModelKind.FIXED, FixedParams(overhead_s=10.0, concurrency=1))
    a, b = req(0, 1, 1), req(1, 1, 1)
    srv.submit(a, 0.0)
    srv.submit(b, 0.0)
    assert (srv.running, srv.waiting, srv.outstanding()) == (1, 1, 2)
    assert not srv.has_slot(req(9, 1, 1))
    sim.run(until=3.0)
    assert srv.cancel(a, 3.0) is True
    assert (srv.running, srv.waiting) == (1, 0)  # b took the slot at once
    assert b.stamps["r"][1] == 3.0
    assert srv.cancel(a, 3.0) is False
    sim.run(until=100.0)
    assert done == [(13.0, 1)]  # a never completes


def test_cancel_in_a_prefill_batch_and_in_its_queue() -> None:
    sim, srv, done = server(
        ModelKind.PREFILL, PrefillParams(batch_overhead_s=0.0, tokens_per_s=100.0, max_batch_tokens=1000)
    )
    a, b, c = req(0, 500, 1), req(1, 300, 1), req(2, 900, 1)
    srv.submit(a, 0.0)
    srv.submit(b, 0.0)  # joins the next batch (the running one started with a alone)
    srv.submit(c, 0.0)
    assert srv.running == 1 and srv.held() == [a, b, c]
    sim.run(until=1.0)
    assert srv.cancel(a, 1.0) is True  # aborted mid-step: the step still ends at 5 s
    assert srv.running == 0 and srv.busy
    assert srv.cancel(c, 1.0) is True  # queued
    assert srv.cancel(c, 1.0) is False
    sim.run(until=100.0)
    assert done == [(8.0, 1)]  # b's batch 5..8; a and c never complete


def test_cancel_decoding_sequence_frees_batch_slot_and_kv() -> None:
    p = DecodeParams(step_overhead_s=1.0, step_per_seq_s=0.0, max_num_seqs=1, kv_capacity_tokens=1000)
    sim, srv, done = server(ModelKind.DECODE, p)
    a, b = req(0, 100, 10), req(1, 200, 5)
    srv.submit(a, 0.0)
    srv.submit(b, 0.0)
    assert (srv.running, srv.waiting, srv.reserved) == (1, 1, 110)
    assert not srv.has_slot(req(9, 1, 1))
    sim.run(until=3.0)
    assert srv.kv_usage(3.0) == pytest.approx((100 + 3) / 1000)
    assert srv.cancel(a, 3.0) is True
    # b admitted at once into the freed slot and KV; a's three generated tokens are counted
    assert (srv.running, srv.waiting, srv.reserved) == (1, 0, 205)
    assert srv.generation_tokens == 3
    assert b.stamps["r"][1] == 3.0
    sim.run(until=100.0)
    assert done == [(8.0, 1)]
    assert (srv.running, srv.reserved, srv.kv_usage(100.0)) == (0, 0, 0.0)


def test_cancel_queued_decode_head_unblocks_admission() -> None:
    p = DecodeParams(step_overhead_s=1.0, step_per_seq_s=0.0, max_num_seqs=8, kv_capacity_tokens=1000)
    sim, srv, done = server(ModelKind.DECODE, p)
    a, big, c = req(0, 500, 10), req(1, 600, 10), req(2, 100, 10)
    for r in (a, big, c):
        srv.submit(r, 0.0)
    assert srv.running == 1 and srv.waiting == 2  # big does not fit; c waits behind it (FIFO)
    sim.run(until=2.0)
    assert srv.cancel(big, 2.0) is True
    assert srv.running == 2 and srv.waiting == 0
    sim.run(until=100.0)
    assert sorted(i for _, i in done) == [0, 2]


# ------------------------------------------------------------------ pod termination


def test_terminated_pod_drains_within_grace_then_fails_and_retries() -> None:
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.FIXED),))
    ep = StaticEndpoints({"r": ["a"]})
    out: list[tuple[float, str, int, int]] = []
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(0.0, 1, 1), Arrival(0.0, 1, 1)],
        ep,
        {"r": {"overheadS": 20.0, "concurrency": 1}},
        on_complete=lambda r: out.append((r.completed_at, "completed", r.id, r.attempt)),
        on_drop=lambda r: out.append((r.completed_at, str(r.dropped), r.id, r.attempt)),
        client={"timeoutSeconds": 0, "retries": {"limit": 1, "backoffSeconds": 0}},
    )
    ls.start()

    def churn() -> Any:
        yield sim.env.timeout(5.0)
        ep.set_ready("r", ["a", "b"])
        ep.terminate("r", ["a"], grace=30.0)  # a holds 0 (in service to t=20) and 1 (queued)

    sim.env.process(churn())
    sim.run(until=200.0)
    # 0 finishes on a within the grace period; 1, queued on a, starts there at 20 and is failed at
    # 5 + 30 = 35, then retried on b: 35..55
    assert out == [(20.0, "completed", 0, 0), (55.0, "completed", 1, 1)]
    assert ls.acc.roles["r"].cancelled == 1
    assert "a" not in ls.roles["r"].servers


def test_pod_terminated_without_retries_is_a_drop() -> None:
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.FIXED),))
    ep = StaticEndpoints({"r": ["a"]})
    ls = LoadSystem(sim, spec, [Arrival(0.0, 1, 1)], ep, {"r": {"overheadS": 100.0}})
    ls.start()
    sim.run(until=1.0)
    ep.terminate("r", ["a"], grace=0.0)
    sim.run(until=10.0)
    st = ls.stats()
    assert (st.dropped, st.drops_by_reason, st.in_flight) == (1, {"PodTerminated": 1}, 0)


def test_cancel_during_kv_transfer() -> None:
    from sim.load import pipeline_from_service

    pd = {
        "metadata": {"name": "llm", "namespace": "default"},
        "spec": {
            "roles": [{"name": "prefill", "roleType": "Prefill"}, {"name": "decode", "roleType": "Decode"}]
        },
    }
    sim = Simulation(0)
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        pipeline_from_service(pd),
        [Arrival(0.0, 1000, 10)],
        StaticEndpoints.replicas({"prefill": 1, "decode": 1}),
        {"kv-transfer": {"bandwidthBytesPerS": 1e7}},  # 1000 tokens x 128 KiB at 10 MB/s: ~13 s
        client={"timeoutSeconds": 5},
        on_sample=samples.append,
    )
    ls.start()
    sim.run(until=60.0)
    st = ls.stats()
    assert (st.timed_out, st.in_flight, ls.acc.in_transit) == (1, 0, 0)
    assert st.roles["decode"].entered == 0  # the stale transfer never delivered it
    assert assert_conserved_all(samples) > 0


def test_informer_endpoints_report_terminating_pods_with_their_grace() -> None:
    from types import SimpleNamespace

    from sim.load import InformerEndpoints
    from sim.load.endpoints import ROLE_LABEL, SERVICE_LABEL

    class Cache:
        def __init__(self) -> None:
            self.handlers: list[Any] = []

        def list(self, namespace: str, selector: Any) -> list[Any]:
            return []

        def add_handler(self, fn: Any) -> None:
            self.handlers.append(fn)

        def emit(self, kind: str, pod: dict[str, Any]) -> None:
            for fn in self.handlers:
                fn(SimpleNamespace(type=kind, obj=pod, old=None))

    def pod(name: str, **meta: Any) -> dict[str, Any]:
        return {
            "metadata": {
                "name": name,
                "namespace": "ns",
                "labels": {SERVICE_LABEL: "svc", ROLE_LABEL: "decode"},
                **meta,
            },
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }

    cache = Cache()
    ep = InformerEndpoints(cache, "ns", "svc", ["decode"])
    seen: list[str] = []
    ep.subscribe(seen.append)
    cache.emit("ADDED", pod("a"))
    cache.emit("ADDED", pod("b"))
    assert list(ep.ready_pods("decode")) == ["a", "b"] and ep.take_terminating("decode") == {}
    cache.emit("MODIFIED", pod("a", deletionTimestamp="2026-01-01T00:00:05Z", deletionGracePeriodSeconds=10))
    assert list(ep.ready_pods("decode")) == ["b"]
    assert ep.take_terminating("decode") == {"a": 10.0}
    assert ep.take_terminating("decode") == {}  # consumed
    cache.emit("MODIFIED", pod("a", deletionTimestamp="2026-01-01T00:00:05Z", deletionGracePeriodSeconds=10))
    assert ep.take_terminating("decode") == {}  # reported once
    cache.emit("DELETED", pod("b"))  # gone without a grace period
    assert ep.take_terminating("decode") == {"b": 0.0}
    assert seen == ["decode"] * 4
