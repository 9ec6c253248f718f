"""Regression (issue 15, newcomer list): through `dsim run`, a manifest error pointed to the first
line of the YAML document instead of the field's line. `dsim run` now reports the line of the
field itself, as `dsim validate` does, in manifest files and in inline manifests."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit, line_of


def test_run_manifest_file_error_points_to_field_line(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    manifest = tmp_path / "manifests" / "embedding-pipeline.yaml"
    edit(manifest, "  maxReplicas: 10\n", "  maxReplicas: ten\n")
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["file"] == str(manifest)
    assert match["path"] == "spec.maxReplicas"
    assert int(match["line"]) == line_of(manifest, "maxReplicas: ten")
    assert int(match["line"]) != line_of(manifest, "kind: BudAIScaler") - 1


def test_run_inline_manifest_error_points_to_field_line(tmp_path: Path) -> None:
    scenario = tmp_path / "inline.yaml"
    scenario.write_text(
        "apiVersion: dsim/v1\n"
        "kind: Scenario\n"
        "name: inline\n"
        "seed: 1\n"
        "duration: 60\n"
        "manifests:\n"
        "  - inline:\n"
        "      apiVersion: scaler.bud.studio/v1alpha1\n"
        "      kind: DisaggregatedService\n"
        "      metadata: {name: p}\n"
        "      spec:\n"
        "        serviceType: Embedding\n"
        "        roles:\n"
        "          - {name: a, roleType: Router}\n"
        "          - name: b\n"
        "            roleType: Inference\n"
        "            replicas: -1\n",
        encoding="utf-8",
    )
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["file"] == str(scenario)
    assert match["path"] == "manifests[0].inline.spec.roles[1].replicas"
    assert int(match["line"]) == 17
