"""Everything the upstream BudAIScaler CRD schema admits, the model admits too (and round-trips).

Instances are generated from the *upstream* openAPIV3Schema (tests/data/upstream/crd), not from our models, so
this checks fidelity from the other side of the conformance test: no spurious rejections. String fields the
controller parses (targetValue, cronExpression, duration) get values that satisfy the webhook rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from model.admission import admit, parse
from model.yamlio import dump_documents, load_documents_from_string

CRD = Path(__file__).parent.parent / "data" / "upstream" / "crd" / "scaler.bud.studio_budaiscalers.yaml"
SCHEMA: dict[str, Any] = yaml.safe_load(CRD.read_text(encoding="utf-8"))["spec"]["versions"][0]["schema"][
    "openAPIV3Schema"
]

SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    "targetValue": st.sampled_from(["80", "10", "100"]),
    "cronExpression": st.sampled_from(["0 8 * * 1-5", "*/5 * * * *", "0 0 1 1 *"]),
    "duration": st.sampled_from(["12h", "90m", "1h30m", "0"]),
    "reason": st.sampled_from(["Ready", "ScaledUp", "Failed_Metrics"]),
    "type": st.sampled_from(["Ready", "AbleToScale", "scaler.bud.studio/Active"]),
    "lastTransitionTime": st.just("2024-05-01T12:00:00Z"),
}
TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10)


def instances(schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    if name in SPECIAL and schema.get("type") == "string" and "enum" not in schema:
        return SPECIAL[name]
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema.get("x-kubernetes-int-or-string"):
        return st.sampled_from(["1", "500m", "1Gi", "2.5", 3, "1e3"])
    kind = schema.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", -(2**31) if schema.get("format") == "int32" else -(2**40))
        high = schema.get("maximum", 2**31 - 1 if schema.get("format") == "int32" else 2**40)
        return st.integers(low, high)
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.just("2024-05-01T12:00:00Z")
        return TEXT.filter(bool) if name == "name" else TEXT
    if kind == "array":
        return st.lists(
            instances(schema["items"], name),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 3), 3),
        )
    if kind == "object":
        if "additionalProperties" in schema:
            return st.dictionaries(TEXT, instances(schema["additionalProperties"]), max_size=2)
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: instances(v, k) for k, v in props.items() if k in required},
            optional={k: instances(v, k) for k, v in props.items() if k not in required},
        )
    raise AssertionError(f"unhandled schema {schema}")


SPEC = instances(SCHEMA["properties"]["spec"])
STATUS = instances(SCHEMA["properties"]["status"])


@given(SPEC, STATUS)
def test_every_crd_valid_budaiscaler_is_admitted(spec: dict[str, Any], status: dict[str, Any]) -> None:
    spec["scaleTargetRef"]["name"] = spec["scaleTargetRef"].get("name") or "target"
    if spec.get("minReplicas", 1) > spec["maxReplicas"]:
        spec["minReplicas"] = spec["maxReplicas"]
    obj = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "generated", "namespace": "ml"},
        "spec": spec,
        "status": status,
    }
    assert admit(obj) == []
    model = parse(obj)
    (doc,) = load_documents_from_string(dump_documents([model.to_wire()]))
    assert parse(doc.data) == model
