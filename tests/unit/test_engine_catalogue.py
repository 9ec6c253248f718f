"""Model catalogue truth tables: parameter counts against the published ones (within 2%), KV bytes
per token, family aliases, and bad configs naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.errors import InputError
from sim.engines import catalogue, load_model, spec_from_config
from sim.engines.catalogue import load_config

BAD = Path(__file__).parents[1] / "data" / "bad_engines"


@pytest.mark.parametrize(
    ("model_id", "total_b", "active_b"),
    [
        ("meta-llama/Llama-2-70b-hf", 69.0, 69.0),
        ("bigscience/bloom", 176.0, 176.0),
        ("meta-llama/Llama-3.1-8B-Instruct", 8.0, 8.0),
        ("mistralai/Mixtral-8x7B-v0.1", 46.7, 12.9),
        ("meta-llama/Llama-2-7b-hf", 6.74, 6.74),
        ("Qwen/Qwen2.5-7B-Instruct", 7.61, 7.61),
        ("meta-llama/Llama-3.1-70B-Instruct", 70.6, 70.6),
        ("BAAI/bge-large-en-v1.5", 0.335, 0.335),
    ],
)
def test_parameter_counts_match_published(model_id: str, total_b: float, active_b: float) -> None:
    spec = load_model(model_id)
    assert spec.total_params / 1e9 == pytest.approx(total_b, rel=0.02)
    assert spec.active_params / 1e9 == pytest.approx(active_b, rel=0.02)
    assert spec.weight_bytes == spec.total_params * spec.dtype_bytes


@pytest.mark.parametrize(
    ("model_id", "kv_bytes"),
    [
        ("meta-llama/Llama-2-70b-hf", 80 * 8 * 128 * 2 * 2),  # GQA: 8 KV heads
        ("meta-llama/Llama-2-7b-hf", 32 * 32 * 128 * 2 * 2),  # MHA
        ("mistralai/Mixtral-8x7B-v0.1", 32 * 8 * 128 * 2 * 2),
        ("bigscience/bloom", 70 * 112 * 128 * 2 * 2),
        ("BAAI/bge-large-en-v1.5", 0),  # encoder: no KV cache
    ],
)
def test_kv_bytes_per_token(model_id: str, kv_bytes: int) -> None:
    assert load_model(model_id).kv_bytes_per_token == kv_bytes


def test_flops_per_token() -> None:
    spec = load_model("meta-llama/Llama-2-70b-hf")
    # 2 x parameters that multiply activations: all but the embedding, the LM head and the final norm
    assert spec.dense_flops_per_token == pytest.approx(2 * (spec.total_params - 2 * 32000 * 8192 - 8192))
    assert spec.lm_head_flops == 2 * 32000 * 8192
    assert spec.attention_flops(1000) == 4 * 80 * 64 * 128 * 1000


def test_every_catalogue_entry_loads_and_ids_are_hf_ids() -> None:
    ids = catalogue()
    assert "meta-llama/Llama-2-70b-hf" in ids
    for model_id in ids:
        assert "/" in model_id
        assert load_model(model_id).layers > 0
    assert load_model("META-LLAMA/llama-2-70b-HF").name == "meta-llama/Llama-2-70b-hf"


def test_bloom_reads_aliases_and_defaults() -> None:
    spec = load_model("bigscience/bloom")
    assert (spec.layers, spec.hidden, spec.heads, spec.kv_heads) == (70, 14336, 112, 112)
    assert spec.intermediate == 4 * 14336 and not spec.gated_mlp
    assert spec.position == "alibi" and spec.tie_word_embeddings and spec.dtype_bytes == 2


def test_falcon_multi_query_and_gpt2_aliases() -> None:
    falcon = spec_from_config(load_config(BAD / "falcon_aliases.json"))
    assert falcon.kv_heads == 1 and falcon.intermediate == 4 * 4544
    assert falcon.total_params / 1e9 == pytest.approx(6.92, rel=0.02)
    gpt2 = spec_from_config(load_config(BAD / "gpt2_aliases.json"))
    assert gpt2.total_params / 1e6 == pytest.approx(124.4, rel=0.02)
    assert gpt2.position == "learned"


def test_moe_aliases() -> None:
    base = load_config(
        Path(__file__).parents[2] / "sim" / "engines" / "data" / "models" / "mixtral-8x7b-v0.1.json"
    )
    alias = {k: v for k, v in base.items() if k != "num_local_experts"} | {"num_experts": 8}
    assert spec_from_config(alias).active_params == load_model("mistralai/Mixtral-8x7B-v0.1").active_params


def test_encoder_is_bert_class() -> None:
    spec = load_model("BAAI/bge-large-en-v1.5")
    assert spec.encoder and spec.lm_head_flops == 0 and spec.kv_bytes_per_token == 0


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("unknown_family.json", "model_type: unknown model family 'llamma' (did you mean 'llama'?)"),
        ("missing_layers.json", "num_hidden_layers: missing field"),
        ("bad_heads_type.json", "n_head: must be an integer"),
        ("not_json.json", "not valid JSON"),
    ],
)
def test_bad_configs_name_file_and_field(name: str, needle: str) -> None:
    path = BAD / name
    with pytest.raises(InputError) as info:
        spec_from_config(load_config(path, source=name), source=name)
    text = str(info.value)
    assert text.startswith(name) and needle in text and "\n" not in text


def test_unknown_model_id_suggests() -> None:
    with pytest.raises(InputError, match="did you mean 'meta-llama/Llama-2-70b-hf'"):
        load_model("meta-llama/Llama-2-70b")


def test_misspelled_field_is_pointed_out() -> None:
    config = {
        "model_type": "llama",
        "hidden_size": 4096,
        "num_hidden_layer": 32,
        "num_attention_heads": 32,
        "intermediate_size": 11008,
        "vocab_size": 32000,
    }
    with pytest.raises(InputError, match="is 'num_hidden_layer' a misspelling"):
        spec_from_config(config, source="c.json")
