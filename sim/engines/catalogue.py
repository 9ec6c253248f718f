"""Model catalogue: a `ModelSpec` read from a Hugging Face `config.json`.

The spec is the architecture arithmetic an engine model needs: parameter counts (total and
active per token), weight bytes, FLOPs per token (dense, and attention as a function of context)
and KV-cache bytes per token. It reads the key aliases of the common families:

- Llama / Mistral / Qwen (`num_hidden_layers`, `hidden_size`, `num_attention_heads`,
  `num_key_value_heads`, gated SiLU MLP with `intermediate_size`);
- BLOOM / GPT-2 / Falcon (`n_layer`, `n_head`, `n_embed` / `n_embd`, `num_kv_heads`, `multi_query`,
  `n_inner`; a non-gated GELU MLP of 4 x hidden when no intermediate size is given; biases;
  ALiBi or learned positions);
- Mixtral-style MoE (`num_local_experts` / `num_experts` / `n_routed_experts`, `num_experts_per_tok`);
- BERT-class encoders (`model_type: bert`/`roberta`/`xlm-roberta`) for embedding roles.

Catalogue ids are Hugging Face ids (`meta-llama/Llama-2-70b-hf`); the configs ship in
`sim/engines/data/models/` (see its README for sources). Counting follows the module shapes of the
Hugging Face `transformers` implementations (modeling_llama.py, modeling_bloom.py,
modeling_falcon.py, modeling_gpt2.py, modeling_mixtral.py, modeling_bert.py); re-expressed here.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from model.errors import InputError

# model_type -> family. A family fixes the defaults a config may leave out.
_FAMILIES: dict[str, str] = {
    "llama": "llama",
    "mistral": "llama",
    "mixtral": "llama",
    "qwen2": "llama",
    "qwen2_moe": "llama",
    "qwen3": "llama",
    "qwen3_moe": "llama",
    "bloom": "bloom",
    "gpt2": "gpt2",
    "falcon": "falcon",
    "RefinedWeb": "falcon",
    "RefinedWebModel": "falcon",
    "bert": "bert",
    "roberta": "bert",
    "xlm-roberta": "bert",
}
# architecture class prefix -> model_type, for configs without `model_type`
_ARCH_PREFIX: dict[str, str] = {
    "Llama": "llama",
    "Mistral": "mistral",
    "Mixtral": "mixtral",
    "Qwen2Moe": "qwen2_moe",
    "Qwen2": "qwen2",
    "Qwen3Moe": "qwen3_moe",
    "Qwen3": "qwen3",
    "Bloom": "bloom",
    "GPT2": "gpt2",
    "Falcon": "falcon",
    "RW": "falcon",
    "XLMRoberta": "xlm-roberta",
    "Roberta": "roberta",
    "Bert": "bert",
}
KNOWN_MODEL_TYPES = tuple(sorted(_FAMILIES))

# serving dtype bytes: vLLM's dtype "auto" serves float32 checkpoints in 16 bit
_DTYPE_BYTES: dict[str, int] = {
    "float16": 2,
    "bfloat16": 2,
    "half": 2,
    "float32": 2,
    "float": 2,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "fp8": 1,
    "int8": 1,
}


@dataclass(frozen=True)
class ModelSpec:
    """The architecture of one model, as the engine models need it (all counts are whole-model)."""

    name: str
    model_type: str
    family: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    gated_mlp: bool
    num_experts: int  # 1 for dense models
    experts_per_token: int  # 1 for dense models
    dtype_bytes: int
    tie_word_embeddings: bool
    encoder: bool  # BERT-class: no KV cache, no decode, no LM head
    bias: bool
    position: str  # "rope", "alibi", "learned"
    max_positions: int

    # ------------------------------------------------------------------ parameter counts

    @cached_property
    def embedding_params(self) -> int:
        """Token (and learned position / token-type) embeddings: looked up, not multiplied."""
        count = self.vocab * self.hidden
        if self.position == "learned":
            count += self.max_positions * self.hidden
        if self.encoder:
            count += 2 * self.hidden  # token-type embeddings (BERT type_vocab_size 2)
        return count

    @cached_property
    def attention_params_per_layer(self) -> int:
        q = self.hidden * self.heads * self.head_dim
        kv = 2 * self.hidden * self.kv_heads * self.head_dim
        o = self.heads * self.head_dim * self.hidden
        bias = (self.heads + 2 * self.kv_heads) * self.head_dim + self.hidden if self.bias else 0
        return q + kv + o + bias

    @cached_property
    def expert_params(self) -> int:
        """One MLP (one expert for MoE)."""
        mats = 3 if self.gated_mlp else 2
        bias = (self.intermediate + self.hidden) if self.bias else 0
        return mats * self.hidden * self.intermediate + bias

    @cached_property
    def norm_params_per_layer(self) -> int:
        # two norms per layer; LayerNorm has a bias, RMSNorm does not
        return 2 * self.hidden * (2 if self.family != "llama" else 1)

    @cached_property
    def router_params_per_layer(self) -> int:
        return self.hidden * self.num_experts if self.num_experts > 1 else 0

    @cached_property
    def lm_head_params(self) -> int:
        if self.encoder or self.tie_word_embeddings:
            return 0
        return self.vocab * self.hidden

    @cached_property
    def _extra_params(self) -> int:
        """Final norm, BLOOM's embedding LayerNorm, BERT's embedding LayerNorm and pooler."""
        norm = self.hidden * (2 if self.family != "llama" else 1)
        if self.family == "bloom" or self.encoder:
            norm += 2 * self.hidden
        if self.encoder:
            norm += self.hidden * self.hidden + self.hidden  # pooler
        return norm

    @cached_property
    def total_params(self) -> int:
        per_layer = (
            self.attention_params_per_layer
            + self.num_experts * self.expert_params
            + self.router_params_per_layer
            + self.norm_params_per_layer
        )
        return self.layers * per_layer + self.embedding_params + self.lm_head_params + self._extra_params

    @cached_property
    def active_params(self) -> int:
        """Parameters touched per token: all but the experts a token is not routed to."""
        inactive = self.layers * (self.num_experts - self.experts_per_token) * self.expert_params
        return self.total_params - inactive

    @cached_property
    def weight_bytes(self) -> int:
        return self.total_params * self.dtype_bytes

    # ------------------------------------------------------------------ FLOPs and bytes

    @cached_property
    def dense_flops_per_token(self) -> float:
        """2 x active parameters that multiply a token's activations, excluding the embedding lookup
        and the LM head (the head runs once per sequence that samples: see `lm_head_flops`)."""
        multiplied = self.active_params - self.embedding_params - self.lm_head_params - self._extra_params
        return 2.0 * multiplied

    @cached_property
    def lm_head_flops(self) -> float:
        """FLOPs of the LM head for one sampled token (0 for an encoder)."""
        return 0.0 if self.encoder else 2.0 * self.vocab * self.hidden

    def attention_flops(self, context_tokens: float) -> float:
        """FLOPs of QK^T and AV for one query token attending to `context_tokens` keys (all layers)."""
        return 4.0 * self.layers * self.heads * self.head_dim * context_tokens

    @cached_property
    def kv_bytes_per_token(self) -> int:
        """KV cache per token: layers x KV heads x head dim x 2 (K and V) x dtype bytes (0 for encoders)."""
        if self.encoder:
            return 0
        return self.layers * self.kv_heads * self.head_dim * 2 * self.dtype_bytes

    @cached_property
    def allreduce_bytes_per_token(self) -> int:
        """Bytes of activations all-reduced per token per layer under tensor parallelism (one hidden
        vector after attention and one after the MLP)."""
        return 2 * self.hidden * self.dtype_bytes


# --------------------------------------------------------------------------- reading configs


class _Reader:
    """Reads fields with aliases from one config dict; every error names the file and the field."""

    def __init__(self, data: dict[str, Any], source: str | None) -> None:
        self.data = data
        self.source = source

    def error(self, field: str, message: str, value: object = None, allowed: str = "") -> InputError:
        return InputError(message, file=self.source, path=field, value=value, allowed=allowed)

    def has(self, *keys: str) -> bool:
        return any(self.data.get(k) is not None for k in keys)

    def int_field(self, *keys: str, default: int | None = None, minimum: int = 1) -> int:
        for key in keys:
            value = self.data.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(key, f"must be an integer, got {value!r}", value, f"an integer >= {minimum}")
            if value < minimum:
                raise self.error(key, f"must be >= {minimum}, got {value}", value)
            return value
        if default is None:
            names = " / ".join(f"`{k}`" for k in keys)
            near = [
                k
                for k in sorted(self.data)
                if any(difflib.SequenceMatcher(None, k, want).ratio() >= 0.85 for want in keys)
            ]
            hint = f" (is {near[0]!r} a misspelling?)" if near else ""
            raise self.error(keys[0], f"missing field: the config gives none of {names}{hint}")
        return default

    def bool_field(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}", value)
        return value


def _model_type(reader: _Reader) -> str:
    value = reader.data.get("model_type")
    if value is None:
        archs = reader.data.get("architectures")
        if isinstance(archs, list) and archs and isinstance(archs[0], str):
            for prefix, mt in _ARCH_PREFIX.items():
                if archs[0].startswith(prefix):
                    return mt
            raise reader.error(
                "architectures",
                f"unknown model family {archs[0]!r}",
                archs[0],
                "model_type one of " + ", ".join(KNOWN_MODEL_TYPES),
            )
        raise reader.error(
            "model_type", "missing field: the config gives neither `model_type` nor `architectures`"
        )
    if not isinstance(value, str) or value not in _FAMILIES:
        near = difflib.get_close_matches(str(value), KNOWN_MODEL_TYPES, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise reader.error(
            "model_type", f"unknown model family {value!r}{hint}", value, ", ".join(KNOWN_MODEL_TYPES)
        )
    return value


def spec_from_config(config: dict[str, Any], *, name: str = "", source: str | None = None) -> ModelSpec:
    """A `ModelSpec` from a parsed config.json; `source` (a file name) is used in error messages."""
    if not isinstance(config, dict):
        raise InputError("a model config must be a JSON object", file=source)
    r = _Reader(config, source)
    model_type = _model_type(r)
    family = _FAMILIES[model_type]
    layers = r.int_field("num_hidden_layers", "n_layer", "num_layers")
    hidden = r.int_field("hidden_size", "n_embed", "n_embd", "d_model")
    heads = r.int_field("num_attention_heads", "n_head", "num_heads")
    if hidden % heads and not r.has("head_dim"):
        raise r.error("num_attention_heads", f"{heads} heads do not divide hidden size {hidden}", heads)
    head_dim = r.int_field("head_dim", default=hidden // heads)
    if r.has("num_key_value_heads", "num_kv_heads", "n_head_kv"):
        kv_heads = r.int_field("num_key_value_heads", "num_kv_heads", "n_head_kv")
    elif r.bool_field("multi_query", False) and not r.bool_field("new_decoder_architecture", False):
        kv_heads = 1
    else:
        kv_heads = heads
    if heads % kv_heads:
        raise r.error("num_key_value_heads", f"{kv_heads} KV heads do not divide {heads} heads", kv_heads)
    gated = family == "llama"
    if r.has("intermediate_size", "n_inner", "ffn_hidden_size"):
        intermediate = r.int_field("intermediate_size", "n_inner", "ffn_hidden_size")
    elif gated:
        raise r.error("intermediate_size", "missing field: a gated-MLP (Llama-family) config needs it")
    else:
        intermediate = 4 * hidden
    vocab = r.int_field("vocab_size", "n_vocab", "padded_vocab_size")
    experts = r.int_field("num_local_experts", "num_experts", "n_routed_experts", default=1)
    per_tok = r.int_field("num_experts_per_tok", "top_k", "moe_topk", default=2 if experts > 1 else 1)
    if experts > 1 and r.has("moe_intermediate_size"):
        intermediate = r.int_field("moe_intermediate_size")
    if per_tok > experts:
        raise r.error(
            "num_experts_per_tok", f"{per_tok} experts per token but only {experts} experts", per_tok
        )
    dtype_name = config.get("torch_dtype", config.get("dtype", "bfloat16"))
    if dtype_name is None:
        dtype_name = "bfloat16"
    if not isinstance(dtype_name, str) or dtype_name not in _DTYPE_BYTES:
        raise r.error(
            "torch_dtype", f"unknown dtype {dtype_name!r}", dtype_name, ", ".join(sorted(_DTYPE_BYTES))
        )
    encoder = family == "bert"
    tie_default = family in ("bloom", "gpt2", "falcon", "bert")
    tie = r.bool_field("tie_word_embeddings", tie_default)
    if family == "llama":
        bias = False  # (Qwen2's q/k/v biases are < 0.01% of its parameters: left out)
    elif family == "falcon":
        bias = r.bool_field("bias", False)
    else:
        bias = True
    if family in ("gpt2", "bert"):
        position = "learned"
    elif family == "bloom" or (family == "falcon" and r.bool_field("alibi", False)):
        position = "alibi"
    else:
        position = "rope"
    max_pos = r.int_field("max_position_embeddings", "n_positions", "seq_length", default=2048)
    spec = ModelSpec(
        name=name or str(config.get("_name_or_path", "") or model_type),
        model_type=model_type,
        family=family,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        gated_mlp=gated,
        num_experts=experts,
        experts_per_token=per_tok,
        dtype_bytes=_DTYPE_BYTES[dtype_name],
        tie_word_embeddings=tie,
        encoder=encoder,
        bias=bias,
        position=position,
        max_positions=max_pos,
    )
    return spec


# --------------------------------------------------------------------------- the catalogue


def _data_dir() -> Path:
    return Path(str(resources.files("sim.engines") / "data"))


def catalogue() -> dict[str, str]:
    """Hugging Face id -> shipped config file name."""
    index = json.loads((_data_dir() / "models" / "index.json").read_text())
    return {k: v for k, v in sorted(index.items()) if not k.startswith("_")}


def load_config(path: Path, *, source: str | None = None) -> dict[str, Any]:
    """Parse a config.json file; unreadable or malformed files are InputErrors."""
    label = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("model config file not found", file=label) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read model config: {exc.__class__.__name__}", file=label) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=label, line=exc.lineno) from None
    if not isinstance(data, dict):
        raise InputError("a model config must be a JSON object", file=label)
    return data


def load_model(id_or_path: str | Path | dict[str, Any], *, base_dir: Path | None = None) -> ModelSpec:
    """A `ModelSpec` from a catalogue id (`meta-llama/Llama-2-70b-hf`), a config.json path
    (relative to `base_dir` when given) or an already parsed config dict."""
    if isinstance(id_or_path, dict):
        return spec_from_config(id_or_path)
    text = str(id_or_path)
    ids = catalogue()
    lowered = {k.lower(): k for k in ids}
    if isinstance(id_or_path, str) and text.lower() in lowered:
        key = lowered[text.lower()]
        path = _data_dir() / "models" / ids[key]
        return spec_from_config(load_config(path, source=key), name=key, source=key)
    path = Path(text)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.suffix == ".json" or path.exists() or "/" not in text.strip("/") or text.startswith((".", "/")):
        if path.is_dir():
            path = path / "config.json"
        if path.exists():
            return spec_from_config(load_config(path, source=text), name=text, source=text)
    near = difflib.get_close_matches(text, list(ids), n=1, cutoff=0.5)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise InputError(
        f"unknown model {text!r}{hint}: neither a catalogue id nor an existing config.json",
        value=text,
        allowed="a path to a config.json or one of " + ", ".join(ids),
    )
