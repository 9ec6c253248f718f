"""Regression (found by `make deep`'s mutation fuzz, exported as
fuzz-counterexamples/run-crashed-attributeerror-nonetype-object-has-no-attribute-setdefault): a
DisaggregatedService role with `template: {spec: null}` crashed the run in the API server's
Deployment defaulting (`AttributeError: 'NoneType' object has no attribute 'setdefault'`). JSON
null decodes into a zero-value struct in Go, so defaulting now treats it as an empty object."""

from __future__ import annotations

import shutil
from pathlib import Path

from sim.apiserver.defaults import apply_defaults
from tests.helpers.badinput import copy_scenario, dsim_run

MUTANT = Path(__file__).resolve().parents[1] / "data" / "fuzz" / "ds-role-template-spec-null.yaml"


def test_run_ds_role_template_spec_null_does_not_crash(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path, "hpa-strategy")
    shutil.copy(MUTANT, tmp_path / "manifests" / "hpa-strategy.yaml")
    result = dsim_run(scenario, tmp_path, "--max-sim-seconds", "30", "--no-render")
    assert result.exit_code in (0, 1), result.output
    assert not (result.out / "error.txt").exists()


def test_deployment_defaulting_takes_null_as_an_empty_object() -> None:
    obj = {"kind": "Deployment", "spec": {"strategy": None, "template": {"spec": None}}}
    apply_defaults("Deployment", obj)
    assert obj["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert obj["spec"]["strategy"]["type"] == "RollingUpdate"
    pod = {"kind": "Pod", "spec": None}
    apply_defaults("Pod", pod)
    assert pod["spec"]["restartPolicy"] == "Always"
