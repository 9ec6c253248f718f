"""sim.report.analysis helpers the notebooks build on: decisions joined with their reasons, run
variants, the in-memory run matching the runner's."""

from __future__ import annotations

from pathlib import Path

from sim.report.analysis import (
    run_variant,
    scaling_decisions,
    scenario_cost_models,
    simulate,
    with_model_load,
    with_stage,
    with_strategy,
    with_synthetic,
    with_traffic_start,
)
from sim.scenario.load import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_scale_events_are_joined_with_the_decision_that_asked_for_them() -> None:
    events = [
        {"t": 10.0, "type": "scale", "role": "decode", "from": 1, "to": 2, "actor": "budaiscaler-controller"},
        {
            "t": 10.0,
            "type": "decision",
            "event": "decision",
            "target": "DisaggregatedService/default/llm/prefill",
            "desired": 2,
            "reason": "wrong role",
        },
        {
            "t": 10.0,
            "type": "decision",
            "event": "decision",
            "target": "DisaggregatedService/default/llm/decode",
            "desired": 2,
            "reason": "BudScaler: Scaling up from 1 to 2 replicas",
            "details": {
                "metricUsed": "vllm:num_requests_running",
                "currentMetricValue": 78.0,
                "targetMetricValue": 48.0,
                "quirksTriggered": ["tolerance_divided_by_100"],
            },
        },
        {
            "t": 25.0,
            "type": "scale",
            "role": "inference",
            "from": 2,
            "to": 3,
            "actor": "horizontal-pod-autoscaler",
        },
        {
            "t": 25.0,
            "type": "decision",
            "event": "hpa-SuccessfulRescale",
            "reason": "SuccessfulRescale",
            "message": "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        },
        {"t": 30.0, "type": "scale", "role": "router", "from": 1, "to": 2, "actor": "dsim-apply"},
    ]
    got = [
        (d.index, d.t, d.role, d.from_replicas, d.to_replicas, d.reason, d.detail)
        for d in scaling_decisions(events)
    ]
    assert got == [
        (
            1,
            10.0,
            "decode",
            1,
            2,
            "BudScaler: Scaling up from 1 to 2 replicas",
            "vllm:num_requests_running = 78.0 (target 48.0); quirks: tolerance_divided_by_100",
        ),
        (
            2,
            25.0,
            "inference",
            2,
            3,
            "SuccessfulRescale",
            "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        ),
        (3, 30.0, "router", 1, 2, "", ""),
    ]


def test_variants_change_only_what_they_name() -> None:
    base = load_scenario(SCENARIOS / "cold-start-cliff.yaml")
    hpa = with_strategy(base, "HPA", roles=["decode"])
    scalers = {
        m.obj["metadata"]["name"]: m.obj["spec"] for m in hpa.manifests if m.obj["kind"] == "BudAIScaler"
    }
    assert scalers["prefill-scaler"]["scalingStrategy"] == "BudScaler"
    assert scalers["decode-scaler"]["scalingStrategy"] == "HPA"
    assert scalers["decode-scaler"]["metricsSources"] == [
        {"metricSourceType": "custom", "targetMetric": "vllm:num_requests_waiting", "targetValue": "8"}
    ]
    original = {m.obj["metadata"]["name"]: m.obj for m in base.manifests}
    assert original["decode-scaler"]["spec"]["scalingStrategy"] == "BudScaler"  # the original is untouched

    slow = with_model_load(base, {"decode": 240})
    ready = slow.scenario.lifecycle["decode"].ready
    assert ready is not None and (ready.distribution, ready.value) == ("constant", 240.0)
    assert slow.scenario.lifecycle["prefill"] == base.scenario.lifecycle["prefill"]
    pulled = with_stage(base, "imagePull", {"prefill": 5}).scenario.lifecycle["prefill"]
    assert pulled.image_pull is not None and pulled.image_pull.value == 5.0
    assert pulled.ready == base.scenario.lifecycle["prefill"].ready

    sc = base.scenario
    assert sc.workload is not None and sc.workload.synthetic is not None
    moved = with_traffic_start(base, sc.workload.start_at + 100).scenario
    assert moved.workload is not None and moved.workload.synthetic is not None
    assert (moved.workload.start_at, moved.workload.synthetic.at, moved.duration) == (
        sc.workload.start_at + 100,
        (sc.workload.synthetic.at or 0) + 100,
        sc.duration + 100,
    )
    heavier = with_synthetic(base, peakRate=12, outputTokens=256).scenario
    assert heavier.workload is not None and heavier.workload.synthetic is not None
    assert (heavier.workload.synthetic.peak_rate, heavier.workload.synthetic.output_tokens) == (12, 256)


def test_in_memory_run_is_the_runners_run(tmp_path: Path) -> None:
    resolved = load_scenario(SCENARIOS / "embedding-pipeline.yaml")
    models = scenario_cost_models(resolved)
    mem = simulate(resolved, label="mem", models=models)
    disk = run_variant(resolved, tmp_path / "run", label="disk", models=models)
    assert mem.ts.to_csv_bytes() == disk.ts.to_csv_bytes()
    assert mem.events == disk.events
    assert mem.requests == disk.requests
    for role, r in mem.roles.items():  # summary.json rounds to 6 decimals
        d = disk.roles[role]
        assert (r.pod_hours, r.gpu_hours, r.scale_ups, r.scale_downs) == (
            d.pod_hours,
            d.gpu_hours,
            d.scale_ups,
            d.scale_downs,
        )
        assert {k: round(v or 0, 6) for k, v in r.latency.items()} == {
            k: round(v or 0, 6) for k, v in d.latency.items()
        }


def test_notebook_plots_draw_from_plain_data(tmp_path: Path) -> None:
    """The plots the notebooks add to sim.report.plots take plain mappings and write PNGs."""
    from sim.report import plots
    from sim.report.timeseries import TimeSeries

    roles = ["router", "prefill", "decode"]
    ts = TimeSeries(roles)
    for t in range(0, 120, 10):
        for i, role in enumerate(roles):
            ts.add(
                float(t),
                role,
                {
                    "ready": 1 + (t > 60) * i,
                    "spec": 1 + (t > 50) * i,
                    "desired": 1 + (t > 50) * i,
                    "starting": 0,
                    "arrivals": 20,
                    "queue": 3 * i,
                    "latency_p50": 0.1,
                    "latency_p99": 1.0,
                },
            )
    scale = [{"type": "scale", "t": 50.0, "role": "decode", "from": 1, "to": 3}]
    runs = ["A\nupstream", "B\ncorrected"]
    written = [
        plots.plot_role_scaling(ts, scale, tmp_path / "a.png", roles=roles),
        plots.plot_cost_by_run(
            {r: {"prefill": 1.0, "decode": 2.0} for r in runs},
            tmp_path / "b.png",
            roles=roles,
            bounds={"prefill": 0.5, "decode": 0.4},
            incomplete=[runs[1]],
        ),
        plots.plot_latency_by_run(
            {r: {role: {"p50": 0.1, "p99": 9.0} for role in roles} for r in runs},
            tmp_path / "c.png",
            roles=roles,
        ),
        plots.plot_actions_by_run(
            {r: {"decode": (2, 1)} for r in runs}, {runs[0]: 0, runs[1]: 7}, tmp_path / "d.png", roles=roles
        ),
        plots.plot_replicas_grid({r: ts for r in runs}, tmp_path / "e.png", roles=roles, rows=["decode"]),
        plots.plot_cold_start_sweep(
            {
                "decode": [
                    {"load_s": 0.0, "latency": 5.0, "scale_ups": 3},
                    {"load_s": 60.0, "latency": 50.0, "scale_ups": 2},
                ]
            },
            tmp_path / "f.png",
            roles=roles,
            targets={"decode": 20.0},
        ),
    ]
    assert [p.name for p in written] == ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
