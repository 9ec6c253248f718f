"""Result columns read summary.json defensively: fields other parts of the project add (slo, cost,
findings, timed_out) fill their columns when present, are null when absent, and per-role mappings
sum into the totals."""

from __future__ import annotations

from sim.sweep.columns import extract, ordered_columns

LATER = {
    "requests": {"arrived": 10, "completed": 9, "dropped": 1, "timed_out": 1},
    "latency": {"ttft": {"p50": 0.1, "p99": 1.5}, "e2e": {"p50": 2.0, "p99": 9.0}},
    "cost": {
        "gpu_hours": {"prefill": 2.0, "decode": 1.0},
        "total_gpu_hours": 3.0,
        "idle_gpu_hours": {"prefill": 1.0, "decode": 0.5},
        "lower_bound_gpu_hours": 1.2,
        "efficiency": 0.4,
        "currency": "USD",
        "amount": 12.0,
        "amount_by_role": {"prefill": 8.0, "decode": 4.0},
    },
    "slo": {"attainment": 0.9, "goodput_rps": 3.5, "met": True, "roles": {"prefill": 0.95, "decode": 0.92}},
    "findings": [{"kind": "scale_up_lag"}, {"kind": "scale_up_lag"}, {"kind": "over_provisioned"}],
    "roles": {"prefill": {"latency": {"p50": 0.1, "p99": 1.4}, "replicas_max": 4}},
}


def test_fields_added_later_fill_their_columns() -> None:
    row = extract(LATER, ["prefill", "decode"], {"gpu_hours_total": 99.0})
    assert row["gpu_hours_total"] == 3.0  # the summary wins over the sweep's own estimate
    assert row["idle_gpu_hours"] == 1.5 and row["decode.idle_gpu_hours"] == 0.5
    assert (row["slo_attainment"], row["goodput_rps"], row["slo_met"]) == (0.9, 3.5, True)
    assert row["prefill.slo_attainment"] == 0.95 and row["prefill.cost_amount"] == 8.0
    assert (row["cost_amount"], row["currency"], row["efficiency"]) == (12.0, "USD", 0.4)
    assert (row["dropped"], row["timed_out"], row["ttft_p99_s"]) == (1, 1, 1.5)
    assert row["prefill.latency_p99_s"] == 1.4 and row["prefill.replicas_max"] == 4
    assert row["findings_total"] == 3
    assert row["findings.scale_up_lag"] == 2 and row["findings.over_provisioned"] == 1


def test_absent_fields_are_null_or_computed() -> None:
    row = extract(
        {"requests": {"dropped": 0}}, ["prefill"], {"gpu_hours_total": 2.5, "prefill.gpu_hours": 2.5}
    )
    assert row["gpu_hours_total"] == 2.5 and row["prefill.gpu_hours"] == 2.5
    for col in (
        "slo_attainment",
        "goodput_rps",
        "timed_out",
        "idle_gpu_hours",
        "findings_total",
        "cost_amount",
    ):
        assert row[col] is None, col
    assert not any(k.startswith("findings.") for k in row)


def test_column_order_puts_findings_after_the_fixed_columns() -> None:
    rows = [{"findings.b": 1, "findings.a": 2, "zzz": 1}]
    cols = ordered_columns(["p"], ["prefill"], rows)
    assert cols[:6] == ["key", "point", "p", "seed", "profile", "status"]
    assert cols[-3:] == ["findings.a", "findings.b", "zzz"]
