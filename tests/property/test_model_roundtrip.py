"""Hypothesis: valid DisaggregatedService manifests round-trip; one rule-breaking mutation is rejected at its path."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from model.admission import admit, parse
from model.disaggregated import RoleType, ServiceType
from model.validation import validate_object
from model.yamlio import dump_documents, load_documents_from_string

LABEL = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?", fullmatch=True)


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(LABEL, min_size=1, max_size=8, unique=True))
    roles: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        role: dict[str, Any] = {"name": name, "roleType": draw(st.sampled_from([t.value for t in RoleType]))}
        if draw(st.booleans()):
            role["replicas"] = draw(st.integers(0, 10))
        if i and draw(st.booleans()):
            role["dependsOn"] = draw(
                st.lists(st.sampled_from(names[:i]), min_size=1, max_size=3, unique=True)
            )
        if draw(st.booleans()):
            role["service"] = {"port": draw(st.integers(1, 65535)), "targetPort": draw(st.integers(1, 65535))}
        if draw(st.booleans()):
            role["template"] = {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "img:1",
                            "resources": {"requests": {"cpu": draw(st.sampled_from(["100m", "1", "2.5"]))}},
                            "readinessProbe": {
                                "httpGet": {"path": "/health", "port": 8000},
                                "periodSeconds": 5,
                            },
                        }
                    ]
                },
            }
        roles.append(role)
    spec: dict[str, Any] = {"roles": roles}
    if draw(st.booleans()):
        spec["serviceType"] = draw(st.sampled_from([t.value for t in ServiceType]))
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": draw(LABEL), "namespace": draw(st.sampled_from(["default", "ml"]))},
        "spec": spec,
    }


@given(manifests())
def test_valid_manifests_round_trip(obj: dict[str, Any]) -> None:
    assert admit(obj) == []
    (doc,) = load_documents_from_string(dump_documents([obj]))
    assert doc.data == obj
    model = parse(obj)
    assert parse(model.to_wire()) == model
    (again,) = load_documents_from_string(dump_documents([model.to_wire()]))
    assert parse(again.data) == model


MUTATIONS = [
    "duplicate-name",
    "dangling",
    "self",
    "cycle",
    "negative-replicas",
    "bad-role-type",
    "unknown-field",
    "string-replicas",
    "missing-role-type",
    "uppercase-name",
    "long-name",
    "no-roles",
]


def _rename(obj: dict[str, Any], old: str, new: str) -> None:
    for role in obj["spec"]["roles"]:
        if role["name"] == old:
            role["name"] = new
        role["dependsOn"] = [new if d == old else d for d in role.get("dependsOn", [])] or role.pop(
            "dependsOn", None
        )
        if role.get("dependsOn") is None:
            role.pop("dependsOn", None)


@given(manifests(), st.sampled_from(MUTATIONS), st.data())
def test_single_mutation_rejected_at_the_right_path(
    obj: dict[str, Any], mutation: str, data: st.DataObject
) -> None:
    bad = copy.deepcopy(obj)
    roles = bad["spec"]["roles"]
    i = data.draw(st.integers(0, len(roles) - 1))
    role = roles[i]
    expected: str
    if mutation == "duplicate-name" and len(roles) > 1:
        j = data.draw(st.integers(0, len(roles) - 1).filter(lambda k: k != i))
        first, second = sorted((i, j))
        roles[second]["name"] = roles[first]["name"]
        expected = f"spec.roles[{second}].name"
    elif mutation == "dangling":
        role.setdefault("dependsOn", []).append("zz-missing")
        expected = f"spec.roles[{i}].dependsOn[{len(role['dependsOn']) - 1}]"
    elif mutation == "self":
        role.setdefault("dependsOn", []).append(role["name"])
        expected = f"spec.roles[{i}].dependsOn[{len(role['dependsOn']) - 1}]"
    elif mutation == "cycle" and len(roles) > 1:
        j = data.draw(st.integers(0, len(roles) - 1).filter(lambda k: k != i))
        if roles[j]["name"] not in role.get("dependsOn", []):
            role.setdefault("dependsOn", []).append(roles[j]["name"])
        roles[j]["dependsOn"] = [role["name"]]
        expected = "dependency cycle"
    elif mutation == "negative-replicas":
        role["replicas"] = data.draw(st.integers(-(2**31), -1))
        expected = f"spec.roles[{i}].replicas"
    elif mutation == "bad-role-type":
        role["roleType"] = data.draw(st.sampled_from(["router", "Worker", "", "INFERENCE"]))
        expected = f"spec.roles[{i}].roleType"
    elif mutation == "unknown-field":
        role["minReplicas"] = 1
        expected = f"spec.roles[{i}].minReplicas"
    elif mutation == "string-replicas":
        role["replicas"] = "3"
        expected = f"spec.roles[{i}].replicas"
    elif mutation == "missing-role-type":
        del role["roleType"]
        expected = f"spec.roles[{i}].roleType"
    elif mutation == "uppercase-name":
        _rename(bad, role["name"], role["name"].upper())
        expected = f"spec.roles[{i}].name"
    elif mutation == "long-name":
        bad["metadata"]["name"] = "n" * (63 - len(role["name"]))  # `<ds>-<role>` is 64 characters
        expected = f"spec.roles[{i}].name"
    else:
        bad["spec"]["roles"] = []
        expected = "spec.roles"
    issues = admit(bad)
    assert issues, f"{mutation} accepted"
    texts = [f"{issue.path}: {issue.message}" for issue in issues]
    assert any(t.startswith(expected + ":") or expected in t for t in texts), texts
    (doc,) = load_documents_from_string(dump_documents([bad]), file="m.yaml")
    for issue in validate_object(doc.data, doc):
        if issue.severity == "error":
            assert issue.line is not None
