"""EngineProfile: KV capacity derived by hand, build_profile's deep checks, corrections YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from model.engine import EngineBlock
from model.errors import InputError
from sim.engines import build_profile, default_corrections, load_corrections
from sim.engines.steptime import parse_corrections

GIB = 1024**3


def test_llama2_70b_tp4_h100_kv_capacity_by_hand() -> None:
    # per GPU: 80 GiB x 0.9 usable
    usable = 80 * GIB * 0.9
    # weights: 68,976,648,192 parameters x 2 bytes (float16), sharded over 4 GPUs
    weights = 68_976_648_192 * 2 / 4
    # activation reserve per GPU: 8192 batched tokens x (4 x hidden + (64 + 2 x 8) heads x 128 / tp
    # + 2 x 28672 / tp) x 2 bytes, plus float32 logits of 256 sequences x 32000, plus 1 GiB
    reserve = 8192 * (4 * 8192 + 80 * 128 / 4 + 2 * 28672 / 4) * 2 + 256 * 32000 * 4 + GIB
    # KV per token per GPU: 80 layers x (8 / 4) KV heads x 128 x 2 (K, V) x 2 bytes; block of 16
    block_bytes = 16 * 80 * 2 * 128 * 2 * 2
    blocks = int((usable - weights - reserve) // block_bytes)
    assert blocks == 31204
    profile = build_profile(
        {"model": "meta-llama/Llama-2-70b-hf", "gpu": "H100-SXM-80GB", "tp": 4, "gpuMemoryUtilization": 0.9},
        gpus_requested=4,
        where="s.yaml",
    )
    assert profile.kv_blocks == blocks
    assert profile.kv_capacity_tokens == blocks * 16 == 499_264
    assert profile.kv_bytes_per_token == 327_680


def test_build_profile_accepts_the_pydantic_block() -> None:
    block = EngineBlock.model_validate({"model": "meta-llama/Llama-3.1-8B-Instruct", "gpu": "H100-SXM-80GB"})
    profile = build_profile(block, gpus_requested=1, where="s.yaml: engines.decode")
    assert profile.tp == 1 and profile.max_num_seqs == 256 and profile.block_size == 16
    assert 0 < profile.prefill_time(512) < profile.prefill_time(1024)
    assert profile.decode_step_time(8, 600) > profile.decode_step_time(1, 600) > 0


def test_encoder_profile_is_prefill_only() -> None:
    profile = build_profile(
        {"model": "BAAI/bge-large-en-v1.5", "gpu": "L4-24GB", "tp": 1}, gpus_requested=1, where="s"
    )
    assert profile.kv_blocks == 0 and profile.kv_capacity_tokens == 0
    assert profile.step_time(512, 512 * 256, 0, 0) > 0


@pytest.mark.parametrize(
    ("block", "gpus", "needle"),
    [
        ({"model": "meta-llama/Llama-2-70b-hf", "gpu": "H100-SXM-80GB", "tp": 4}, 2, "must equal the role"),
        (
            {"model": "meta-llama/Llama-2-70b-hf", "gpu": "H100-SXM-80GB", "tp": 3},
            None,
            "does not divide the 64",
        ),
        (
            {"model": "meta-llama/Llama-2-70b-hf", "gpu": "H100-SXM-80", "tp": 4},
            None,
            "did you mean 'H100-SXM-80GB'",
        ),
        (
            {"model": "meta-llama/Llama-2-70b-hf", "gpu": "A100-SXM-80GB", "tp": 1},
            None,
            "1 × 80 GiB × 0.9 available",
        ),
        ({"model": "nope/none", "gpu": "A100-SXM-80GB", "tp": 1}, None, "unknown model 'nope/none'"),
        (
            {"model": "meta-llama/Llama-2-7b-hf", "gpu": "L4-24GB", "tpp": 1},
            None,
            "unknown engine field 'tpp'",
        ),
    ],
)
def test_build_profile_bad_input_is_one_line(block: dict[str, object], gpus: int | None, needle: str) -> None:
    with pytest.raises(InputError) as info:
        build_profile(block, gpus_requested=gpus, where="scenario.yaml:7")
    text = str(info.value)
    assert text.startswith("scenario.yaml:7") and needle in text and "\n" not in text


def test_weights_message_names_per_replica_need() -> None:
    with pytest.raises(
        InputError, match=r"needs 128 GiB of weights per replica .* 1 × 80 GiB × 0.9 available"
    ):
        build_profile(
            {"model": "meta-llama/Llama-2-70b-hf", "gpu": "A100-SXM-80GB", "tp": 1},
            gpus_requested=None,
            where="s",
        )


def test_shipped_corrections_round_trip_through_yaml() -> None:
    shipped = default_corrections()
    again = parse_corrections(shipped.to_yaml(), "x.yaml")
    assert again.default == shipped.default
    assert dict(again.per_gpu) == dict(shipped.per_gpu)
    assert {g for g, _ in shipped.per_gpu} == {"A100-SXM-80GB", "H100-SXM-80GB"}
    assert load_corrections(None) is shipped


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("default: {prefill_efficiency: 1.5}", "default.prefill_efficiency: out of range"),
        ("default: {warp_speed: 1}", "unknown correction 'warp_speed'"),
        ("nothing: 1", "not a corrections file"),
    ],
)
def test_bad_corrections(text: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_corrections(text, "c.yaml")


@pytest.mark.parametrize(
    ("model", "gpu", "tp"),
    [
        ("meta-llama/Llama-2-70b-hf", "A100-SXM-80GB", 8),
        ("mistralai/Mixtral-8x7B-v0.1", "H100-SXM-80GB", 2),
        ("BAAI/bge-large-en-v1.5", "L4-24GB", 1),
        ("bigscience/bloom", "H200-SXM-141GB", 4),
    ],
)
def test_fast_step_time_equals_the_feature_form(model: str, gpu: str, tp: int) -> None:
    from sim.engines.steptime import step_features

    profile = build_profile({"model": model, "gpu": gpu, "tp": tp}, gpus_requested=tp, where="s")
    values = profile.corrections.for_gpu(profile.gpu.name)
    coefs = values.coefficients()
    for step in [
        (1, 0, 0, 0, 1),
        (512, 131072, 0, 0, 1),
        (0, 0, 7, 7000, 0),
        (300, 90000, 40, 81920, 2),
        (0, 0, 0, 0, 0),
    ]:
        x = step_features(
            profile.model, profile.gpu, tp, *step, saturation=values.quadratic_saturation_tokens
        )
        want = sum(c * v for c, v in zip(coefs, x, strict=True))
        assert profile.step_time(*step) == pytest.approx(want, rel=1e-12, abs=1e-15)


BAD_BLOCKS = sorted((Path(__file__).parents[1] / "data" / "bad_engines").glob("block_*.yaml"))


@pytest.mark.parametrize("path", BAD_BLOCKS, ids=[p.stem for p in BAD_BLOCKS])
def test_bad_engine_block_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expect = text.splitlines()[0].removeprefix("# expect: ")
    block = yaml.safe_load(text)
    with pytest.raises(InputError) as info:
        build_profile(block, gpus_requested=None, where=path.name, base_dir=path.parent)
    message = str(info.value)
    assert expect in message and "\n" not in message, message
