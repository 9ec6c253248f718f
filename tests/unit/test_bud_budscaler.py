"""Truth tables for each step of the BudScaler pipeline (algorithm/budscaler.go ComputeRecommendation)."""

from __future__ import annotations

import pytest

from model.quirks import QuirkSet
from sim.decisions.bud import (
    CostMetrics,
    GPUMetrics,
    MetricSnapshot,
    MetricSourceSpec,
    PredictionData,
    Reason,
    RecommendationError,
    ScaleDirection,
    ScalingContext,
    ScalingPolicy,
    ScalingRequest,
    compute_recommendation,
)
from sim.decisions.bud.context import CostConfig, GPUConfig

UP = QuirkSet.upstream()
CORR = QuirkSet.corrected()
CTX = ScalingContext(metric_sources=(MetricSourceSpec("rps", "10"),))


def req(
    value: float | None, current: int = 4, ready: int | None = None, starting: int = 0, **kw: object
) -> ScalingRequest:
    snaps = {} if value is None else {"rps": MetricSnapshot(value)}
    return ScalingRequest(
        current_replicas=current,
        ready_pod_count=current if ready is None else ready,
        starting_pod_count=starting,
        metric_snapshots=snaps,
        **kw,  # type: ignore[arg-type]
    )


def decide(
    ctx: ScalingContext, r: ScalingRequest, quirks: QuirkSet = UP, now: float = 1000.0
) -> tuple[int, Reason]:
    rec = compute_recommendation(ctx, r, now=now, quirks=quirks)
    return rec.desired_replicas, rec.reason


@pytest.mark.parametrize(
    ("value", "current", "expected"),
    [
        (20.0, 4, (8, Reason.METRIC)),  # ratio 2: 4*(1+0.8)=7.2 -> ceil 8, cap ceil(4*2)=8
        (40.0, 4, (8, Reason.METRIC)),  # ratio 4: 4*3.4=13.6 -> 14, capped at 8
        (15.0, 4, (6, Reason.METRIC)),  # ratio 1.5: 5.6 -> 6
        (5.0, 4, (3, Reason.METRIC)),  # ratio 0.5: 4*0.75=3 -> 3
        (1.0, 10, (6, Reason.METRIC)),  # ratio 0.1: 10*0.55 = 5.5 -> Go math.Round 6 (half away from zero)
        (0.0, 6, (1, Reason.ZERO_LOAD)),  # zero load proposes minReplicas 1
        (None, 4, (4, Reason.NO_METRICS)),  # no snapshot: keep
        (10.0, 4, (4, Reason.WITHIN_TOLERANCE)),
    ],
)
def test_metric_step(value: float | None, current: int, expected: tuple[int, Reason]) -> None:
    assert decide(CTX.with_overrides(scale_down_cooldown_s=0.0), req(value, current)) == expected


def test_metric_max_over_sources_and_unparsable_target_skipped() -> None:
    ctx = CTX.with_overrides(
        metric_sources=(
            MetricSourceSpec("rps", "10"),
            MetricSourceSpec("q", "5"),
            MetricSourceSpec("x", "n/a"),
        )
    )
    r = ScalingRequest(
        current_replicas=4,
        ready_pod_count=4,
        metric_snapshots={"rps": MetricSnapshot(15.0), "q": MetricSnapshot(10.0), "x": MetricSnapshot(1e9)},
    )
    rec = compute_recommendation(ctx, r, now=0.0, quirks=UP)
    # rps -> 6, q (ratio 2) -> 8, x skipped
    assert (rec.desired_replicas, rec.metric_used, rec.current_metric_value, rec.target_metric_value) == (
        8,
        "rps",
        15.0,
        10.0,
    )
    assert rec.message == "BudScaler: Scaling up from 4 to 8 replicas"
    assert rec.direction is ScaleDirection.UP


