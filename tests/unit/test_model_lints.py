"""Lints: what the controller silently ignores."""

from __future__ import annotations

from typing import Any

from model.lints import lint


def bas(annotations: dict[str, str], behavior: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"scaleTargetRef": {"name": "x"}, "maxReplicas": 3, "metricsSources": []}
    if behavior:
        spec["behavior"] = behavior
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "s", "annotations": annotations},
        "spec": spec,
    }


def test_known_keys_with_good_values_are_clean() -> None:
    obj = bas(
        {
            "scaler.bud.studio/max-scale-up-rate": "2.0",
            "scaler.bud.studio/panic-window": "60s",
            "scaler.bud.studio/scale-down-cooldown": "5m",
            "scaler.bud.studio/scale-to-zero": "true",
            "scaler.bud.studio/activation-scale": "2",
            "other.io/anything": "x",
        }
    )
    assert lint(obj) == []


def test_unknown_and_unparseable() -> None:
    issues = lint(
        bas(
            {
                "scaler.bud.studio/scale-up-rate": "2.0",
                "scaler.bud.studio/stable-window": "180",
                "scaler.bud.studio/scale-to-zero": "True",
                "scaler.bud.studio/activation-scale": "1.5",
                "scaler.bud.studio/gpu-preferred-type": "nvidia-a100",
                "scaler.bud.studio/target-cpu": "50",
            }
        )
    )
    assert [(i.path, i.severity) for i in issues] == [
        ("metadata.annotations[scaler.bud.studio/scale-up-rate]", "warning"),
        ("metadata.annotations[scaler.bud.studio/stable-window]", "warning"),
        ("metadata.annotations[scaler.bud.studio/scale-to-zero]", "warning"),
        ("metadata.annotations[scaler.bud.studio/activation-scale]", "warning"),
        ("metadata.annotations[scaler.bud.studio/gpu-preferred-type]", "warning"),
        ("metadata.annotations[scaler.bud.studio/target-cpu]", "warning"),
    ]
    assert issues[0].message.endswith("did you mean 'scaler.bud.studio/max-scale-up-rate'?")
    assert 'time: missing unit in duration "180"' in issues[1].message
    assert "declared upstream but the controller never reads it" in issues[4].message


def test_behavior_strings_the_controller_cannot_parse() -> None:
    issues = lint(bas({}, {"scaleUp": {"tolerance": "10%", "startingPods": {"startingPodWeight": "half"}}}))
    assert [i.path for i in issues] == [
        "spec.behavior.scaleUp.tolerance",
        "spec.behavior.scaleUp.startingPods.startingPodWeight",
    ]


def test_single_role_disaggregated_service_warns() -> None:
    ds = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "d"},
        "spec": {"roles": [{"name": "only", "roleType": "Custom"}]},
    }
    (issue,) = lint(ds)
    assert (issue.path, issue.severity) == ("spec.roles", "warning")
    assert "design document requires 2" in issue.message
