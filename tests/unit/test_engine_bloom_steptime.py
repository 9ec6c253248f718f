"""BLOOM-176B step times with the shipped corrections (fitted on Llama-2-70B only): a truth table of
roofline bounds, the physics that differs from the fit model (full multi-head KV, 250k vocabulary),
and a published batch-1 figure.

Published figure: BLOOM-176B on one 8 x A100-80GB node, greedy generation of 100 tokens from a
few-token prompt, batch 1: 44.02 ms per token with DeepSpeed-Inference fp16 (fused kernels, CUDA
graphs off), 230 ms with HF accelerate (huggingface/transformers-bloom-inference, README
"Throughput in msecs 8x80GB gpus"). The shipped corrections describe the 2023 vLLM of the Splitwise
measurements, so the prediction must sit between the roofline and the slower engines, near the fused
one. Not data-dependent on the held-out measurements (docs/engines.md, "Held-out check").
"""

from __future__ import annotations

import pytest

from sim.engines import load_model
from sim.engines.hardware import load_hardware
from sim.engines.steptime import EngineProfile, build_profile, kv_bytes_per_token_per_gpu

DS_INFERENCE_BS1_MS = 44.02  # 8 x A100-80GB, fp16, batch 1 (transformers-bloom-inference README)


def _profile(gpu: str, tp: int = 8) -> EngineProfile:
    return build_profile({"model": "bigscience/bloom", "gpu": gpu, "tp": tp}, gpus_requested=None, where="")


def test_bloom_is_full_multi_head_with_a_large_vocabulary() -> None:
    bloom = load_model("bigscience/bloom")
    llama = load_model("meta-llama/Llama-2-70b-hf")
    assert bloom.kv_heads == bloom.heads == 112
    # KV bytes per token: 70 layers x 112 heads x 128 x (K, V) x 2 bytes = 3.83 MiB, 12.25 x Llama-2-70B's
    # 80 x 8 x 128 x 2 x 2 = 320 KiB; per GPU at tp 8 the ratio is the same (14 vs 1 KV heads per GPU)
    assert bloom.kv_bytes_per_token == 70 * 112 * 128 * 2 * 2 == 4_014_080
    assert bloom.kv_bytes_per_token / llama.kv_bytes_per_token == pytest.approx(12.25)
    assert kv_bytes_per_token_per_gpu(bloom, 8) / kv_bytes_per_token_per_gpu(llama, 8) == pytest.approx(12.25)
    assert bloom.vocab == 250_880
    assert bloom.lm_head_flops == pytest.approx(2 * 250_880 * 14_336)


@pytest.mark.parametrize("gpu", ["A100-SXM-80GB", "H100-SXM-80GB"])
def test_bloom_step_times_respect_the_roofline(gpu: str) -> None:
    p = _profile(gpu)
    hw = load_hardware(gpu)
    bloom = p.model
    weights_floor = bloom.weight_bytes / 8 / hw.hbm_bytes_per_s  # every decode step reads the weights
    for batch, context in ((1, 128), (1, 8192), (16, 1024), (64, 576)):
        t = p.decode_step_time(batch, context)
        kv_floor = batch * context * kv_bytes_per_token_per_gpu(bloom, 8) / hw.hbm_bytes_per_s
        assert t >= weights_floor + kv_floor
        assert t <= 3.0 * (weights_floor + kv_floor) + 0.05  # bounded overheads: at most 50 ms on top
    for prompt, batch in ((512, 1), (2048, 1), (512, 16)):
        t = p.prefill_time(prompt, batch)
        flops_floor = bloom.dense_flops_per_token * prompt * batch / (8 * hw.peak_flops)
        assert t >= max(flops_floor, weights_floor)
        assert t <= 4.0 * max(flops_floor, weights_floor) + 0.05


def test_bloom_batch1_decode_on_8_a100_is_near_the_published_figure() -> None:
    t_ms = 1000 * _profile("A100-SXM-80GB").decode_step_time(1, 64)
    assert 0.9 * DS_INFERENCE_BS1_MS <= t_ms <= 1.5 * DS_INFERENCE_BS1_MS


def test_bloom_h100_is_faster_than_a100_by_less_than_the_bandwidth_ratio() -> None:
    a100, h100 = _profile("A100-SXM-80GB"), _profile("H100-SXM-80GB")
    ratio = a100.decode_step_time(1, 1024) / h100.decode_step_time(1, 1024)
    hbm_ratio = (
        load_hardware("H100-SXM-80GB").hbm_bytes_per_s / load_hardware("A100-SXM-80GB").hbm_bytes_per_s
    )
    assert 1.0 < ratio <= hbm_ratio
    assert a100.prefill_time(2048) > h100.prefill_time(2048)


def test_bloom_decode_grows_with_the_mha_kv_reads() -> None:
    """At tp 8 each decode sequence of 8k context reads 8192 x 490 KiB = 3.8 GiB of KV per GPU: the
    step must grow by at least that read at 100% of HBM bandwidth per added sequence."""
    p = _profile("H100-SXM-80GB")
    per_seq = 8192 * kv_bytes_per_token_per_gpu(p.model, 8) / p.gpu.hbm_bytes_per_s
    assert p.decode_step_time(2, 8192) - p.decode_step_time(1, 8192) >= per_seq


def test_single_model_fit_keeps_the_hbm_efficiency_at_or_above_the_floor() -> None:
    """With one model in the data, weight bytes and per-layer costs are collinear; the fit must not
    charge fixed costs to the bytes (which over-predicts a model with more bytes per layer)."""
    from sim.engines.fit import MIN_MEMORY_EFFICIENCY
    from sim.engines.steptime import default_corrections

    shipped = default_corrections()
    for values in (shipped.default, *(v for _, v in shipped.per_gpu)):
        assert values.memory_efficiency >= MIN_MEMORY_EFFICIENCY
