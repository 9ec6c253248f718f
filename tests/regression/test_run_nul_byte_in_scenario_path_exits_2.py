"""Regression (issue 21, case 2): a NUL byte in a scenario path (`manifests[0].path`,
`workload.trace`) raised `ValueError: embedded null byte` from pathlib's resolve."""

from __future__ import annotations

from pathlib import Path

from model.errors import InputError
from model.yamlio import load_documents
from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit, line_of


def test_run_nul_byte_in_manifest_path_exits_2(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "path: manifests/embedding-pipeline.yaml", 'path: "manifests/emb\\0edding.yaml"')
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "manifests[0].path"
    assert int(match["line"]) == line_of(scenario, "manifests/emb")
    assert "null byte" in match["message"]


def test_run_nul_byte_in_trace_path_exits_2(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path, "azure-conversation-replay")
    text = scenario.read_text(encoding="utf-8")
    trace = next(line for line in text.splitlines() if line.strip().startswith("trace:"))
    edit(scenario, trace, trace.split(":")[0] + ': "traces/a\\0b.csv"')
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "workload.trace"


def test_run_manifest_path_too_long_exits_2(tmp_path: Path) -> None:
    """Held-out mutation fuzz: a 10,000-character manifest path raised `OSError: File name too long`."""
    scenario = copy_scenario(tmp_path)
    edit(scenario, "path: manifests/embedding-pipeline.yaml", "path: " + "x" * 10_000)
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["path"] == "manifests[0].path"
    assert "too long" in match["message"]


def test_loading_a_file_whose_name_has_a_nul_byte_is_an_input_error() -> None:
    try:
        load_documents("a\0b.yaml")
    except InputError as exc:
        assert "a\0b.yaml" in str(exc) or "null" in str(exc)
    else:
        raise AssertionError("expected InputError")
