"""Regression (issue 15, newcomer list): an unknown manifest field got no "did you mean". Unknown
fields now name the nearest allowed field of that object (admission's `did_you_mean`, the
nearest-key logic the annotation lints use), in `dsim validate` and in `dsim run`."""

from __future__ import annotations

from pathlib import Path

from model.admission import admit
from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, dsim_validate, edit


def test_unknown_manifest_field_gets_did_you_mean_in_admission() -> None:
    obj = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "s"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "maxReplicas": 3,
            "minReplica": 1,
            "metricsSources": [
                {"metricSourceType": "pod", "targetMetric": "m", "targetValue": "1", "targetValu": "2"}
            ],
        },
    }
    messages = {i.path: i.message for i in admit(obj)}
    assert messages["spec.minReplica"] == "unknown field; did you mean 'minReplicas'?"
    assert messages["spec.metricsSources[0].targetValu"] == "unknown field; did you mean 'targetValue'?"


def test_unknown_manifest_field_without_a_near_name_gets_no_guess() -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"zzzzzz": 1}}
    assert [i.message for i in admit(obj)] == ["unknown field"]


def test_unknown_manifest_field_gets_did_you_mean_in_validate_and_run(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    manifest = tmp_path / "manifests" / "embedding-pipeline.yaml"
    edit(manifest, "      replicas: 3\n", "      replicsa: 3\n")
    validated = dsim_validate(manifest)
    assert "spec.roles[2].replicsa: unknown field; did you mean 'replicas'?" in validated.output
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["message"].endswith("unknown field; did you mean 'replicas'?")
