"""Regression (issue 21, case 1): a manifest whose `metadata` is a scalar or a list, in a file a
scenario references, crashed `dsim run` (`AttributeError: 'int' object has no attribute 'get'` in
sim/scenario/load.py `_admit`). `dsim run` now checks manifests through `dsim validate`'s code
(model.validation.validate_manifest): exit 2 with the same message at the same line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, dsim_validate, edit, line_of


@pytest.mark.parametrize("value", ["5", "[1]", "'text'"])
def test_run_manifest_metadata_not_a_mapping_exits_2_like_validate(tmp_path: Path, value: str) -> None:
    scenario = copy_scenario(tmp_path)
    manifest = tmp_path / "manifests" / "embedding-pipeline.yaml"
    edit(manifest, "metadata:\n  name: embedding-pipeline\n", f"metadata: {value}\n")
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["file"] == str(manifest)
    assert int(match["line"]) == line_of(manifest, f"metadata: {value}")
    assert match["path"] == "metadata"
    assert "must be of type object" in match["message"]
    validated = dsim_validate(manifest)
    assert validated.exit_code == 2
    assert f"{manifest}:{match['line']}: metadata: " in validated.output
    # the same message as dsim validate's (dsim run prefixes the object's reference)
    validate_line = next(
        x for x in validated.output.splitlines() if x.startswith(f"{manifest}:{match['line']}")
    )
    assert validate_line.split(": metadata: ", 1)[1] in match["message"]
