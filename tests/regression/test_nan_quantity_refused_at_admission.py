"""Regression (issue 21, case 5): a container request `cpu: .nan` (YAML NaN) passed admission and
the run stopped with `ValueError: cannot convert NaN to integer`. A real API server refuses NaN
and infinite quantities (JSON has neither); so do admission, `dsim validate` and `dsim run`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from model.admission import admit
from model.quantity import QuantityError, is_quantity, parse_quantity
from tests.helpers.badinput import assert_bad_input, copy_scenario, dsim_run, dsim_validate, edit, line_of

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "d"},
    "spec": {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {
            "metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": 1}}}]},
        },
    },
}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_quantity_refused_at_admission(value: float) -> None:
    obj = copy.deepcopy(DEPLOYMENT)
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = value
    issues = admit(obj)
    assert [i.path for i in issues] == ["spec.template.spec.containers[0].resources.requests.cpu"]
    assert "finite" in issues[0].message
    assert not is_quantity(value)
    with pytest.raises(QuantityError):
        parse_quantity(value)


def test_run_container_request_nan_exits_2(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path, "llm-prefill-decode")
    manifest = tmp_path / "manifests" / "llm-prefill-decode.yaml"
    edit(manifest, 'requests: {cpu: "4",', "requests: {cpu: .nan,")
    match = assert_bad_input(dsim_run(scenario, tmp_path))
    assert match["file"] == str(manifest)
    assert int(match["line"]) == line_of(manifest, "cpu: .nan")
    assert match["path"].endswith("cpu")
    assert "finite" in match["message"]
    assert dsim_validate(manifest).exit_code == 2
