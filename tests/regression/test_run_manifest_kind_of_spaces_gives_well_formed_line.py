"""Regression (held-out mutation fuzz): a manifest whose `kind` is a space printed
`FILE:LINE: kind:  /default/name: ...`, a malformed line (the object's reference was empty).
The reference is normalised, so the line stays `FILE:LINE: PATH: message`."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit


def test_run_manifest_kind_of_spaces_gives_well_formed_line(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    manifest = tmp_path / "manifests" / "embedding-pipeline.yaml"
    edit(manifest, "kind: DisaggregatedService\nmetadata:", 'kind: " "\nmetadata:')
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "kind"
    assert match["message"].startswith("/default/embedding-pipeline: Unsupported value")
