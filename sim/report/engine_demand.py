"""The lower bound's demand of engine-backed roles: pod-seconds one request needs at one pod's peak
throughput, from the same calibrated step-time model the vLLM-style engine runs (sim/engines).

Registered with `sim.report.analysis.register_demand` for `EngineDemand` params, which
`scenario_cost_models` puts on every role with an `engines:` entry (not `engine: analytic`)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.load.engine import EngineMode, EngineProfileLike
from sim.report.analysis import register_demand


@dataclass(frozen=True)
class EngineDemand:
    """An engine-backed role as the lower bound sees it: its profile and what it runs."""

    profile: EngineProfileLike
    mode: EngineMode

    @property
    def kv_capacity_tokens(self) -> int:
        return self.profile.kv_blocks * self.profile.block_size


def prefill_pod_seconds(profile: EngineProfileLike, input_tokens: int) -> float:
    """The prompt's share of full prefill steps: steps of `maxNumBatchedTokens` tokens, each prompt
    attending to half its own length on average (the step-time argument's documented form)."""
    tokens = max(int(input_tokens), 1)
    budget = max(profile.max_num_batched_tokens, 1)
    step = profile.step_time(budget, budget * tokens // 2, 0, 0, max(1, budget // tokens))
    return step * tokens / budget


def decode_pod_seconds(profile: EngineProfileLike, input_tokens: int, output_tokens: int) -> float:
    """The request's share of decode steps at the largest batch the engine can hold: at most
    `maxNumSeqs` sequences and as many requests of this footprint as the KV cache fits."""
    steps = max(int(output_tokens) - 1, 0)  # the first token comes from the prefill
    if steps == 0:
        return 0.0
    footprint = max(int(input_tokens) + int(output_tokens), 1)
    capacity = profile.kv_blocks * profile.block_size
    batch = max(1, min(profile.max_num_seqs, capacity // footprint))
    mean_context = int(input_tokens) + steps // 2
    step = profile.step_time(0, 0, batch, batch * mean_context)
    return steps * step / batch


def engine_request_pod_seconds(params: object, input_tokens: int, output_tokens: int) -> float:
    assert isinstance(params, EngineDemand)
    p, mode = params.profile, params.mode
    total = 0.0
    if mode in (EngineMode.PREFILL, EngineMode.COMBINED, EngineMode.EMBEDDING):
        total += prefill_pod_seconds(p, input_tokens)
    if mode in (EngineMode.DECODE, EngineMode.COMBINED):
        total += decode_pod_seconds(p, input_tokens, output_tokens)
    return total


register_demand(EngineDemand, engine_request_pod_seconds)
