"""Step-time model of one engine iteration, and the `EngineProfile` a load-layer engine runs on.

Form (see docs/engines.md for the derivation): the time of one iteration is a sum of physical
terms, each a roofline quantity divided by the share of the hardware the engine actually gets,
plus fixed overheads:

    t = F_pf / (tp·peak·e_prefill)            dense GEMMs of the prompt tokens
      + F_attn / (tp·peak·e_attention)        prefill attention (QK^T, AV)
      + F_dec / (tp·peak·e_decode)            dense GEMMs + LM head of the decode tokens
      + B_mem / (hbm·e_memory)                weights (per GPU) + KV read and written (per GPU)
      + V_ar / (link/2·e_link)                tensor-parallel ring all-reduce volume per GPU
      + 2·L·log2(tp)·(600 GB/s / link)·lat    all-reduce latency, two per layer
      + L·layer_overhead + step_overhead      kernel launches / framework per step
      + D·seq_overhead + S_p·prefill_seq_ovh  per-sequence bookkeeping and sampling
      + F_attn(P·min(P, S)/2) / (peak·e_quad) step-wide quadratic (empirical, unsharded)

Every term is linear in one correction (the saturation S is chosen by the fit from a grid), so `t = Σ c_i · x_i` with the features `x_i` computed
from the model, the GPU and the step composition (`step_features`) and the coefficients `c_i`
(1/efficiency or seconds) from `Corrections`. All features and coefficients are non-negative and
every feature is non-decreasing in every argument, so the step time is monotone by construction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from model.errors import InputError
from sim.engines.catalogue import ModelSpec, load_model
from sim.engines.hardware import GIB, Hardware, load_hardware

# --------------------------------------------------------------------------- corrections

# `allreduce_latency_s` is the latency of one all-reduce step on a link of this bandwidth (NVLink3,
# A100); on another GPU it scales inversely with the link bandwidth (measured: A100 vs H100 fits gave
# 69 vs 47 µs, the 1.5 ratio of their NVLink bandwidths)
REFERENCE_LINK_BYTES_PER_S = 600e9

# feature order; `Corrections.coefficients()` returns the matching coefficient vector
FEATURES: tuple[str, ...] = (
    "prefill_compute",
    "attention_compute",
    "decode_compute",
    "memory",
    "link",
    "allreduce_latency",
    "layer_overhead",
    "step_overhead",
    "seq_overhead",
    "prefill_seq_overhead",
    "step_quadratic",
)
# features whose coefficient is 1/efficiency (efficiency in (0, 1] means coefficient >= 1)
EFFICIENCY_FEATURES = frozenset(
    {"prefill_compute", "attention_compute", "decode_compute", "memory", "link", "step_quadratic"}
)
_EFF_NAME = {
    "prefill_compute": "prefill_efficiency",
    "attention_compute": "attention_efficiency",
    "decode_compute": "decode_efficiency",
    "memory": "memory_efficiency",
    "link": "link_efficiency",
    "allreduce_latency": "allreduce_latency_s",
    "layer_overhead": "layer_overhead_s",
    "step_overhead": "step_overhead_s",
    "seq_overhead": "seq_overhead_s",
    "prefill_seq_overhead": "prefill_seq_overhead_s",
    "step_quadratic": "step_quadratic_efficiency",
}


@dataclass(frozen=True)
class CorrectionValues:
    """Fitted physical corrections: efficiencies are fractions of the roofline peak, overheads seconds."""

    prefill_efficiency: float = 0.55
    attention_efficiency: float = 0.3
    decode_efficiency: float = 0.1
    memory_efficiency: float = 0.8
    link_efficiency: float = 0.5
    allreduce_latency_s: float = 20e-6
    layer_overhead_s: float = 250e-6
    step_overhead_s: float = 0.0
    seq_overhead_s: float = 100e-6
    prefill_seq_overhead_s: float = 0.0
    step_quadratic_efficiency: float = 1.0
    quadratic_saturation_tokens: float = 8192.0
    """The step-wide quadratic term grows as P x min(P, this) (saturates: linear beyond it)."""

    def coefficients(self) -> list[float]:
        out = []
        for name in FEATURES:
            value = float(getattr(self, _EFF_NAME[name]))
            out.append(1.0 / value if name in EFFICIENCY_FEATURES else value)
        return out

    @classmethod
    def from_coefficients(cls, coefs: list[float], saturation: float = 8192.0) -> CorrectionValues:
        kwargs: dict[str, float] = {"quadratic_saturation_tokens": float(saturation)}
        for name, c in zip(FEATURES, coefs, strict=True):
            if name in EFFICIENCY_FEATURES:
                kwargs[_EFF_NAME[name]] = float(1.0 / c) if c > 0 else 1.0
            else:
                kwargs[_EFF_NAME[name]] = float(c)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, float]:
        return {f.name: float(_round(getattr(self, f.name))) for f in fields(self)}


def _round(value: float) -> float:
    return float(f"{value:.6g}")


@dataclass(frozen=True)
class Corrections:
    """Model-independent corrections: `default` values plus optional per-GPU values (a GPU the fit
    saw gets its own; any other GPU gets `default`)."""

    default: CorrectionValues = field(default_factory=CorrectionValues)
    per_gpu: tuple[tuple[str, CorrectionValues], ...] = ()
    source: str = "built-in"
    fitted_on: str = ""

    def for_gpu(self, gpu: str) -> CorrectionValues:
        for name, values in self.per_gpu:
            if name == gpu:
                return values
        return self.default

    def to_yaml(self) -> str:
        doc: dict[str, Any] = {
            "apiVersion": "dsim/v1",
            "kind": "EngineCorrections",
            "fittedOn": self.fitted_on,
            "default": self.default.to_dict(),
        }
        if self.per_gpu:
            doc["perGpu"] = {name: values.to_dict() for name, values in self.per_gpu}
        header = (
            "# Step-time corrections (sim/engines/steptime.py; docs/engines.md).\n"
            "# Efficiencies are fractions of the roofline peak (FLOPs, HBM, link); *_s are seconds.\n"
        )
        return header + yaml.safe_dump(doc, sort_keys=False)


_VALUE_NAMES = tuple(f.name for f in fields(CorrectionValues))


def _values_from(raw: object, where: str, path: str) -> CorrectionValues:
    if not isinstance(raw, dict):
        raise InputError("must be a mapping of correction names to numbers", file=where, path=path)
    kwargs: dict[str, float] = {}
    for key, value in raw.items():
        if key not in _VALUE_NAMES:
            raise InputError(
                f"unknown correction {key!r}",
                file=where,
                path=f"{path}.{key}",
                allowed=", ".join(_VALUE_NAMES),
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InputError(f"must be a number, got {value!r}", file=where, path=f"{path}.{key}")
        if key == "quadratic_saturation_tokens" and value < 1:
            raise InputError(
                f"out of range: {value!r}", file=where, path=f"{path}.{key}", allowed=">= 1 tokens"
            )
        if value < 0 or (key.endswith("_efficiency") and not 0 < value <= 1):
            allowed = "0 < efficiency <= 1" if key.endswith("_efficiency") else ">= 0 seconds"
            raise InputError(f"out of range: {value!r}", file=where, path=f"{path}.{key}", allowed=allowed)
        kwargs[key] = float(value)
    return CorrectionValues(**kwargs)


def load_corrections(path: str | Path | None = None) -> Corrections:
    """Corrections from a YAML file written by `dsim calibrate fit` (None: the shipped ones)."""
    if path is None:
        return default_corrections()
    p = Path(path)
    where = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("corrections file not found", file=where) from None
    except (OSError, UnicodeDecodeError):
        raise InputError("cannot read corrections file", file=where) from None
    return parse_corrections(text, where)


def parse_corrections(text: str, where: str) -> Corrections:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError("not valid YAML", file=where, line=None if line is None else line + 1) from None
    if not isinstance(raw, dict) or "default" not in raw:
        raise InputError("not a corrections file: expected a mapping with `default:`", file=where)
    for key in raw:
        if key not in ("apiVersion", "kind", "fittedOn", "default", "perGpu"):
            raise InputError(
                f"unknown field {key!r}",
                file=where,
                path=str(key),
                allowed="apiVersion, kind, fittedOn, default, perGpu",
            )
    default = _values_from(raw["default"], where, "default")
    per_gpu: list[tuple[str, CorrectionValues]] = []
    per = raw.get("perGpu") or {}
    if not isinstance(per, dict):
        raise InputError("must be a mapping of GPU name to corrections", file=where, path="perGpu")
    for name in sorted(per):
        per_gpu.append((str(name), _values_from(per[name], where, f"perGpu.{name}")))
    return Corrections(default, tuple(per_gpu), source=where, fitted_on=str(raw.get("fittedOn", "")))


@cache
def default_corrections() -> Corrections:
    """The shipped corrections (fitted on Llama-2-70B, A100 and H100; see docs/engines.md)."""
    path = Path(str(resources.files("sim.engines") / "data" / "corrections.yaml"))
    if not path.exists():
        return Corrections()
    return parse_corrections(path.read_text(), "sim/engines/data/corrections.yaml")


# --------------------------------------------------------------------------- features


def _kv_heads_per_gpu(model: ModelSpec, tp: int) -> float:
    # vLLM shards KV heads across TP ranks and replicates them when tp > kv heads
    return max(model.kv_heads / tp, 1.0)


def kv_bytes_per_token_per_gpu(model: ModelSpec, tp: int) -> float:
    if model.encoder:
        return 0.0
    return model.layers * _kv_heads_per_gpu(model, tp) * model.head_dim * 2 * model.dtype_bytes


def _weight_bytes_read_per_gpu(model: ModelSpec, tp: int, tokens: int) -> float:
    """Weights read in one step per GPU: all but the embedding table, which is only gathered from
    (unless it is tied to the LM head, which reads it whole). For MoE, only the experts some token is
    routed to (uniform routing: each expert is idle with probability (1 - k/E)^tokens)."""
    total = float(model.weight_bytes)
    if model.encoder or not model.tie_word_embeddings:
        total -= model.embedding_params * model.dtype_bytes
    if model.num_experts > 1:
        expert_bytes = model.layers * model.num_experts * model.expert_params * model.dtype_bytes
        touched = 1.0 - (1.0 - model.experts_per_token / model.num_experts) ** max(tokens, 0)
        total = total - expert_bytes + expert_bytes * touched
    return total / tp


def step_features(
    model: ModelSpec,
    gpu: Hardware,
    tp: int,
    prefill_tokens: float,
    prefill_attn_tokens: float,
    decode_seqs: float,
    decode_context_tokens: float,
    prefill_seqs: float = 0.0,
    saturation: float = 8192.0,
) -> list[float]:
    """The feature vector x of one step (ordered as FEATURES); the step time is c · x. `saturation`
    is `CorrectionValues.quadratic_saturation_tokens`."""
    tokens = prefill_tokens + decode_seqs
    if tokens <= 0:
        return [0.0] * len(FEATURES)
    flops_rate = tp * gpu.peak_flops
    attn_tokens = prefill_attn_tokens * (2.0 if model.encoder else 1.0)  # encoders attend both ways
    f_pf = model.dense_flops_per_token * prefill_tokens / flops_rate
    f_attn = model.attention_flops(attn_tokens) / flops_rate
    f_dec = (model.dense_flops_per_token + model.lm_head_flops) * decode_seqs / flops_rate
    kv_tok = kv_bytes_per_token_per_gpu(model, tp)
    mem_bytes = (
        _weight_bytes_read_per_gpu(model, tp, math.ceil(tokens))
        + kv_tok * (decode_context_tokens + tokens)  # read the cached context, write the new tokens
    )
    f_mem = mem_bytes / gpu.hbm_bytes_per_s
    if tp > 1:
        volume = model.layers * model.allreduce_bytes_per_token * tokens * 2 * (tp - 1) / tp
        f_link = volume / (gpu.link_bytes_per_s / 2)
        f_lat = 2 * model.layers * math.log2(tp) * REFERENCE_LINK_BYTES_PER_S / gpu.link_bytes_per_s
    else:
        f_link = 0.0
        f_lat = 0.0
    return [
        f_pf,
        f_attn,
        f_dec,
        f_mem,
        f_link,
        f_lat,
        float(model.layers),
        1.0,
        float(decode_seqs),
        float(prefill_seqs),
        model.attention_flops(prefill_tokens * min(prefill_tokens, saturation) / 2)
        / gpu.peak_flops,  # unsharded
    ]


# --------------------------------------------------------------------------- the profile


@dataclass(frozen=True)
class EngineProfile:
    """Everything the load layer needs to run one role's engine."""

    model: ModelSpec
    gpu: Hardware
    tp: int
    max_num_seqs: int
    max_num_batched_tokens: int
    gpu_memory_utilization: float
    block_size: int
    corrections: Corrections
    kv_bytes_per_token: int  # whole model (all TP ranks together)
    kv_blocks: int
    kv_capacity_tokens: int  # = kv_blocks * block_size
    activation_reserve_bytes: int = 0  # per GPU
    _kernel: _StepKernel = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_kernel",
            _StepKernel.build(self.model, self.gpu, self.tp, self.corrections.for_gpu(self.gpu.name)),
        )

    def step_time(
        self,
        prefill_tokens: int,
        prefill_attn_tokens: int,
        decode_seqs: int,
        decode_context_tokens: int,
        prefill_seqs: int = 0,
    ) -> float:
        """Seconds for one iteration: `prefill_tokens` new prompt tokens (sum of chunks) whose
        attention covers `prefill_attn_tokens` (sum over chunks of chunk_len x (cached + chunk_len/2):
        the keys each new query token sees, causal), plus `decode_seqs` decode sequences reading
        `decode_context_tokens` KV tokens in total. `prefill_seqs` (optional) is the number of
        sequences the prompt chunks belong to (per-sequence overhead). For an encoder pass the same
        causal form: bidirectional attention is accounted internally. Monotone non-decreasing in
        every argument; 0 for an empty step."""
        k = self._kernel
        tokens = prefill_tokens + decode_seqs
        if tokens <= 0:
            return 0.0
        t = (
            k.const
            + k.per_prefill_token * prefill_tokens
            + k.per_attn_token * prefill_attn_tokens
            + k.per_decode_seq * decode_seqs
            + k.per_context_token * decode_context_tokens
            + k.per_token * tokens
            + k.per_prefill_seq * prefill_seqs
            + k.per_prefill_token_sq * prefill_tokens * min(prefill_tokens, k.saturation)
        )
        if k.expert_read:  # MoE: the experts some token is routed to
            t += k.expert_read * (1.0 - k.expert_idle ** math.ceil(tokens))
        return float(t)

    def prefill_time(self, prompt_tokens: int, batch: int = 1) -> float:
        """Seconds to prefill `batch` prompts of `prompt_tokens` each in one step (no cached prefix)."""
        attn = batch * prompt_tokens * prompt_tokens / 2
        return self.step_time(batch * prompt_tokens, int(attn), 0, 0, prefill_seqs=batch)

    def decode_step_time(self, batch: int, mean_context: float) -> float:
        """Seconds of one decode iteration of `batch` sequences whose KV context averages `mean_context`."""
        return self.step_time(0, 0, batch, round(batch * mean_context))

    def kv_transfer_bytes(self, tokens: int) -> int:
        """Bytes of KV cache for `tokens` tokens (what a prefill->decode handover moves)."""
        return self.kv_bytes_per_token * tokens


