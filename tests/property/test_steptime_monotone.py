"""The step time is monotone non-decreasing in every argument (prefill tokens, attention tokens,
decode sequences, decode context), for every shipped model and GPU, and 0 for an empty step."""

from __future__ import annotations

from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from sim.engines import EngineProfile, build_profile

_CONFIGS = [
    ("meta-llama/Llama-2-70b-hf", "H100-SXM-80GB", 4),
    ("meta-llama/Llama-2-70b-hf", "A100-SXM-80GB", 8),
    ("mistralai/Mixtral-8x7B-v0.1", "H100-SXM-80GB", 2),
    ("meta-llama/Llama-3.1-8B-Instruct", "L40S-48GB", 1),
    ("bigscience/bloom", "H200-SXM-141GB", 4),
    ("BAAI/bge-large-en-v1.5", "L4-24GB", 1),
]


@cache
def _profile(i: int) -> EngineProfile:
    model, gpu, tp = _CONFIGS[i]
    return build_profile({"model": model, "gpu": gpu, "tp": tp}, gpus_requested=tp, where="prop")


steps = st.tuples(
    st.integers(0, 16384),
    st.integers(0, 10**8),
    st.integers(0, 512),
    st.integers(0, 2 * 10**6),
    st.integers(0, 64),  # prefill_seqs
)


@given(st.integers(0, len(_CONFIGS) - 1), steps, st.integers(0, 4), st.integers(1, 4096))
def test_step_time_monotone_in_every_argument(
    i: int, step: tuple[int, int, int, int], arg: int, more: int
) -> None:
    profile = _profile(i)
    base = profile.step_time(*step)
    bigger = list(step)
    bigger[arg] += more
    assert profile.step_time(*bigger) >= base >= 0.0


@given(st.integers(0, len(_CONFIGS) - 1), st.integers(1, 8192), st.integers(1, 64), st.integers(1, 64))
def test_prefill_monotone_in_tokens_and_batch(i: int, tokens: int, batch: int, extra: int) -> None:
    profile = _profile(i)
    assert profile.prefill_time(tokens + extra, batch) >= profile.prefill_time(tokens, batch)
    assert profile.prefill_time(tokens, batch + extra) >= profile.prefill_time(tokens, batch)


@given(st.integers(0, len(_CONFIGS) - 1), st.integers(1, 512), st.integers(1, 64), st.floats(0, 32768))
def test_decode_monotone_in_batch(i: int, batch: int, extra: int, context: float) -> None:
    profile = _profile(i)
    assert profile.decode_step_time(batch + extra, context) >= profile.decode_step_time(batch, context) > 0


def test_empty_step_takes_no_time() -> None:
    assert _profile(0).step_time(0, 0, 0, 0) == 0.0
