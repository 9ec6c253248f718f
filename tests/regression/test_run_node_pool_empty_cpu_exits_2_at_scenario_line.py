"""Regression (issue 21, case 3): a node pool with `cpu: ''` passed scenario validation and the run
crashed at cluster start (`Invalid: Node "cpu-0" is invalid: status.capacity.cpu`, traceback in
error.txt, exit 1). Node-pool values become Node objects, so they are checked at load, at the
scenario's own line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, edit, line_of


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ('cpu: "32"', "cpu: ''", "cluster.nodePools[0].cpu"),
        ('cpu: "32"', "cpu: lots", "cluster.nodePools[0].cpu"),
        ('cpu: "32"', 'cpu: "0"', "cluster.nodePools[0].cpu"),
        ("memory: 128Gi", "memory: .nan", "cluster.nodePools[0].memory"),
        ("memory: 128Gi", "memory: 128Gi\n      labels: {'bad key!': x}", "cluster.nodePools[0].labels"),
    ],
)
def test_run_node_pool_bad_value_exits_2_at_scenario_line(
    tmp_path: Path, old: str, new: str, path: str
) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, old, new)
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["file"] == str(scenario)
    assert match["path"] == path
    assert int(match["line"]) == line_of(scenario, new.split("\n")[-1].strip())