@dataclass(frozen=True)
class _StepKernel:
    """`step_features` · coefficients folded into per-argument constants, so that `step_time` costs a
    few multiplications (the load layer calls it for every iteration). Equal to the feature form
    (tests/unit/test_engine_profile.py checks it)."""

    const: float
    per_prefill_token: float
    per_attn_token: float
    per_decode_seq: float
    per_context_token: float
    per_token: float
    per_prefill_seq: float
    per_prefill_token_sq: float
    expert_read: float
    expert_idle: float
    saturation: float

    @classmethod
    def build(cls, model: ModelSpec, gpu: Hardware, tp: int, values: CorrectionValues) -> _StepKernel:
        c = dict(zip(FEATURES, values.coefficients(), strict=True))
        flops_rate = tp * gpu.peak_flops
        attn_per_key = model.attention_flops(1.0) * (2.0 if model.encoder else 1.0)
        kv_tok = kv_bytes_per_token_per_gpu(model, tp)
        mem = c["memory"] / gpu.hbm_bytes_per_s
        weights = _weight_bytes_read_per_gpu(model, tp, 0)  # dense part (no expert routed yet)
        expert_read = 0.0
        expert_idle = 1.0
        if model.num_experts > 1:
            expert_read = _weight_bytes_read_per_gpu(model, tp, 1 << 30) - weights  # all experts touched
            expert_idle = 1.0 - model.experts_per_token / model.num_experts
        link = latency = 0.0
        if tp > 1:
            link = (
                model.layers
                * model.allreduce_bytes_per_token
                * 2
                * (tp - 1)
                / tp
                / (gpu.link_bytes_per_s / 2)
            )
            latency = 2 * model.layers * math.log2(tp) * REFERENCE_LINK_BYTES_PER_S / gpu.link_bytes_per_s
        return cls(
            const=mem * weights
            + c["allreduce_latency"] * latency
            + c["layer_overhead"] * model.layers
            + c["step_overhead"],
            per_prefill_token=c["prefill_compute"] * model.dense_flops_per_token / flops_rate,
            per_attn_token=c["attention_compute"] * attn_per_key / flops_rate,
            per_decode_seq=c["decode_compute"]
            * (model.dense_flops_per_token + model.lm_head_flops)
            / flops_rate
            + c["seq_overhead"],
            per_context_token=mem * kv_tok,
            per_token=mem * kv_tok + c["link"] * link,
            per_prefill_seq=c["prefill_seq_overhead"],
            per_prefill_token_sq=c["step_quadratic"] * model.attention_flops(0.5) / gpu.peak_flops,
            expert_read=mem * expert_read,
            expert_idle=expert_idle,
            saturation=values.quadratic_saturation_tokens,
        )