def test_starting_pods_raise_the_baseline_and_the_gate_holds() -> None:
    # ready 2 + 0.5*4 starting = 4 > current 3: ratio 1.5 on 4 -> 5.6 -> 6; starting 4/6 = 66% >= 50% -> gated
    rec = compute_recommendation(CTX, req(15.0, current=3, ready=2, starting=4), now=0.0, quirks=UP)
    assert (rec.desired_replicas, rec.reason) == (3, Reason.STARTING_POD_GATE)
    assert [(s.name, s.replicas) for s in rec.steps] == [
        ("metric", 6),
        ("bounds", 6),
        ("policies", 6),
        ("starting_pod_gate", 3),
        ("stabilization", 3),
    ]
    open_gate = CTX.with_overrides(max_starting_pod_percent=0)
    assert decide(open_gate, req(15.0, current=3, ready=2, starting=4)) == (6, Reason.METRIC)


def test_gpu_step_only_raises() -> None:
    ctx = CTX.with_overrides(gpu=GPUConfig(enabled=True, memory_threshold=80, compute_threshold=80))
    hot = req(10.0, gpu_metrics=GPUMetrics(90.0, 50.0))  # max(1.125, 0.625) -> ceil(4.5) = 5
    assert decide(ctx, hot) == (5, Reason.GPU)
    cool = req(15.0, gpu_metrics=GPUMetrics(10.0, 10.0))  # gpu 1 < metric 6
    assert decide(ctx, cool) == (6, Reason.METRIC)
    rec = compute_recommendation(ctx, hot, now=0.0, quirks=UP)
    assert rec.message == "BudScaler: Scaling up from 4 to 5 replicas (GPU mem: 90.0%, compute: 50.0%)"
    disabled = CTX.with_overrides(gpu=GPUConfig(enabled=False, memory_threshold=80))
    assert decide(disabled, hot) == (4, Reason.WITHIN_TOLERANCE)


def test_prediction_blend_needs_enabled_and_confidence() -> None:
    ctx = CTX.with_overrides(prediction_enabled=True)
    sure = req(10.0, prediction_data=PredictionData(predicted_replicas=10, confidence=0.8))
    assert decide(ctx, sure) == (5, Reason.PREDICTION)  # round(4*0.76 + 10*0.24) = round(5.44)
    unsure = req(10.0, prediction_data=PredictionData(predicted_replicas=10, confidence=0.6))
    assert decide(ctx, unsure) == (4, Reason.WITHIN_TOLERANCE)
    assert decide(CTX, sure) == (4, Reason.WITHIN_TOLERANCE)  # prediction not enabled


def test_schedule_hint_is_a_floor_and_not_blended() -> None:
    ctx = CTX.with_overrides(prediction_enabled=True)
    hint = PredictionData(
        predicted_replicas=7, confidence=1.0, is_schedule_hint=True, schedule_hint_name="rush"
    )
    rec = compute_recommendation(ctx, req(10.0, prediction_data=hint), now=0.0, quirks=UP)
    assert (rec.desired_replicas, rec.reason) == (7, Reason.SCHEDULE_HINT_FLOOR)
    assert rec.message == "BudScaler: Scaling up from 4 to 7 replicas [schedule hint 'rush' floor: 7]"
    assert decide(ctx, req(40.0, prediction_data=hint)) == (8, Reason.METRIC)


@pytest.mark.parametrize(
    ("budget", "value", "expected"),
    [
        (5.0, 20.0, (4, Reason.COST_CEILING)),  # 0.92 left < 1.02 per replica: no scale-up
        (7.0, 20.0, (6, Reason.COST_CEILING)),  # int(2.92/1.02) = 2 more
        (3.0, 20.0, (2, Reason.COST_CEILING)),  # over budget: int(3/1.02) = 2
        (100.0, 20.0, (8, Reason.METRIC)),
    ],
)
def test_cost_ceiling(budget: float, value: float, expected: tuple[int, Reason]) -> None:
    ctx = CTX.with_overrides(
        cost_config_present=True, cost=CostConfig(enabled=True), scale_down_cooldown_s=0.0
    )
    cost = CostMetrics(current_cost_per_hour=4.08, budget_per_hour=budget, per_replica_cost_per_hour=1.02)
    assert decide(ctx, req(value, cost_metrics=cost)) == expected


def test_cost_message_reports_budget_usage() -> None:
    ctx = CTX.with_overrides(cost_config_present=True)
    cost = CostMetrics(current_cost_per_hour=4.08, budget_per_hour=5.0, per_replica_cost_per_hour=1.02)
    rec = compute_recommendation(ctx, req(10.0, cost_metrics=cost), now=0.0, quirks=UP)
    assert rec.message == "BudScaler: No scaling needed at 4 replicas (budget usage: 81.6%)"


