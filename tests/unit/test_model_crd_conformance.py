"""The BudAIScaler model agrees with the upstream CRD's openAPIV3Schema, field by field, and so does `dsim crd`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from model.crd import budaiscaler_crd, disaggregatedservice_crd
from sim.commands.crd import crd

UPSTREAM = Path(__file__).parent.parent / "data" / "upstream" / "crd" / "scaler.bud.studio_budaiscalers.yaml"
COMPARED = (
    "type",
    "format",
    "enum",
    "minimum",
    "maximum",
    "default",
    "pattern",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "anyOf",
    "x-kubernetes-int-or-string",
    "x-kubernetes-map-type",
)


def _upstream_schema() -> dict[str, Any]:
    doc = yaml.safe_load(UPSTREAM.read_text(encoding="utf-8"))
    schema: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _walk(up: dict[str, Any], ours: dict[str, Any], path: str, diffs: list[str]) -> None:
    """Compare type, enum, bounds, default, required and the field set; recurse into objects and arrays."""
    for key in COMPARED:
        if up.get(key) != ours.get(key):
            diffs.append(f"{path or '<root>'}: {key}: upstream={up.get(key)!r} model={ours.get(key)!r}")
    if sorted(up.get("required", [])) != sorted(ours.get("required", [])):
        diffs.append(f"{path}: required: upstream={up.get('required')} model={ours.get('required')}")
    up_props, our_props = up.get("properties", {}), ours.get("properties", {})
    for name in sorted(set(up_props) - set(our_props)):
        diffs.append(f"{path}.{name}: missing from the model")
    for name in sorted(set(our_props) - set(up_props)):
        diffs.append(f"{path}.{name}: not in the upstream CRD")
    for name in sorted(set(up_props) & set(our_props)):
        _walk(up_props[name], our_props[name], f"{path}.{name}".lstrip("."), diffs)
    if "items" in up or "items" in ours:
        _walk(up.get("items", {}), ours.get("items", {}), f"{path}[]", diffs)
    if isinstance(up.get("additionalProperties"), dict) or isinstance(ours.get("additionalProperties"), dict):
        _walk(
            up.get("additionalProperties") or {}, ours.get("additionalProperties") or {}, f"{path}{{}}", diffs
        )


def _count_fields(schema: dict[str, Any]) -> int:
    n = 0
    for prop in schema.get("properties", {}).values():
        n += 1 + _count_fields(prop)
    if "items" in schema:
        n += _count_fields(schema["items"])
    return n


def test_model_matches_upstream_crd_field_by_field() -> None:
    ours = budaiscaler_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    diffs: list[str] = []
    _walk(_upstream_schema(), ours, "", diffs)
    assert diffs == []
    assert _count_fields(_upstream_schema()) == _count_fields(ours) == 148


def _strip_descriptions(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_descriptions(v) for k, v in obj.items() if k != "description"}
    if isinstance(obj, list):
        return [_strip_descriptions(v) for v in obj]
    return obj


def test_generated_crd_equals_upstream_apart_from_descriptions() -> None:
    upstream = yaml.safe_load(UPSTREAM.read_text(encoding="utf-8"))
    upstream["metadata"].pop("annotations")
    assert _strip_descriptions(budaiscaler_crd()) == _strip_descriptions(upstream)


def test_dsim_crd_prints_both_crds_and_budaiscaler_agrees_with_upstream() -> None:
    result = CliRunner().invoke(crd, [])
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all(result.output))
    assert [d["metadata"]["name"] for d in docs] == [
        "disaggregatedservices.scaler.bud.studio",
        "budaiscalers.scaler.bud.studio",
        "podautoscalers.autoscaling.aibrix.ai",
    ]
    upstream = yaml.safe_load(UPSTREAM.read_text(encoding="utf-8"))
    upstream["metadata"].pop("annotations")
    assert _strip_descriptions(docs[1]) == _strip_descriptions(upstream)


def test_disaggregatedservice_crd_shape() -> None:
    doc = disaggregatedservice_crd()
    version = doc["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}  # no scale subresource, as in the PR
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    roles = spec["properties"]["roles"]
    assert roles["minItems"] == 1
    assert spec["required"] == ["roles"]
    role = roles["items"]
    assert role["required"] == ["name", "roleType"]
    assert role["properties"]["replicas"] == {
        "type": "integer",
        "format": "int32",
        "minimum": 0,
        "default": 1,
    }
    assert role["properties"]["roleType"]["enum"] == [
        "Router",
        "Tokenizer",
        "Inference",
        "Prefill",
        "Decode",
        "Custom",
    ]
    assert spec["properties"]["serviceType"]["enum"] == ["Embedding", "LLM", "Custom"]
    assert sorted(version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]) == [
        "conditions",
        "observedGeneration",
        "phase",
        "roleStatuses",
    ]
