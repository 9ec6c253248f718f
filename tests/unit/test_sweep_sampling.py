"""Sweep points: grid order, seeded random and Latin-hypercube draws (deterministic, LHS
stratified), constraints (truth table of the expression language), path application."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.sweep import Range, evaluate_condition, load_sweep
from sim.sweep.plan import build_plan, sample
from tests.helpers.sweeps import SWEEP, write_tiny

RANDOM = """\
apiVersion: dsim/v1
kind: Sweep
name: r
base: tiny.yaml
seed: {seed}
sampling: {{method: {method}, points: 10}}
parameters:
  - path: workload.synthetic.rate
    distribution: {{kind: uniform, low: 1, high: 6}}
  - name: maxReplicas
    path: manifests[BudAIScaler/inference-scaler].spec.maxReplicas
    distribution: {{kind: integer, low: 1, high: 5}}
  - name: target
    path: manifests[BudAIScaler/inference-scaler].spec.metricsSources[0].targetValue
    values: [5, 10]
"""


def test_grid_is_the_product_in_file_order(tmp_path: Path) -> None:
    loaded = load_sweep(write_tiny(tmp_path))
    points = sample(loaded)
    assert points == [
        {"workload.synthetic.rate": 2, "maxReplicas": 2},
        {"workload.synthetic.rate": 2, "maxReplicas": 4},
        {"workload.synthetic.rate": 8, "maxReplicas": 2},
        {"workload.synthetic.rate": 8, "maxReplicas": 4},
    ]
    plan = build_plan(loaded)
    assert [(r.point.params["maxReplicas"], r.point.seed) for r in plan.runs][:4] == [
        (2, 1),
        (2, 2),
        (4, 1),
        (4, 2),
    ]
    assert len({r.key for r in plan.runs}) == 8


def test_ranges_are_inclusive_and_keep_integers() -> None:
    assert Range(start=1, stop=4, step=1).values() == [1, 2, 3, 4]
    assert Range(start=0.5, stop=1.0, step=0.25).values() == [0.5, 0.75, 1.0]
    assert Range(start=0, stop=1, step=0.3).values() == [0, 0.3, 0.6, 0.9]


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_random_and_lhs_are_deterministic_and_seeded(tmp_path: Path, method: str) -> None:
    a = sample(load_sweep(write_tiny(tmp_path, RANDOM.format(seed=7, method=method))))
    b = sample(load_sweep(write_tiny(tmp_path, RANDOM.format(seed=7, method=method))))
    c = sample(load_sweep(write_tiny(tmp_path, RANDOM.format(seed=8, method=method))))
    assert a == b and a != c and len(a) == 10
    for p in a:
        assert 1 <= p["workload.synthetic.rate"] <= 6
        assert p["maxReplicas"] in {1, 2, 3, 4, 5}
        assert p["target"] in {5, 10}


def test_lhs_puts_one_point_in_every_stratum(tmp_path: Path) -> None:
    points = sample(load_sweep(write_tiny(tmp_path, RANDOM.format(seed=3, method="lhs"))))
    strata = sorted(int((p["workload.synthetic.rate"] - 1) / 5 * 10) for p in points)
    assert strata == list(range(10))
    assert sorted(p["target"] for p in points) == [5] * 5 + [10] * 5


def test_points_apply_to_scenario_and_manifest_and_coerce_strings(tmp_path: Path) -> None:
    plan = build_plan(load_sweep(write_tiny(tmp_path, RANDOM.format(seed=1, method="random"))))
    for run in plan.runs:
        assert run.resolved is not None
        sc = run.resolved.scenario
        assert sc.workload is not None and sc.workload.synthetic is not None
        assert sc.workload.synthetic.rate == pytest.approx(run.point.params["workload.synthetic.rate"])
        scaler = next(m.obj for m in run.resolved.manifests if m.obj["kind"] == "BudAIScaler")
        assert scaler["spec"]["maxReplicas"] == run.point.params["maxReplicas"]
        # the manifest holds the target as a string (a Kubernetes quantity): the number is written as text
        assert scaler["spec"]["metricsSources"][0]["targetValue"] == str(run.point.params["target"])


def test_constraints_drop_points_and_invalid_values_make_invalid_rows(tmp_path: Path) -> None:
    text = SWEEP.replace("values: [2, 8]", "values: [-1, 2, 8]").replace(
        "seeds: [1, 2]",
        "seeds: [1, 2]\nconstraints:\n  - {not: {all: [{eq: [seed, 2]}, {ge: [maxReplicas, 4]}]}}",
    )
    plan = build_plan(load_sweep(write_tiny(tmp_path, text)))
    assert plan.dropped_by_constraints == 3
    assert len(plan.runs) == 9
    invalid = [r for r in plan.runs if r.invalid]
    assert len(invalid) == 3
    assert (
        invalid[0].invalid == "workload.synthetic.rate: input should be greater than or equal to 0 (got -1)"
    )


@pytest.mark.parametrize(
    ("expr", "env", "expected"),
    [
        ({"le": ["a", "b"]}, {"a": 1, "b": 2}, True),
        ({"le": ["a", "b"]}, {"a": 2, "b": 2}, True),
        ({"lt": ["a", "b"]}, {"a": 2, "b": 2}, False),
        ({"ge": ["a", 3]}, {"a": 2}, False),
        ({"gt": [{"mul": ["a", 2]}, 3]}, {"a": 2}, True),
        ({"eq": [{"add": ["a", "b"]}, 5]}, {"a": 2, "b": 3}, True),
        ({"ne": [{"sub": ["a", "b"]}, 0]}, {"a": 2, "b": 2}, False),
        ({"le": [{"div": ["a", "b"]}, 1]}, {"a": 1, "b": 0}, None),
        ({"le": ["a", 1]}, {"a": None}, None),
        ({"le": ["a", 1]}, {"a": float("nan")}, None),
        ({"all": [{"le": ["a", 1]}, {"ge": ["a", 0]}]}, {"a": 0.5}, True),
        ({"all": [{"le": ["a", 1]}, {"le": ["b", 1]}]}, {"a": 2, "b": None}, False),
        ({"all": [{"le": ["a", 1]}, {"le": ["b", 1]}]}, {"a": 0, "b": None}, None),
        ({"any": [{"le": ["a", 1]}, {"le": ["b", 1]}]}, {"a": 0, "b": None}, True),
        ({"any": [{"le": ["a", 1]}, {"le": ["b", 1]}]}, {"a": 5, "b": 5}, False),
        ({"not": {"le": ["a", 1]}}, {"a": 5}, True),
        ({"not": {"le": ["a", 1]}}, {"a": None}, None),
    ],
)
def test_condition_truth_table(expr: dict, env: dict, expected: bool | None) -> None:
    assert evaluate_condition(expr, env) is expected