def test_bounds() -> None:
    assert decide(CTX.with_overrides(max_replicas=6), req(40.0)) == (6, Reason.MAX_REPLICAS)
    assert decide(CTX.with_overrides(min_replicas=5), req(10.0)) == (5, Reason.MIN_REPLICAS)
    assert decide(CTX.with_overrides(min_replicas=7, max_replicas=5), req(10.0)) == (7, Reason.MIN_REPLICAS)


def test_policies_step() -> None:
    ctx = CTX.with_overrides(scale_up_policies=(ScalingPolicy("Pods", 2, 60),))
    assert decide(ctx, req(40.0)) == (6, Reason.SCALE_UP_POLICY)
    down = CTX.with_overrides(scale_down_policies=(ScalingPolicy("Pods", 1, 60),), scale_down_cooldown_s=0.0)
    assert decide(down, req(1.0, current=10)) == (9, Reason.SCALE_DOWN_POLICY)
    off = CTX.with_overrides(
        scale_up_policies=(ScalingPolicy("Pods", 2, 60),), scale_up_select_policy="Disabled"
    )
    assert decide(off, req(40.0)) == (4, Reason.SCALE_UP_POLICY)


def test_stabilization_upstream_counts_from_last_scale_time() -> None:
    ctx = CTX.with_overrides(scale_up_cooldown_s=30.0)
    assert decide(ctx, req(20.0, last_scale_time=980.0)) == (4, Reason.STABILIZATION)  # 20 s < 30 s
    assert decide(ctx, req(20.0, last_scale_time=960.0)) == (8, Reason.METRIC)  # 40 s >= 30 s
    assert decide(ctx, req(5.0, last_scale_time=800.0)) == (4, Reason.STABILIZATION)  # 200 s < 300 s
    assert decide(ctx, req(5.0, last_scale_time=None)) == (3, Reason.METRIC)


def test_errors_and_strategy_dispatch() -> None:
    with pytest.raises(RecommendationError, match="at least one metric source is required"):
        compute_recommendation(ScalingContext(), req(1.0), now=0.0, quirks=UP)
    for strategy in ("BudScaler", "HPA", ""):
        rec = compute_recommendation(CTX.with_overrides(strategy=strategy), req(20.0), now=0.0, quirks=CORR)
        assert rec.message.startswith("BudScaler: ")
    kpa = compute_recommendation(CTX.with_overrides(strategy="KPA"), req(20.0), now=0.0, quirks=CORR)
    assert kpa.message.startswith("Scaling up from 4 to 8 replicas based on rps metric")


def test_state_is_carried_and_pruned() -> None:
    ctx = CTX.with_overrides(scale_up_policies=(ScalingPolicy("Pods", 2, 60),), scale_down_cooldown_s=100.0)
    first = compute_recommendation(ctx, req(40.0), now=0.0, quirks=CORR)
    assert first.state.scale_events[0].change == 2
    second = compute_recommendation(ctx, req(40.0, current=6), now=30.0, quirks=CORR, state=first.state)
    assert [(e.t, e.change) for e in second.state.scale_events] == [(0.0, 2)]  # period used up: hold at 6
    assert second.desired_replicas == 6
    later = compute_recommendation(ctx, req(40.0, current=6), now=200.0, quirks=CORR, state=second.state)
    assert [(e.t, e.change) for e in later.state.scale_events] == [(200.0, 2)]
    assert [r.t for r in later.state.recommendations] == [200.0]


def test_go_float_corner_cases_are_reproduced() -> None:
    # "NaN" is a valid Go float: a NaN scale-up rate makes the cap int32(NaN) = MinInt32, then the floor 1
    nan_rate = CTX.with_overrides(max_scale_up_rate=float("nan"))
    assert decide(nan_rate, req(20.0)) == (1, Reason.METRIC)
    # a NaN target passes `target <= 0` in Go and scales down at the maximum rate
    nan_target = CTX.with_overrides(
        metric_sources=(MetricSourceSpec("rps", "NaN"),), scale_down_cooldown_s=0.0
    )
    assert decide(nan_target, req(20.0, current=8)) == (4, Reason.METRIC)
