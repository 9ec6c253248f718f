"""The `engines` block of a scenario: what a user would deploy for a role (model, GPU, TP degree and
the vLLM engine arguments), e.g.

    engines:
      prefill: {model: meta-llama/Llama-2-70b-hf, gpu: H100-SXM-80GB, tp: 4}

This module only checks shapes and ranges. The deep checks (the config is readable, the GPU is
known, tp divides the heads and equals the role's `nvidia.com/gpu` request, the weights fit) need the
catalogues and are done by `sim.engines.build_profile` when the scenario is loaded.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class EngineKind(StrEnum):
    VLLM = "vllm"  # continuous batching on the calibrated step-time model (sim/engines)
    ANALYTIC = "analytic"  # today's service models (docs/load.md), for CPU roles and old scenarios


class EngineBlock(BaseModel):
    """One role's engine: `model` is a catalogue id (`meta-llama/Llama-2-70b-hf`) or a path to a
    Hugging Face config.json relative to the scenario file."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    model: Annotated[str, Field(min_length=1, max_length=512)]
    gpu: Annotated[str, Field(min_length=1, max_length=64)]
    tp: Annotated[int, Field(ge=1, le=64)] = 1
    max_num_seqs: Annotated[int, Field(ge=1, le=65536)] = 256
    max_num_batched_tokens: Annotated[int, Field(ge=1, le=1_048_576)] = 8192
    gpu_memory_utilization: Annotated[float, Field(gt=0, le=1)] = 0.9
    block_size: Annotated[int, Field(ge=1, le=1024)] = 16
    engine: EngineKind = EngineKind.VLLM
