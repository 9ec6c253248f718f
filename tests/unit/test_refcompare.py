"""sim.report.refcompare: which scaler drives a role, TTFT attainment, the comparison rows (with the
later summary keys slo/cost/findings read when present), and `dsim diff`'s scaler row."""

from __future__ import annotations

from pathlib import Path

from sim.report.analysis import RoleBound, RoleRun, RunData
from sim.report.diff import diff_rows
from sim.report.refcompare import RefRun, attainment, findings_text, reference_rows, scaler_of
from sim.report.timeseries import TimeSeries

AUTOSCALERS = {
    "BudAIScaler/default/prefill-scaler": {
        "target": "DisaggregatedService/llm/prefill",
        "strategy": "BudScaler",
    },
    "PodAutoscaler.knative/default/decode-kpa": {
        "target": "DisaggregatedService/llm/decode",
        "strategy": "Knative KPA",
    },
}


def test_scaler_of() -> None:
    assert scaler_of(AUTOSCALERS, "prefill") == "BudAIScaler BudScaler"
    assert scaler_of(AUTOSCALERS, "decode") == "Knative KPA"
    assert scaler_of(AUTOSCALERS, "router") == "(none)"


def test_attainment() -> None:
    assert attainment([0.5, 1.0, 2.0, 3.0], 2.0) == 0.75
    assert attainment([], 2.0) is None


def _run(summary_extra: dict) -> RefRun:
    summary = {
        "latency": {"ttft": {"p50": 0.2, "p90": 1.0, "p99": 3.0}, "e2e": {"p50": 2.0, "p99": 9.0}},
        "requests": {"arrived": 10, "completed": 10, "dropped": 0, "in_flight": 0},
        "role_order": ["decode"],
        **summary_extra,
    }
    roles = {"decode": RoleRun("decode", 2.0, 2.0, {}, 3, 1, 4)}
    data = RunData("Knative KPA", Path(), summary, TimeSeries([]), [], roles)
    return RefRun(data, (0.1, 0.5, 3.0, 1.0), "Knative KPA", {"aibrix_panic_stateless": 2})


def test_reference_rows_and_optional_keys() -> None:
    bound = {"decode": RoleBound(role="decode", requests=10, pod_seconds=1800.0, gpus_per_pod=1.0)}
    (row, lb) = reference_rows([_run({})], role="decode", bounds=bound)
    assert row["TTFT <= 2 s"] == 0.75 and row["GPU-hours"] == 2.0 and row["x bound"] == 4.0
    assert row["decode ups/downs"] == "3/1" and "SLO attainment" not in row
    assert lb["run"] == "lower bound" and lb["GPU-hours"] == 0.5
    extra = {"slo": {"attainment": 0.9}, "cost": {"total": 12.5}, "findings": [{"id": "a"}, {"id": "b"}]}
    (row,) = reference_rows([_run(extra)], role="decode")
    assert (row["SLO attainment"], row["cost"], row["findings"]) == (0.9, 12.5, 2)
    assert "75.0%" in findings_text([_run({})], role="decode")[0]


def test_diff_shows_each_roles_scaler() -> None:
    a = {"role_order": ["decode"], "roles": {"decode": {}}, "autoscalers": AUTOSCALERS}
    b = {"role_order": ["decode"], "roles": {"decode": {}}, "autoscalers": {}}
    row = next(r for r in diff_rows(a, b) if r.section == "role decode" and r.label == "scaler")
    assert (row.a, row.b) == ("Knative KPA", "(none)")
