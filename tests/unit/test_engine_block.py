"""The scenario's `engines` block (model/engine.py): shapes, defaults and errors at the YAML path.
Deep checks (catalogue, GPU, tp vs heads and vs the GPU request, memory) are build_profile's
(tests/unit/test_engine_profile.py)."""

from __future__ import annotations

from typing import Any

import pytest

from model.engine import EngineBlock, EngineKind
from model.errors import InputError
from model.scenario import scenario_from_data
from sim.engines import build_profile


def _scenario(engines: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": "engines",
        "seed": 1,
        "duration": 60,
        "manifests": [{"path": "m.yaml"}],
        "engines": engines,
    }


def test_engines_block_defaults_and_aliases() -> None:
    scenario = scenario_from_data(
        _scenario({"prefill": {"model": "meta-llama/Llama-2-70b-hf", "gpu": "H100-SXM-80GB", "tp": 4}}),
        file="s.yaml",
    )
    block = scenario.engines["prefill"]
    assert (block.max_num_seqs, block.max_num_batched_tokens, block.block_size) == (256, 8192, 16)
    assert block.gpu_memory_utilization == 0.9 and block.engine is EngineKind.VLLM
    assert build_profile(block, gpus_requested=4, where="s.yaml: engines.prefill").kv_capacity_tokens > 0


def test_scenarios_without_engines_still_load() -> None:
    assert scenario_from_data(_scenario({}), file="s.yaml").engines == {}


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"model": "m", "gpu": "g", "tp": 0}, "engines.prefill.tp"),
        ({"model": "m", "gpu": "g", "maxNumSeq": 8}, "engines.prefill.maxNumSeq"),
        ({"model": "m", "gpu": "g", "engine": "trt"}, "engines.prefill.engine"),
        ({"model": "m", "gpu": "g", "gpuMemoryUtilization": 1.5}, "engines.prefill.gpuMemoryUtilization"),
        ({"gpu": "g"}, "engines.prefill.model"),
    ],
)
def test_bad_engine_block_names_the_path(block: dict[str, Any], needle: str) -> None:
    with pytest.raises(InputError) as info:
        scenario_from_data(_scenario({"prefill": block}), file="s.yaml")
    assert needle in str(info.value)


def test_analytic_engine_kind() -> None:
    block = EngineBlock.model_validate({"model": "m", "gpu": "g", "engine": "analytic"})
    assert block.engine is EngineKind.ANALYTIC