def activation_reserve_bytes(
    model: ModelSpec, tp: int, max_num_batched_tokens: int, max_num_seqs: int
) -> int:
    """Per-GPU memory kept for activations: the peak live tensors of one forward pass over
    `max_num_batched_tokens` tokens (residual + norm + attention output ~ 4 x hidden, q/k/v and the
    MLP's up/gate projections sharded by tp), float32 logits of `max_num_seqs` sequences, and a fixed
    1 GiB for the CUDA context, graphs and allocator slack. (vLLM measures this with a profiling
    forward pass; this is its analytic stand-in.)"""
    per_token = (
        4 * model.hidden
        + (model.heads + 2 * model.kv_heads) * model.head_dim / tp
        + (2 if model.gated_mlp else 1) * model.intermediate * model.experts_per_token / tp
    ) * model.dtype_bytes
    logits = 0 if model.encoder else max_num_seqs * model.vocab * 4
    return int(max_num_batched_tokens * per_token + logits + GIB)


def check_tp(model: ModelSpec, tp: int, *, where: str = "", field: str = "tp") -> None:
    if tp < 1:
        raise InputError(f"tp must be >= 1, got {tp}", file=where or None, path=field, value=tp)
    if model.heads % tp:
        raise InputError(
            f"tp {tp} does not divide the {model.heads} attention heads of {model.name}",
            file=where or None,
            path=field,
            value=tp,
            allowed="a divisor of " + str(model.heads),
        )
    if model.kv_heads % tp and tp % model.kv_heads:
        raise InputError(
            f"tp {tp} neither divides nor is a multiple of the {model.kv_heads} KV heads of {model.name}",
            file=where or None,
            path=field,
            value=tp,
        )


