"""The mutation fuzzer (sim/testing/mutations.py `mutate_document`) applied to the engine model
configs as they landed (sim/engines/data/models/*.json): a broken config.json is an InputError
naming the file and field, or a valid ModelSpec; never another exception."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import InputError
from sim.engines.catalogue import spec_from_config
from sim.testing.mutations import mutate_document

MODELS = Path(__file__).resolve().parents[2] / "sim" / "engines" / "data" / "models"
CONFIGS: dict[str, dict[str, Any]] = {
    p.name: json.loads(p.read_text(encoding="utf-8"))
    for p in sorted(MODELS.glob("*.json"))
    if p.name != "index.json"
}
DATA_KINDS = (
    "wrong_type",
    "empty_string",
    "number",
    "extreme_same_type",
    "control_characters",
    "drop_key",
    "misspell_key",
    "list_for_map",
    "map_for_list",
    "deep_nesting",
    "not_a_mapping",
)
EXAMPLES = {"deep": 1000, "ci": 40, "dev": 10}.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), 40)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(CONFIGS)).flatmap(
        lambda n: mutate_document(CONFIGS[n], kinds=DATA_KINDS).map(lambda m: (n, m))
    )
)
def test_engine_config_mutants_are_input_errors_or_specs(case: tuple[str, Any]) -> None:
    name, mutant = case
    try:
        spec = spec_from_config(mutant.data, name=name, source=name)
    except InputError as exc:
        assert str(exc).startswith(name), str(exc)
        return
    for value in vars(spec).values() if hasattr(spec, "__dict__") else ():
        if isinstance(value, float):
            assert math.isfinite(value), (name, mutant.describe(), spec)
