"""autoscaler.go pipeline: pod filters, counts, per-source snapshots, GPU, cost, hints, activation."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.decisions.bud_controller.pipeline import (
    active_schedule_hint,
    apply_activation,
    build_scaling_inputs,
    collect_cost_metrics,
    hints_from_spec,
)


def pod(name: str, phase: str, ready: bool | None = None, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    conds = [] if ready is None else [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": meta, "status": {"phase": phase, "conditions": conds}}


SPEC = {
    "metricsSources": [
        {"targetMetric": "qps", "targetValue": "10"},
        {"targetMetric": "kv", "targetValue": "70"},
    ]
}
METRICS = {("p1", "qps"): 8.0, ("p2", "qps"): 12.0, ("p3", "qps"): 100.0, ("p1", "kv"): 0.5}
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def read(pod_name: str, metric: str) -> float | None:
    return METRICS.get((pod_name, metric))


PODS = [
    pod("p1", "Running", True),
    pod("p2", "Running", True),
    pod("p3", "Running", False),  # running, not ready: starting, its metrics ignored
    pod("p4", "Pending"),
    pod("p5", "Running", True, deleting=True),  # being deleted: ignored
    pod("p6", "Succeeded"),
]


def test_counts_and_snapshots_from_ready_pods_only() -> None:
    x = build_scaling_inputs(
        spec=SPEC, current_replicas=4, pods=PODS, read=read, wall_now=T0, no_scale_from_zero=True
    )
    assert (x.running_pod_count, x.ready_pod_count, x.pending_pod_count, x.starting_pod_count) == (3, 2, 1, 2)
    qps = x.metric_snapshots["qps"]
    assert (qps.values, qps.average, qps.sum, qps.min, qps.max, qps.count) == (
        {"p1": 8.0, "p2": 12.0},
        10.0,
        20.0,
        8.0,
        12.0,
        2,
    )
    kv = x.metric_snapshots["kv"]
    assert (kv.values, kv.average, kv.count) == ({"p1": 0.5}, 0.5, 1)
    assert (x.gpu_metrics, x.cost_metrics, x.schedule_hint, x.activation, x.notes) == (
        None,
        None,
        None,
        None,
        (),
    )


def test_running_but_none_ready_gives_empty_snapshot() -> None:
    x = build_scaling_inputs(
        spec=SPEC,
        current_replicas=1,
        pods=[pod("p3", "Running", False)],
        read=read,
        wall_now=T0,
        no_scale_from_zero=True,
    )
    assert {k: (v.values, v.average, v.count) for k, v in x.metric_snapshots.items()} == {
        "qps": ({}, 0.0, 0),
        "kv": ({}, 0.0, 0),
    }


def test_no_pods_no_snapshot_upstream_and_activation_only_when_corrected() -> None:
    up = build_scaling_inputs(
        spec=SPEC,
        current_replicas=0,
        pods=[],
        read=read,
        wall_now=T0,
        no_scale_from_zero=True,
        activation_queue=7,
    )
    assert (up.metric_snapshots, up.activation, up.notes) == (
        {},
        None,
        ("no running pods: no metric snapshot",),
    )
    assert apply_activation(0, up, 5) == (0, None)
    co = build_scaling_inputs(
        spec=SPEC,
        current_replicas=0,
        pods=[],
        read=read,
        wall_now=T0,
        no_scale_from_zero=False,
        activation_queue=7,
    )
    assert co.activation is not None and co.activation.queued == 7.0
    assert apply_activation(0, co, 5) == (1, "activation: 7 requests waiting, scaling from zero to 1")
    assert apply_activation(3, co, 5) == (3, None)
    idle = build_scaling_inputs(
        spec=SPEC,
        current_replicas=0,
        pods=[],
        read=read,
        wall_now=T0,
        no_scale_from_zero=False,
        activation_queue=0,
    )
    assert idle.activation is None


def test_gpu_metrics_averaged_over_pods() -> None:
    gm = {
        ("p1", "DCGM_FI_DEV_FB_USED"): 40.0,
        ("p1", "DCGM_FI_DEV_FB_FREE"): 60.0,
        ("p2", "DCGM_FI_DEV_FB_USED"): 80.0,
        ("p2", "DCGM_FI_DEV_FB_FREE"): 20.0,
        ("p1", "DCGM_FI_DEV_GPU_UTIL"): 10.0,
        ("p2", "DCGM_FI_DEV_GPU_UTIL"): 30.0,
    }
    x = build_scaling_inputs(
        spec={**SPEC, "gpuConfig": {"enabled": True}},
        current_replicas=2,
        pods=PODS[:2],
        read=lambda p, m: gm.get((p, m)),
        wall_now=T0,
        no_scale_from_zero=True,
    )
    assert x.gpu_metrics is not None
    assert (x.gpu_metrics.memory_utilization, x.gpu_metrics.compute_utilization, x.gpu_metrics.gpu_count) == (
        60.0,
        20.0,
        2,
    )


def test_cost_metrics_price_table_and_default_instance() -> None:
    c = collect_cost_metrics({"enabled": True, "budgetPerHour": "10"}, 3)
    assert c is not None
    assert (round(c.current_cost_per_hour, 6), c.budget_per_hour, round(c.per_replica_cost_per_hour, 6)) == (
        3.06,
        10.0,
        1.02,
    )
    spot = collect_cost_metrics({"enabled": True, "preferSpotInstances": True}, 2)
    assert spot is not None and (round(spot.current_cost_per_hour, 6), spot.budget_per_hour) == (0.62, 0.0)
    zero = collect_cost_metrics({"enabled": True}, 0)
    assert (
        zero is not None and zero.current_cost_per_hour == 0.0 and math.isnan(zero.per_replica_cost_per_hour)
    )
    # g5.xlarge is not in the GCP table: no cost metrics at all.
    assert collect_cost_metrics({"enabled": True, "cloudProvider": "gcp"}, 2) is None
    assert collect_cost_metrics({"enabled": False}, 2) is None


def test_schedule_hint_window_in_simulated_wall_clock() -> None:
    hour = timedelta(hours=1)

    def active(at: datetime, cron: str = "0 9 * * *") -> bool:
        hints = hints_from_spec(
            [{"name": "h", "cronExpression": cron, "duration": "1h", "targetReplicas": 4}]
        )
        return active_schedule_hint(hints, at) is not None

    assert active(T0) is True  # fires exactly now
    assert active(T0 + timedelta(minutes=59)) is True
    assert active(T0 + hour) is False
    assert active(T0 - timedelta(seconds=1)) is False
    assert active(T0, "not a cron") is False
    assert (
        hints_from_spec(
            [{"name": "bad", "cronExpression": "* * * * *", "duration": "soon", "targetReplicas": 1}]
        )
        == ()
    )
    spec = {
        **SPEC,
        "scheduleHints": [
            {"name": "night", "cronExpression": "0 1 * * *", "duration": "1h", "targetReplicas": 2},
            {"name": "morning", "cronExpression": "0 9 * * 1-5", "duration": "2h", "targetReplicas": 5},
        ],
    }
    x = build_scaling_inputs(
        spec=spec, current_replicas=1, pods=PODS, read=read, wall_now=T0 + hour, no_scale_from_zero=True
    )
    # 2026-01-01 is a Thursday.
    assert x.schedule_hint is not None
    assert (x.schedule_hint.name, x.schedule_hint.target_replicas, x.schedule_hint.reason) == (
        "morning",
        5,
        "schedule hint: morning",
    )


def test_prediction_enabled_leaves_the_time_series_to_the_controller() -> None:
    x = build_scaling_inputs(
        spec={**SPEC, "predictionConfig": {"enabled": True}},
        current_replicas=1,
        pods=PODS,
        read=read,
        wall_now=T0,
        no_scale_from_zero=True,
    )
    assert x.notes == ()
    assert x.schedule_hint is None