def kv_blocks_for(
    model: ModelSpec, gpu: Hardware, tp: int, util: float, reserve: float, block_size: int, *, where: str = ""
) -> int:
    """KV blocks per replica: per GPU, memory x utilisation - weights / tp - activation reserve, divided
    by the bytes of one block of this GPU's KV shard. InputError when the weights (or a single
    block) do not fit."""
    usable = gpu.memory_bytes * util
    free = usable - model.weight_bytes / tp - reserve
    if free <= 0:
        raise InputError(
            f"{model.name} needs {model.weight_bytes / GIB:.0f} GiB of weights per replica"
            + (f" (+ {reserve / GIB:.1f} GiB activations per GPU)" if reserve else "")
            + f", {tp} × {gpu.memory_gib:.0f} GiB × {util:g} available",
            file=where or None,
            path="tp",
            value=tp,
            allowed="a larger tp, a GPU with more memory, or a higher gpuMemoryUtilization",
        )
    if model.encoder:
        return 0
    blocks = int(free // (kv_bytes_per_token_per_gpu(model, tp) * block_size))
    if blocks < 1:
        raise InputError(
            f"no room for a single KV block of {model.name} on {tp} × {gpu.name}",
            file=where or None,
            path="tp",
        )
    return blocks


_BLOCK_FIELDS = {
    "model": "model",
    "gpu": "gpu",
    "tp": "tp",
    "maxNumSeqs": "max_num_seqs",
    "maxNumBatchedTokens": "max_num_batched_tokens",
    "gpuMemoryUtilization": "gpu_memory_utilization",
    "blockSize": "block_size",
    "engine": "engine",
}


def _block_values(block: object) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "max_num_seqs": 256,
        "max_num_batched_tokens": 8192,
        "gpu_memory_utilization": 0.9,
        "block_size": 16,
        "engine": "vllm",
    }
    if isinstance(block, Mapping):
        out = dict(defaults)
        for key, value in block.items():
            name = _BLOCK_FIELDS.get(str(key), str(key))
            if name not in _BLOCK_FIELDS.values():
                raise InputError(
                    f"unknown engine field {key!r}", path=str(key), allowed=", ".join(_BLOCK_FIELDS)
                )
            out[name] = value
        return out
    out = dict(defaults)
    for name in _BLOCK_FIELDS.values():
        if hasattr(block, name):
            value = getattr(block, name)
            out[name] = getattr(value, "value", value)
    return out


