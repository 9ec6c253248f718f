"""Admission rules: exact paths and messages for DisaggregatedService, BudAIScaler, Deployment and Pod."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from model.admission import admit, parse
from model.budaiscaler import BudAIScaler, ScalingStrategy
from model.disaggregated import DisaggregatedService, RoleType
from model.errors import FieldIssue, ValidationFailed

DS: dict[str, Any] = {
    "apiVersion": "scaler.bud.studio/v1alpha1",
    "kind": "DisaggregatedService",
    "metadata": {"name": "embedding-pipeline"},
    "spec": {
        "serviceType": "Embedding",
        "roles": [
            {"name": "router", "roleType": "Router", "replicas": 1},
            {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 2},
            {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
        ],
    },
}
BAS: dict[str, Any] = {
    "apiVersion": "scaler.bud.studio/v1alpha1",
    "kind": "BudAIScaler",
    "metadata": {"name": "s", "namespace": "ml"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llm"},
        "maxReplicas": 4,
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "rps", "targetValue": "100"}],
    },
}
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "labels": {"app": "x"}},
    "spec": {
        "containers": [
            {
                "name": "c",
                "image": "i",
                "resources": {
                    "requests": {"nvidia.com/gpu": 1, "cpu": "250m"},
                    "limits": {"nvidia.com/gpu": 1},
                },
            }
        ]
    },
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0}],
    },
}


def errors(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.path, i.message) for i in admit(obj)]


def test_valid_objects_have_no_issues_and_parse_with_defaults() -> None:
    assert admit(DS) == []
    assert admit(BAS) == []
    assert admit(POD) == []
    ds = parse(DS)
    assert isinstance(ds, DisaggregatedService)
    assert ds.metadata.namespace == "default"
    assert ds.spec.roles[2].role_type is RoleType.INFERENCE
    assert ds.spec.roles[2].depends_on == ["tokenizer"]
    bas = parse(BAS)
    assert isinstance(bas, BudAIScaler)
    assert (bas.spec.min_replicas, bas.spec.scaling_strategy) == (1, ScalingStrategy.BUD_SCALER)


def test_parse_raises_with_every_issue() -> None:
    bad = copy.deepcopy(BAS)
    bad["spec"]["minReplicas"] = 9
    bad["spec"]["scaleTargetRef"]["name"] = ""
    with pytest.raises(ValidationFailed) as info:
        parse(bad)
    assert [i.path for i in info.value.issues] == ["spec.minReplicas", "spec.scaleTargetRef.name"]
    assert str(info.value).splitlines() == [
        "spec.minReplicas: Invalid value: 9: must be less than or equal to spec.maxReplicas (4)",
        "spec.scaleTargetRef.name: Required value: the target to scale must be named",
    ]


def test_pr_budaiscaler_example_without_metrics_sources() -> None:
    bad = copy.deepcopy(BAS)
    del bad["spec"]["metricsSources"]
    assert errors(bad) == [("spec.metricsSources", "Required value")]


def test_cycle_names_the_cycle() -> None:
    bad = copy.deepcopy(DS)
    bad["spec"]["roles"][0]["dependsOn"] = ["tokenizer"]
    bad["spec"]["roles"][1]["dependsOn"] = ["router"]
    assert errors(bad) == [
        (
            "spec.roles[1].dependsOn[0]",
            'Invalid value: "router": dependency cycle router → tokenizer → router',
        )
    ]


def test_dangling_dependency_suggests_the_nearest_role() -> None:
    bad = copy.deepcopy(DS)
    bad["spec"]["roles"][2]["dependsOn"] = ["tokenzer"]
    assert errors(bad) == [
        (
            "spec.roles[2].dependsOn[0]",
            "Not found: \"tokenzer\": no role with this name; did you mean 'tokenizer'? "
            "(roles: router, tokenizer, inference)",
        )
    ]


def test_self_and_duplicate_dependencies() -> None:
    bad = copy.deepcopy(DS)
    bad["spec"]["roles"][2]["dependsOn"] = ["inference", "router", "router"]
    assert errors(bad) == [
        ("spec.roles[2].dependsOn[0]", 'Invalid value: "inference": a role cannot depend on itself'),
        ("spec.roles[2].dependsOn[2]", 'Duplicate value: "router"'),
    ]


def test_generated_child_name_must_fit_63_characters() -> None:
    ok = copy.deepcopy(DS)
    ok["metadata"]["name"] = "d" * (63 - len("-tokenizer"))
    assert admit(ok) == []
    bad = copy.deepcopy(DS)
    bad["metadata"]["name"] = "d" * (64 - len("-tokenizer"))
    assert [p for p, _ in errors(bad)] == ["spec.roles[1].name", "spec.roles[2].name"]


def test_role_name_missing_in_target_is_not_an_admission_error() -> None:
    # a reconcile-time condition: the DisaggregatedService may gain the role later
    obj = copy.deepcopy(BAS)
    obj["spec"]["scaleTargetRef"] = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "name": "x",
    }
    obj["spec"]["subTargetSelector"] = {"roleName": "no-such-role"}
    assert admit(obj) == []


@pytest.mark.parametrize(
    ("strategy", "source_type", "value", "ok"),
    [
        ("HPA", "resource", "80", True),
        ("HPA", "resource", "80.5", False),
        ("HPA", "custom", "500m", True),
        ("HPA", "external", "1 k", False),
        ("KPA", "pod", "0.5", True),
        ("KPA", "pod", "1e3", True),
        ("BudScaler", "pod", "-1", False),
        ("BudScaler", "pod", "seventy", False),
    ],
)
def test_target_value_parsed_like_the_controller(
    strategy: str, source_type: str, value: str, ok: bool
) -> None:
    obj = copy.deepcopy(BAS)
    obj["spec"]["scalingStrategy"] = strategy
    obj["spec"]["metricsSources"][0].update(metricSourceType=source_type, targetValue=value)
    issues = admit(obj)
    assert (issues == []) is ok, issues
    if not ok:
        assert [i.path for i in issues] == ["spec.metricsSources[0].targetValue"]


def test_union_type_errors_collapse_and_unknown_fields_are_reported() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"port": True}, "periodSecond": 5}
    assert errors(pod) == [
        (
            "spec.containers[0].readinessProbe.httpGet.port",
            "Invalid value: true: must be of type integer or string",
        ),
        ("spec.containers[0].readinessProbe.periodSecond", "unknown field"),
    ]


def test_unknown_kind_lists_supported_kinds() -> None:
    issues = admit({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert len(issues) == 1
    assert issues[0].path == "kind"
    assert "supported kinds: Pod (v1), Service (v1), Node (v1), Deployment (apps/v1)" in issues[0].message


def test_field_issue_format() -> None:
    issue = FieldIssue("spec.roles[2].dependsOn[0]", "Not found", line=19)
    assert issue.format("ds.yaml") == "ds.yaml:19: spec.roles[2].dependsOn[0]: Not found"
    assert issue.format() == "line 19: spec.roles[2].dependsOn[0]: Not found"
    assert FieldIssue("kind", "Required value").format("a.yaml") == "a.yaml: kind: Required value"


def test_deployment_selector_requirements() -> None:
    dep: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w"},
        "spec": {
            "selector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}},
        },
    }
    assert errors(dep) == [
        (
            "spec.selector.matchExpressions[0].values",
            "Forbidden: may not be specified when `operator` is 'Exists'",
        )
    ]
    dep["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    assert errors(dep) == []
    dep["spec"]["selector"] = {}
    assert errors(dep) == [("spec.selector", "Invalid value: {}: empty selector is invalid for deployment")]


def test_pod_resources_and_container_names() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"] = [
        {
            "name": "c",
            "resources": {
                "requests": {"cpu": "2", "nvidia.com/gpu": "1"},
                "limits": {"cpu": "1", "nvidia.com/gpu": 2},
            },
        },
        {"name": "c", "resources": {"requests": {"nvidia.com/gpu": "0.5"}}},
    ]
    assert errors(pod) == [
        (
            "spec.containers[0].resources.requests.cpu",
            'Invalid value: "2": must be less than or equal to cpu limit of 1',
        ),
        (
            "spec.containers[0].resources.requests[nvidia.com/gpu]",
            'Invalid value: "1": must be equal to nvidia.com/gpu limit of 2',
        ),
        ("spec.containers[1].name", 'Duplicate value: "c"'),
        ("spec.containers[1].resources.requests[nvidia.com/gpu]", 'Invalid value: "0.5": must be an integer'),
        (
            "spec.containers[1].resources.limits",
            "Required value: Limit must be set for non overcommitable resources",
        ),
    ]


def test_role_templates_are_checked_like_pods() -> None:
    ds = copy.deepcopy(DS)
    ds["spec"]["roles"][2]["template"] = {
        "spec": {"containers": [{"name": "m", "resources": {"requests": {"nvidia.com/gpu": 1}}}]}
    }
    assert errors(ds) == [
        (
            "spec.roles[2].template.spec.containers[0].resources.limits",
            "Required value: Limit must be set for non overcommitable resources",
        ),
    ]


def test_hpa_min_le_max() -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "minReplicas": 5, "maxReplicas": 2},
    }
    assert errors(hpa) == [
        ("spec.minReplicas", "Invalid value: 5: must be less than or equal to maxReplicas")
    ]


def _deployment(
    strategy: dict[str, Any] | None = None, probe: dict[str, Any] | None = None
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c"}
    if probe is not None:
        container["readinessProbe"] = probe
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [container]}},
    }
    if strategy is not None:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": spec}


def test_deployment_strategy_rules() -> None:
    assert (
        errors(
            _deployment({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}})
        )
        == []
    )
    assert errors(_deployment({"rollingUpdate": {"maxSurge": "25", "maxUnavailable": 1}})) == [
        (
            "spec.strategy.rollingUpdate.maxSurge",
            "Invalid value: \"25\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '25%')",
        )
    ]
    assert errors(_deployment({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}})) == [
        ("spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 0: may not be 0 when `maxSurge` is 0")
    ]
    assert errors(_deployment({"type": "Recreate", "rollingUpdate": {}})) == [
        ("spec.strategy.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'")
    ]


def test_probe_needs_exactly_one_handler() -> None:
    assert errors(_deployment(probe={"periodSeconds": 5})) == [
        ("spec.template.spec.containers[0].readinessProbe", "Required value: must specify a handler type")
    ]
    assert errors(_deployment(probe={"httpGet": {"port": 80}, "tcpSocket": {"port": 80}})) == [
        (
            "spec.template.spec.containers[0].readinessProbe.tcpSocket",
            "Forbidden: may not specify more than 1 handler type",
        )
    ]
