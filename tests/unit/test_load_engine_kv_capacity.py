"""The KV-cache capacity of Llama-2-70B at TP 4 on H100-SXM-80GB with gpuMemoryUtilization 0.9, derived by
hand, and the engine server admitting up to exactly that many blocks and no more.

(The `engines` side tests how the profile computes the figure; this side checks the running server uses it.)"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from sim.engines import build_profile
from sim.load.engine import EngineMode, EngineServer
from sim.load.request import Request

GIB = 2**30

# Llama-2-70B config.json: hidden 8192, 80 layers, 64 heads, 8 KV heads (head dim 128), MLP 28672,
# vocab 32000, untied embeddings, fp16.
HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, MLP, VOCAB = 8192, 80, 64, 8, 128, 28672, 32000
PER_LAYER = (
    HIDDEN * HIDDEN * 2  # q, o
    + HIDDEN * KV_HEADS * HEAD_DIM * 2  # k, v (GQA)
    + 3 * HIDDEN * MLP  # gate, up, down
    + 2 * HIDDEN  # two RMSNorms
)
PARAMS = LAYERS * PER_LAYER + 2 * VOCAB * HIDDEN + HIDDEN  # + embeddings, lm_head, final norm
TP, UTIL, BLOCK, MAX_TOKENS, MAX_SEQS = 4, 0.9, 16, 8192, 256
WEIGHTS_PER_GPU = PARAMS * 2 // TP
# activation reserve per GPU (sim/engines activation_reserve_bytes): one forward pass over
# maxNumBatchedTokens (4 x hidden + the q/k/v and gated-MLP shards), fp32 logits of maxNumSeqs, 1 GiB
ACT_PER_TOKEN = (4 * HIDDEN + (HEADS + 2 * KV_HEADS) * HEAD_DIM // TP + 2 * MLP // TP) * 2
RESERVE = MAX_TOKENS * ACT_PER_TOKEN + MAX_SEQS * VOCAB * 4 + GIB
FREE = int(80 * GIB * UTIL) - WEIGHTS_PER_GPU - RESERVE
KV_PER_TOKEN_PER_GPU = LAYERS * (KV_HEADS // TP) * HEAD_DIM * 2 * 2  # K and V, fp16
BLOCKS = FREE // (KV_PER_TOKEN_PER_GPU * BLOCK)


def test_hand_derivation() -> None:
    assert PARAMS == 68_976_648_192  # ~69.0B, the published figure
    assert KV_PER_TOKEN_PER_GPU == 81_920
    assert BLOCKS == 31_204  # 499,264 tokens


class _Host:
    def __init__(self) -> None:
        self.env = simpy.Environment()

    def now(self) -> float:
        return float(self.env.now)

    def after(self, delay: float, fn: Callable[[object], None], arg: object) -> None:
        self.env.timeout(delay).callbacks.append(lambda _e: fn(arg))


def test_engine_admits_up_to_the_kv_capacity_and_no_more() -> None:
    profile = build_profile(
        {
            "model": "meta-llama/Llama-2-70b-hf",
            "gpu": "H100-SXM-80GB",
            "tp": TP,
            "gpuMemoryUtilization": UTIL,
        },
        gpus_requested=TP,
        where="test",
    )
    assert profile.kv_blocks == BLOCKS
    host = _Host()
    srv = EngineServer(
        "decode-0", "decode", host, lambda r, t: None, lambda r, t, w: None, profile, EngineMode.DECODE
    )
    assert srv.total_blocks == BLOCKS
    # decode role: each transferred prompt of 16 b - 1 tokens holds b blocks (its first decode step
    # still fits the last block). 16 x 1950 + 4 = 31,204 blocks exactly; one more 1-block prompt waits.
    sizes = [1950] * 16 + [4, 1]
    reqs = []
    for i, b in enumerate(sizes):
        r = Request(i, 0.0, BLOCK * b - 1, 1000)
        r.stamps["decode"] = [0.0, -1.0, -1.0]
        reqs.append(r)
    seen: dict[str, float] = {}

    def submit_all(_e: object) -> None:
        for r in reqs:
            srv.submit(r, 0.0)

    def look(_e: object) -> None:
        seen.update(running=srv.running, waiting=srv.waiting, used=srv.used, usage=srv.kv_usage(host.now()))

    host.env.timeout(0.0).callbacks.append(submit_all)
    host.env.timeout(1e-6).callbacks.append(look)
    host.env.run(until=2.0)
    # all at once (they join the same first step): 17 running hold every block, the 18th waits
    assert seen == {"running": 17, "waiting": 1, "used": BLOCKS, "usage": 1.0}
    # and later, under decode growth, preemption keeps the cache within its blocks
    assert srv.max_used_seen == BLOCKS
    assert srv.preemptions >= 1


def test_decode_steps_take_the_closed_form() -> None:
    """Decode segments of a dense model use the exact closed form (no per-segment profile calls)."""
    profile = build_profile(
        {"model": "meta-llama/Llama-2-70b-hf", "gpu": "H100-SXM-80GB", "tp": TP},
        gpus_requested=TP,
        where="test",
    )
    srv = EngineServer(
        "d", "decode", _Host(), lambda r, t: None, lambda r, t, w: None, profile, EngineMode.DECODE
    )
    assert srv._decode_lin is not None
    c, per_seq, per_tok = srv._decode_lin
    want = profile.step_time(0, 0, 12, 12 * 1100)
    assert abs(c + per_seq * 12 + per_tok * 12 * 1100 - want) <= 1e-9 * want