def build_profile(
    engine_block_or_kwargs: object,
    *,
    gpus_requested: int | None,
    where: str,
    base_dir: Path | None = None,
    corrections: Corrections | None = None,
) -> EngineProfile:
    """An `EngineProfile` from a scenario `engines.<role>` block (a `model.engine.EngineBlock` or a
    mapping with its camelCase or snake_case keys). `where` prefixes error messages (e.g.
    `scenario.yaml:12: engines.prefill`); `gpus_requested` is the role container's
    `nvidia.com/gpu` request (None: not checked); `base_dir` resolves a relative config.json path
    (the caller confines it). Raises InputError: unknown model/GPU, bad config, tp not dividing the
    heads or different from the GPU request, weights that do not fit."""
    try:
        values = _block_values(engine_block_or_kwargs)
    except InputError as err:
        raise InputError(err.message, file=where or None, path=err.path, allowed=err.allowed) from None
    for name in ("model", "gpu", "tp"):
        if values.get(name) is None:
            raise InputError(f"missing field `{name}`", file=where or None, path=name)
    model_ref = values["model"]
    try:
        model = model_ref if isinstance(model_ref, ModelSpec) else load_model(model_ref, base_dir=base_dir)
    except InputError as err:
        if err.file is None:
            raise InputError(err.message, file=where or None, path="model", allowed=err.allowed) from None
        raise
    gpu = load_hardware(str(values["gpu"]), where=where)
    tp = values["tp"]
    if isinstance(tp, bool) or not isinstance(tp, int):
        raise InputError(f"tp must be an integer, got {tp!r}", file=where or None, path="tp", value=tp)
    check_tp(model, tp, where=where)
    if gpus_requested is not None and gpus_requested != tp:
        raise InputError(
            f"tp {tp} must equal the role container's nvidia.com/gpu request ({gpus_requested})",
            file=where or None,
            path="tp",
            value=tp,
        )
    util = float(values["gpu_memory_utilization"])
    if not 0 < util <= 1:
        raise InputError(
            f"gpuMemoryUtilization must be in (0, 1], got {util}",
            file=where or None,
            path="gpuMemoryUtilization",
        )
    max_seqs = int(values["max_num_seqs"])
    max_tokens = int(values["max_num_batched_tokens"])
    block_size = int(values["block_size"])
    for label, value in (
        ("maxNumSeqs", max_seqs),
        ("maxNumBatchedTokens", max_tokens),
        ("blockSize", block_size),
    ):
        if value < 1:
            raise InputError(f"{label} must be >= 1, got {value}", file=where or None, path=label)
    reserve = activation_reserve_bytes(model, tp, max_tokens, max_seqs)
    blocks = kv_blocks_for(model, gpu, tp, util, reserve, block_size, where=where)
    return EngineProfile(
        model=model,
        gpu=gpu,
        tp=tp,
        max_num_seqs=max_seqs,
        max_num_batched_tokens=max_tokens,
        gpu_memory_utilization=util,
        block_size=block_size,
        corrections=corrections or default_corrections(),
        kv_bytes_per_token=model.kv_bytes_per_token,
        kv_blocks=blocks,
        kv_capacity_tokens=blocks * block_size,
        activation_reserve_bytes=reserve,
    )


def with_corrections(profile: EngineProfile, corrections: Corrections) -> EngineProfile:
    return replace(profile, corrections=corrections)
