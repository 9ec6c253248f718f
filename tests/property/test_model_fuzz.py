"""No input makes admission, lints or the YAML loader crash: problems come back as issues or InputError."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from model.admission import admit
from model.errors import InputError
from model.lints import lint
from model.yamlio import load_documents_from_bytes

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)

BASES: list[dict[str, Any]] = [
    {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "p", "labels": {"a": "b"}},
        "spec": {
            "roles": [
                {"name": "router", "roleType": "Router"},
                {
                    "name": "inference",
                    "roleType": "Inference",
                    "dependsOn": ["router"],
                    "template": {
                        "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1"}}}]}
                    },
                },
            ]
        },
    },
    {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "s", "annotations": {"scaler.bud.studio/panic-window": "60s"}},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "maxReplicas": 3,
            "metricsSources": [{"metricSourceType": "pod", "targetMetric": "m", "targetValue": "1"}],
            "scheduleHints": [
                {"name": "h", "cronExpression": "0 8 * * *", "targetReplicas": 2, "duration": "1h"}
            ],
            "behavior": {
                "scaleUp": {
                    "tolerance": "0.1",
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 1}],
                }
            },
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}},
        },
    },
]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(_paths(v, (*prefix, i)))
    return out


@given(st.sampled_from(range(len(BASES))), st.data(), JSON)
def test_admission_never_crashes_on_a_replaced_subtree(base: int, data: st.DataObject, value: Any) -> None:
    obj = copy.deepcopy(BASES[base])
    path = data.draw(st.sampled_from(_paths(obj)[1:]))
    target = obj
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    issues = admit(obj)
    assert isinstance(issues, list)
    assert all(isinstance(i.path, str) and i.message for i in issues)
    lint(obj)


@given(JSON)
def test_admission_never_crashes_on_arbitrary_values(value: Any) -> None:
    assert isinstance(admit(value), list)
    if isinstance(value, dict):
        lint(value)


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_loader_raises_only_input_errors(raw: bytes) -> None:
    try:
        docs = load_documents_from_bytes(raw, file="fuzz.yaml")
    except InputError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    for doc in docs:
        assert isinstance(doc.data, dict)
        admit(doc.data)


@given(st.dictionaries(st.text(max_size=8), JSON, max_size=5))
def test_any_json_object_round_trips_through_yaml(obj: dict[str, Any]) -> None:
    from model.yamlio import dump_documents, load_documents_from_string

    if not obj:
        return
    (doc,) = load_documents_from_string(dump_documents([obj]))
    assert doc.data == obj
