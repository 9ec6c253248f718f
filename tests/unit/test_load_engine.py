"""The vLLM-style engine server (sim/load/engine.py) on tiny hand-computed cases.

Step times come from a fake profile: 10 ms per step + 1 ms per prefill token + 2 ms per decoding sequence
(context-independent, so every step time below is a sum of those three terms). Each case lists the
engine's log, (event, time, request id), derived by hand in the comments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import simpy

from sim.load.engine import EngineMode, EngineServer, Histogram, affine_step_time
from sim.load.request import DropReason, Request

ROLE = "llm"


@dataclass(frozen=True)
class FakeProfile:
    max_num_seqs: int = 4
    max_num_batched_tokens: int = 64
    block_size: int = 4
    kv_blocks: int = 100
    kv_bytes_per_token: int = 1000
    tp: int = 1

    def step_time(
        self,
        prefill_tokens: int,
        prefill_attn_tokens: int,
        decode_seqs: int,
        decode_context_tokens: int,
        prefill_seqs: int = 0,
    ) -> float:
        return 0.01 + 0.001 * prefill_tokens + 0.002 * decode_seqs


class Host:
    def __init__(self) -> None:
        self.env = simpy.Environment()

    def now(self) -> float:
        return float(self.env.now)

    def after(self, delay: float, fn: Callable[[object], None], arg: object) -> None:
        ev = self.env.timeout(delay)
        ev.callbacks.append(lambda _e: fn(arg))


class Rig:
    def __init__(self, mode: EngineMode, **profile: int) -> None:
        self.host = Host()
        self.log: list[tuple[str, float, int]] = []
        self.done: list[tuple[int, float]] = []
        self.drops: list[tuple[int, DropReason]] = []
        self.reqs: dict[int, Request] = {}
        self.srv = EngineServer(
            "pod-0",
            ROLE,
            self.host,
            lambda r, t: self.done.append((r.id, t)),
            lambda r, t, why: self.drops.append((r.id, why)),
            FakeProfile(**profile),
            mode,
            log=self.log,
        )

    def arrive(self, rid: int, t: float, inp: int, out: int) -> None:
        def go(_e: object) -> None:
            r = Request(rid, t, inp, out)
            r.stamps[ROLE] = [t, -1.0, -1.0]
            self.reqs[rid] = r
            self.srv.submit(r, t)

        self.host.env.timeout(t).callbacks.append(go)

    def at(self, t: float, fn: Callable[[], object]) -> None:
        self.host.env.timeout(t).callbacks.append(lambda _e: fn())

    def run(self) -> list[tuple[str, float, int]]:
        self.host.env.run()
        return [(e, round(t, 9), rid) for e, t, rid in self.log]


def test_chunked_prefill_then_decode() -> None:
    # budget 8 tokens: A's 10-token prompt runs as chunks of 8 (18 ms) and 2 (12 ms); its last chunk
    # samples the first token at 30 ms; 2 decode steps of 12 ms give tokens 2 and 3 at 54 ms.
    rig = Rig(EngineMode.COMBINED, max_num_batched_tokens=8)
    rig.arrive(0, 0.0, 10, 3)
    assert rig.run() == [("admit", 0.0, 0), ("first_token", 0.03, 0), ("finish", 0.054, 0)]
    assert rig.reqs[0].first_token_at == pytest.approx(0.03)
    assert rig.srv.used == 0 and rig.srv.outstanding() == 0


def test_preemption_by_recompute_youngest_first() -> None:
    # 6 blocks of 4 tokens. A (8 in, 10 out) prefills alone (18 ms); B arrived while that step ran.
    # t=0.018: A decodes (its context 8 fills 2 blocks, the next token opens a 3rd); B's 8-token prompt
    #   takes 2 blocks: 3 + 2 = 5 <= 6. Step = 10 + 8 + 2 = 20 ms -> B's first token at 0.038.
    # t=0.038: A at 9 tokens (3 blocks), B at 8 (2 blocks, next token opens one): 1 block free, so only
    #   3 decode steps fit (B's block at step 1, A's at step 4): 3 x 14 ms -> 0.080.
    # t=0.080: A needs a block, none free: the youngest (B, 3 blocks) is preempted and requeued.
    #   A alone: 5 more tokens, 5 x 12 ms -> finishes at 0.140.
    # t=0.140: B is recomputed: 8 prompt + 4 generated = 12 tokens (22 ms) -> its 5th token at 0.162,
    #   then 5 decode steps of 12 ms -> 0.222.
    rig = Rig(EngineMode.COMBINED, kv_blocks=6)
    rig.arrive(0, 0.0, 8, 10)
    rig.arrive(1, 0.0, 8, 10)
    assert rig.run() == [
        ("admit", 0.0, 0),
        ("first_token", 0.018, 0),
        ("admit", 0.018, 1),
        ("first_token", 0.038, 1),
        ("preempt", 0.08, 1),
        ("finish", 0.14, 0),
        ("admit", 0.14, 1),
        ("finish", 0.222, 1),
    ]
    assert rig.srv.preemptions == 1
    assert rig.reqs[1].first_token_at == pytest.approx(0.038)  # TTFT is not reset by the recompute
    assert rig.srv.max_used_seen <= 6


def test_decode_role_reserves_transferred_prompt() -> None:
    # Decode role: the prompt's KV arrived (7 tokens = 2 blocks); the prefill sampled token 1.
    # A: 10 decode steps of 12 ms, planned to end at 0.120. B (7 in, 3 out) arrives at 0.030, in A's
    # 3rd step, and joins at its end (0.036): 2 sequences, 14 ms a step; B needs 2 -> done at 0.064
    # (its first token here at 0.050). A has 5 steps done, 5 left alone: 0.064 + 0.060 = 0.124.
    rig = Rig(EngineMode.DECODE)
    rig.arrive(0, 0.0, 7, 11)
    rig.arrive(1, 0.03, 7, 3)
    assert rig.run() == [
        ("admit", 0.0, 0),
        ("first_token", 0.012, 0),
        ("admit", 0.036, 1),
        ("first_token", 0.05, 1),
        ("finish", 0.064, 1),
        ("finish", 0.124, 0),
    ]
    assert rig.reqs[1].stamps[ROLE][1] == pytest.approx(0.036)  # admitted at the step boundary


def test_combined_arrival_cuts_decode_segment_at_step_end() -> None:
    # A (4 in, 6 out): prefill 14 ms, then 5 decode steps of 12 ms (planned to 0.074). B (4 in, 2 out)
    # arrives at 0.030, during A's 2nd decode step (0.026-0.038): admitted at 0.038 in a mixed step
    # (4 prompt tokens + 1 decode: 16 ms) -> B's first token at 0.054. Then both decode: B's last
    # token at 0.068 (14 ms), A's 5th decode step alone at 0.080.
    rig = Rig(EngineMode.COMBINED)
    rig.arrive(0, 0.0, 4, 6)
    rig.arrive(1, 0.03, 4, 2)
    assert rig.run() == [
        ("admit", 0.0, 0),
        ("first_token", 0.014, 0),
        ("admit", 0.038, 1),
        ("first_token", 0.054, 1),
        ("finish", 0.068, 1),
        ("finish", 0.08, 0),
    ]


def test_prefill_role_hands_over_after_first_token() -> None:
    # Two prompts in one batch (within 64 tokens): 10 + 20 tokens -> 40 ms; both sampled a first token.
    rig = Rig(EngineMode.PREFILL)
    rig.arrive(0, 0.0, 10, 50)
    rig.arrive(1, 0.0, 20, 50)
    rig.arrive(2, 0.001, 20, 50)
    assert rig.run() == [
        ("admit", 0.0, 0),
        ("first_token", 0.02, 0),
        ("finish", 0.02, 0),
        ("admit", 0.02, 1),
        ("admit", 0.02, 2),
        ("first_token", 0.07, 1),
        ("finish", 0.07, 1),
        ("first_token", 0.07, 2),
        ("finish", 0.07, 2),
    ]
    assert rig.srv.generation_tokens == 3


def test_embedding_role_batches_whole_prompts() -> None:
    # Pooling models do not chunk: 40 + 30 > 64, so the second prompt waits for the next step.
    rig = Rig(EngineMode.EMBEDDING)
    rig.arrive(0, 0.0, 5, 0)
    rig.arrive(1, 0.001, 40, 0)
    rig.arrive(2, 0.002, 30, 0)
    assert rig.run() == [
        ("admit", 0.0, 0),
        ("finish", 0.015, 0),
        ("admit", 0.015, 1),
        ("finish", 0.065, 1),
        ("admit", 0.065, 2),
        ("finish", 0.105, 2),
    ]


def test_max_num_seqs_bounds_the_batch() -> None:
    rig = Rig(EngineMode.DECODE, max_num_seqs=2)
    for i in range(3):
        rig.arrive(i, 0.0, 7, 3)
    rig.run()
    assert rig.srv.max_running_seen == 2
    assert [d[0] for d in rig.done] == [0, 1, 2]


def test_cancel_frees_slot_and_blocks() -> None:
    rig = Rig(EngineMode.DECODE, max_num_seqs=1)
    rig.arrive(0, 0.0, 7, 100)
    rig.arrive(1, 0.0, 7, 3)
    seen: dict[str, object] = {}

    def cancel() -> None:
        seen["running"] = rig.srv.outstanding()
        seen["found"] = rig.srv.cancel(rig.reqs[0], 0.03)
        seen["again"] = rig.srv.cancel(rig.reqs[0], 0.03)

    rig.at(0.03, cancel)
    log = rig.run()
    assert seen == {"running": 2, "found": True, "again": False}
    assert ("cancel", 0.03, 0) in log
    assert [d[0] for d in rig.done] == [1]  # the cancelled request never completes
    # B waited for the slot: admitted at the end of the step in progress (0.036)
    assert ("admit", 0.036, 1) in log
    assert rig.srv.used == 0 and rig.srv.outstanding() == 0


def test_cancel_waiting_request() -> None:
    rig = Rig(EngineMode.DECODE, max_num_seqs=1)
    rig.arrive(0, 0.0, 7, 5)
    rig.arrive(1, 0.0, 7, 5)
    rig.at(0.01, lambda: rig.srv.cancel(rig.reqs[1], 0.01))
    rig.run()
    assert [d[0] for d in rig.done] == [0]
    assert rig.srv.outstanding() == 0


def test_request_larger_than_the_cache_is_dropped() -> None:
    rig = Rig(EngineMode.COMBINED, kv_blocks=4)
    rig.arrive(0, 0.0, 14, 3)  # 17 tokens > 16
    rig.run()
    assert rig.drops == [(0, DropReason.EXCEEDS_KV_CAPACITY)]


def test_histogram_buckets_are_le() -> None:
    h = Histogram((0.1, 1.0))
    h.observe(0.1)
    h.observe(0.5, 2)
    h.observe(3.0)
    assert h.cumulative() == [("0.1", 1), ("1.0", 3), ("+Inf", 4)]
    assert h.total == pytest.approx(0.1 + 1.0 + 3.0)


def test_affine_fast_path_is_exact_or_absent() -> None:
    p = FakeProfile()
    f = affine_step_time(p)
    assert f(100, 5000, 3, 300, 1) == pytest.approx(p.step_time(100, 5000, 3, 300))

    @dataclass(frozen=True)
    class Curved(FakeProfile):
        def step_time(self, a: int, b: int, c: int, d: int, prefill_seqs: int = 0) -> float:
            return 0.01 + 1e-9 * a * a + 0.001 * c

    g = affine_step_time(Curved())
    assert g(5000, 0, 0, 0, 1) == pytest.approx(0.01 + 1e-9 * 5000 * 5000)


def test_engine_metrics_from_scheduler_state() -> None:
    from sim.clock import Simulation
    from sim.load import LoadSystem, StaticEndpoints, pipeline_from_service
    from sim.load.arrivals import Arrival
    from sim.load.metrics import parse_metric_text

    ds = {
        "metadata": {"name": "llm", "namespace": "ns"},
        "spec": {"roles": [{"name": "llm", "roleType": "Inference"}]},
    }
    sim = Simulation(0)
    arrivals = [Arrival(0.01 * i, 8, 40) for i in range(6)]
    ep = StaticEndpoints.replicas({"llm": 1})
    load = LoadSystem(
        sim,
        pipeline_from_service(ds),
        arrivals,
        ep,
        engines={"llm": FakeProfile(kv_blocks=30, max_num_seqs=4)},
    )
    load.start()
    sim.run(until=0.3)
    srv = load.roles["llm"].servers["llm-000"]
    assert isinstance(srv, EngineServer)
    text = load.metrics.exposition("llm-000", sim.now)
    assert parse_metric_text(text, "vllm:num_requests_running") == srv.running == 4
    assert parse_metric_text(text, "vllm:num_requests_waiting") == srv.waiting == 2
    assert parse_metric_text(text, "vllm:gpu_cache_usage_perc") == pytest.approx(
        srv.used_blocks(sim.now) / 30
    )
    assert parse_metric_text(text, "vllm:num_preemptions_total") == srv.preemptions
    assert "# TYPE vllm:time_to_first_token_seconds histogram" in text
    assert 'vllm:time_to_first_token_seconds_bucket{model_name="model",le="+Inf"} 4.0' in text
    assert parse_metric_text(text, "vllm:time_to_first_token_seconds_count") == 4
    assert parse_metric_text(text, "vllm:time_per_output_token_seconds_count") > 0
    m = load.metrics.pod_metric("ns", "llm-000", "vllm:num_requests_waiting", sim.now)
    assert m is not None and m.value == 2
    snap = load.metrics.collect(
        {"metricSourceType": "pod", "targetMetric": "vllm:time_to_first_token_seconds_count"},
        ["llm-000"],
        sim.now,
    )
    assert snap.average == 4
    sim.run(until=30.0)
    assert srv.served == 6 and srv.used == 0


def test_held_and_has_slot_for_the_request_path() -> None:
    rig = Rig(EngineMode.DECODE, max_num_seqs=1)
    rig.arrive(0, 0.0, 7, 5)
    rig.arrive(1, 0.0, 7, 5)
    seen: dict[str, object] = {}

    def look() -> None:
        seen["held"] = [r.id for r in rig.srv.held()]
        seen["slot"] = rig.srv.has_slot(Request(9, 0.01, 7, 5))

    rig.at(0.01, look)
    rig.run()
    assert seen == {"held": [0, 1], "slot": False}  # running first, then waiting; no free sequence slot
    idle = Rig(EngineMode.COMBINED, kv_blocks=4)
    assert idle.srv.has_slot(Request(0, 0.0, 8, 4))  # 2 of 4 blocks for its prompt
    assert idle.srv.has_slot(Request(1, 0.0, 100, 4))  # never fits: rejected at once, never blocks
    assert idle.srv.held() == []
