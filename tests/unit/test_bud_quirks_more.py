"""The four later algorithm quirks in both profiles (and each alone): upstream behaviour, corrected
behaviour, and when each is reported in `Recommendation.quirks_triggered`."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud import (
    AlgorithmState,
    CostMetrics,
    MetricSnapshot,
    MetricSourceSpec,
    Reason,
    ScalingContext,
    ScalingRequest,
    compute_recommendation,
    scaling_context_from_scaler,
)
from sim.decisions.bud.cost import collect_cost_metrics, provider_of
from sim.decisions.bud.kpa import MAX_SAMPLES_PER_METRIC, window_averages
from sim.decisions.bud.prediction import (
    DataPoint,
    effective_look_ahead_s,
    predict_for_scaler,
    prediction_data_of,
)
from sim.decisions.bud.types import MetricSample
from sim.decisions.bud_controller import pipeline

UP = QuirkSet.upstream()
CORR = QuirkSet.corrected()
RPS = (MetricSourceSpec("rps", "10"),)


def only(quirk: Quirk) -> QuirkSet:
    """The corrected profile with just this one quirk switched on."""
    return QuirkSet("corrected", {quirk.value: True})


def req(per_pod: float, current: int) -> ScalingRequest:
    """`current` ready pods each reporting `per_pod`."""
    return ScalingRequest(
        current_replicas=current,
        ready_pod_count=current,
        metric_snapshots={"rps": MetricSnapshot(per_pod, current)},
    )


def decide(
    ctx: ScalingContext, r: ScalingRequest, quirks: QuirkSet, **kw: object
) -> tuple[int, tuple[str, ...]]:
    rec = compute_recommendation(ctx, r, now=1000.0, quirks=quirks, **kw)  # type: ignore[arg-type]
    return rec.desired_replicas, tuple(str(q) for q in rec.quirks_triggered)


# --- down_tolerance_ignored -------------------------------------------------------------------


def test_down_tolerance_ignored_truth_table() -> None:
    # ratio 0.75 on 8 replicas; scale-up tolerance 0.1 (default), scale-down tolerance 0.3
    ctx = ScalingContext(metric_sources=RPS, down_fluctuation_tolerance=0.3)
    kpa = ctx.with_overrides(strategy="KPA")
    r = req(7.5, 8)
    table = {
        (strategy, name): decide(c, r, quirks)
        for strategy, c in (("BudScaler", ctx), ("KPA", kpa))
        for name, quirks in (
            ("upstream", UP),
            ("corrected", CORR),
            ("alone", only(Quirk.DOWN_TOLERANCE_IGNORED)),
        )
    }
    assert table == {
        # upstream: 0.001 either way (tolerance_divided_by_100 hides this quirk): 8*(1-0.5*0.25) -> 7
        ("BudScaler", "upstream"): (7, ()),
        ("BudScaler", "corrected"): (8, ()),  # |0.75-1| < 0.3: within the scale-down tolerance
        ("BudScaler", "alone"): (7, ("down_tolerance_ignored",)),  # 0.25 >= 0.1 (the scale-up one)
        # KPA upstream panics at 2 % of target; with windows that panic would hold 8, hence the attribution
        ("KPA", "upstream"): (6, ("panic_threshold_divided_by_100", "kpa_windows_unused")),
        ("KPA", "corrected"): (8, ()),
        ("KPA", "alone"): (6, ("down_tolerance_ignored",)),  # ceil(8*0.75)
    }
    assert compute_recommendation(ctx, r, now=0.0, quirks=CORR).reason == Reason.WITHIN_TOLERANCE


def test_down_tolerance_from_spec_and_annotation_only_for_scale_down() -> None:
    scaler = {
        "metadata": {"annotations": {"scaler.bud.studio/scale-down-tolerance": "0.3"}},
        "spec": {
            "maxReplicas": 20,
            "behavior": {"scaleDown": {"tolerance": "0.05"}},
            "metricsSources": [{"targetMetric": "rps", "targetValue": "10"}],
        },
    }
    ctx = scaling_context_from_scaler(scaler)
    assert (ctx.up_fluctuation_tolerance, ctx.down_fluctuation_tolerance) == (0.1, 0.3)  # annotation wins
    assert ctx.tolerance_for(0.75, down_ignored=True) == 0.1
    assert ctx.tolerance_for(0.75, down_ignored=False) == 0.3
    assert ctx.tolerance_for(1.25, down_ignored=False) == 0.1
    alone = only(Quirk.DOWN_TOLERANCE_IGNORED)
    assert (decide(ctx, req(7.5, 8), alone), decide(ctx, req(7.5, 8), CORR)) == (
        (7, ("down_tolerance_ignored",)),
        (8, ()),
    )
    # ratio 1.25: the scale-up tolerance applies in both settings (8*(1+0.8*0.25) -> 10)
    assert (decide(ctx, req(12.5, 8), alone), decide(ctx, req(12.5, 8), CORR)) == ((10, ()), (10, ()))


# --- kpa_windows_unused -----------------------------------------------------------------------

KPA = ScalingContext(strategy="KPA", max_replicas=20, scale_down_cooldown_s=0.0, metric_sources=RPS)
"""Panic window 60 s and stable window 180 s (upstream's context defaults)."""
SPIKE = (
    (0.0, 40.0),
    (60.0, 40.0),
    (120.0, 40.0),
    (130.0, 160.0),
    (140.0, 40.0),
    (200.0, 40.0),
    (330.0, 40.0),
)
"""(time, total load over all pods): steady 40, one 10-second burst of 160, back to 40."""


def trail(ctx: ScalingContext, quirks: QuirkSet) -> list[tuple[int, bool, tuple[str, ...]]]:
    current, state, out = 4, None, []
    for now, load in SPIKE:
        rec = compute_recommendation(ctx, req(load / current, current), now=now, quirks=quirks, state=state)
        out.append((rec.desired_replicas, rec.in_panic_mode, tuple(str(q) for q in rec.quirks_triggered)))
        current, state = rec.desired_replicas, rec.state
    return out


def test_kpa_windows_unused_truth_table() -> None:
    w = "kpa_windows_unused"
    p = "panic_threshold_divided_by_100"
    assert trail(KPA, UP) == [
        (4, False, ()),
        (4, False, ()),
        (4, False, ()),
        (16, True, (w,)),  # instantaneous 40/pod: ratio 4, panic, no rate cap
        (8, True, (p, w)),  # 2.5/pod: ratio 0.25 -> halves at once
        (4, True, (p, w)),
        (4, False, (w,)),  # on target; with windows the panic of t=200 would still last (same replicas)
    ]
    assert trail(KPA, only(Quirk.KPA_WINDOWS_UNUSED)) == [
        (4, False, ()),
        (4, False, ()),
        (4, False, ()),
        (16, True, (w,)),
        (8, False, (w,)),
        (4, False, (w,)),
        (4, False, ()),
    ]
    assert trail(KPA, CORR) == [
        (4, False, ()),
        (4, False, ()),
        (4, False, ()),
        # stable mean total 70 -> 17.5/pod (x4 -> 7); panic mean 100 -> 25/pod, ratio 2.5 >= 2: panic,
        # the larger count: ceil(4*2.5) = 10 (Knative: ceil(70/10)=7, ceil(100/10)=10)
        (10, True, ()),
        (10, True, ()),  # stable 64 -> 7 wanted, but no scale-down while panicking
        (10, True, ()),  # last over threshold at 130: panic lasts until 130 + 180
        (5, False, ()),  # panic over; stable (200, 330] mean 40 -> 4/pod -> 4, floored at 10*0.5
    ]


def test_kpa_window_lengths_matter_only_when_corrected() -> None:
    short = KPA.with_overrides(panic_window_s=6.0, stable_window_s=18.0)
    assert [d for d, _, _ in trail(short, UP)] == [d for d, _, _ in trail(KPA, UP)] == [4, 4, 4, 16, 8, 4, 4]
    # a 6-second panic window sees only the burst: 40/pod -> 16, like the instantaneous value
    assert [d for d, _, _ in trail(short, CORR)] == [4, 4, 4, 16, 16, 8, 4]
    assert [d for d, _, _ in trail(KPA, CORR)] == [4, 4, 4, 10, 10, 10, 5]


def test_kpa_window_history_is_bounded_and_retry_safe() -> None:
    ctx = KPA.with_overrides(stable_window_s=1e6, panic_window_s=1e6)
    state = AlgorithmState(
        metric_samples={"rps": tuple(MetricSample(float(t), 10.0, 4) for t in range(MAX_SAMPLES_PER_METRIC))}
    )
    rec = compute_recommendation(ctx, req(10.0, 4), now=5000.0, quirks=CORR, state=state)
    samples = rec.state.metric_samples["rps"]
    assert (len(samples), samples[0].t, samples[-1]) == (
        MAX_SAMPLES_PER_METRIC,
        1.0,
        MetricSample(5000.0, 10.0, 4),
    )
    # the same decision retried at the same instant replaces its sample instead of counting it twice
    again = compute_recommendation(ctx, req(20.0, 4), now=5000.0, quirks=CORR, state=rec.state)
    assert again.state.metric_samples["rps"][-1] == MetricSample(5000.0, 20.0, 4)
    assert len(again.state.metric_samples["rps"]) == MAX_SAMPLES_PER_METRIC
    w = window_averages(again.state.metric_samples["rps"], KPA, now=5000.0, totals=True)
    assert (w.panic_average, w.stable_average) == (80.0, 80.0)


# --- prediction_lookahead_fixed ---------------------------------------------------------------

HISTORY = tuple(DataPoint(60.0 * i, 100.0 + i) for i in range(100))
"""One point a minute rising by 1 a minute from 100; confidence 0.762 (above the 0.7 gate)."""
AT = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def test_effective_look_ahead() -> None:
    assert [effective_look_ahead_s(m, q) for m in (5, 60) for q in (UP, CORR)] == [
        900.0,
        300.0,
        900.0,
        3600.0,
    ]
    assert effective_look_ahead_s(5, only(Quirk.PREDICTION_LOOKAHEAD_FIXED)) == 900.0


def test_prediction_lookahead_fixed_truth_table() -> None:
    up = predict_for_scaler(HISTORY, 10, 100.0, 1, 30, look_ahead_minutes=60, at=AT, quirks=UP)
    corr = predict_for_scaler(HISTORY, 10, 100.0, 1, 30, look_ahead_minutes=60, at=AT, quirks=CORR)
    # 15 min ahead: 199 + 15 = 214 -> ceil(10*2.14) = 22; 60 min ahead: 259 -> 26
    assert (up.result.recommended_replicas, up.result.predicted_value) == (22, 214.0)
    assert (corr.result.recommended_replicas, corr.result.predicted_value, corr.without) == (26, 259.0, {})
    assert up.without[Quirk.PREDICTION_LOOKAHEAD_FIXED] == corr.result
    # lookAheadMinutes 15 is the default: the quirk changes nothing and nothing is offered as alternative
    same = predict_for_scaler(HISTORY, 10, 100.0, 1, 30, look_ahead_minutes=15, at=AT, quirks=UP)
    assert (same.result.recommended_replicas, same.without) == (22, {})

    # through BudScaler's prediction blend (weight 0.3 x confidence 0.762 = 0.229)
    ctx = ScalingContext(metric_sources=RPS, max_replicas=30, prediction_enabled=True, look_ahead_minutes=60)
    base = req(10.0, 10)  # on target: the metric step keeps 10
    upstream_request = replace(base, prediction_data=prediction_data_of(up.result))
    alternatives = {q: replace(base, prediction_data=prediction_data_of(p)) for q, p in up.without.items()}
    corrected_request = replace(base, prediction_data=prediction_data_of(corr.result))
    assert decide(ctx, upstream_request, UP, input_alternatives=alternatives) == (
        13,  # round(10*(1-w) + 22*w) = round(12.75)
        ("prediction_lookahead_fixed",),
    )
    assert decide(ctx, corrected_request, CORR) == (14, ())  # round(10*(1-w) + 26*w) = round(13.66)
    # without alternatives the controller quirk cannot be attributed (the algorithm never sees it)
    assert decide(ctx, upstream_request, UP) == (13, ())


# --- cost_provider_case_sensitive -------------------------------------------------------------


def test_cost_provider_lookup_truth_table() -> None:
    assert [provider_of(n) for n in ("", "aws", "AWS", "Gcp")] == ["aws", "aws", None, None]
    assert [provider_of(n, case_sensitive=False) for n in ("", "aws", "AWS", "Gcp")] == [
        "aws",
        "aws",
        "aws",
        "gcp",
    ]
    assert collect_cost_metrics("AWS", 6.0, False, 4) is None
    assert collect_cost_metrics("AWS", 6.0, False, 4, cost_provider_case_sensitive=False) == CostMetrics(
        4.08, 6.0, 1.02
    )
    zero_up = collect_cost_metrics("aws", 1.5, False, 0)
    assert zero_up is not None and math.isnan(zero_up.per_replica_cost_per_hour)
    assert collect_cost_metrics("aws", 1.5, True, 0, cost_provider_case_sensitive=False) == CostMetrics(
        0.0, 1.5, 0.31
    )
    # non-zero replicas: identical in both settings
    assert collect_cost_metrics("aws", 6.0, False, 3) == collect_cost_metrics(
        "aws", 6.0, False, 3, cost_provider_case_sensitive=False
    )


def _cost_decisions(
    ctx: ScalingContext, base: ScalingRequest, provider: str, budget: float
) -> dict[str, tuple[int, tuple[str, ...]]]:
    def with_cost(case_sensitive: bool) -> ScalingRequest:
        cost = collect_cost_metrics(
            provider, budget, False, base.current_replicas, cost_provider_case_sensitive=case_sensitive
        )
        return replace(base, cost_metrics=cost)

    out = {}
    for name, quirks in (
        ("upstream", UP),
        ("corrected", CORR),
        ("alone", only(Quirk.COST_PROVIDER_CASE_SENSITIVE)),
    ):
        on = Quirk.COST_PROVIDER_CASE_SENSITIVE in quirks
        alternatives = {Quirk.COST_PROVIDER_CASE_SENSITIVE: with_cost(False)} if on else {}
        out[name] = decide(ctx, with_cost(on), quirks, input_alternatives=alternatives)
    return out


def test_cost_provider_case_sensitive_truth_table() -> None:
    ctx = ScalingContext(metric_sources=RPS, max_replicas=20, cost_config_present=True)
    # "AWS", budget $6/h, 4 replicas at ratio 2 -> 8 wanted; corrected: 4.08 + 4*1.02 > 6 -> 4 + int(1.92/1.02) = 5
    assert _cost_decisions(ctx, req(20.0, 4), "AWS", 6.0) == {
        "upstream": (8, ("cost_provider_case_sensitive",)),
        "corrected": (5, ()),
        "alone": (8, ("cost_provider_case_sensitive",)),
    }
    # "aws" at 0 replicas (minReplicas 0), budget $1.5/h: upstream's NaN per-replica cost lets 2 through;
    # corrected caps at int(1.5/1.02) = 1
    zero = ScalingRequest(current_replicas=0, metric_snapshots={"rps": MetricSnapshot(50.0, 0)})
    assert _cost_decisions(ctx.with_overrides(min_replicas=0), zero, "aws", 1.5) == {
        "upstream": (2, ("cost_provider_case_sensitive",)),
        "corrected": (1, ()),
        "alone": (2, ("cost_provider_case_sensitive",)),
    }
    # lower-case provider, replicas > 0: the quirk changes nothing and is never reported
    assert _cost_decisions(ctx, req(20.0, 4), "aws", 6.0) == {
        "upstream": (5, ()),
        "corrected": (5, ()),
        "alone": (5, ()),
    }


def test_controller_pipeline_collects_cost_per_quirk() -> None:
    cfg = {"enabled": True, "cloudProvider": "AWS", "budgetPerHour": "6"}
    assert pipeline.collect_cost_metrics(cfg, 4) is None
    assert pipeline.collect_cost_metrics(cfg, 4, cost_provider_case_sensitive=False) == pipeline.CostMetrics(
        current_cost_per_hour=4.08, budget_per_hour=6.0, per_replica_cost_per_hour=1.02
    )
    zero = pipeline.collect_cost_metrics({"enabled": True}, 0, cost_provider_case_sensitive=False)
    assert zero is not None and zero.per_replica_cost_per_hour == 1.02


def test_controller_reports_cost_quirk_in_decision_details() -> None:
    from sim.controllers.budaiscaler import AlgorithmCall, bud_algorithm

    spec = {
        "scalingStrategy": "BudScaler",
        "maxReplicas": 20,
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "metricsSources": [{"targetMetric": "rps", "targetValue": "10"}],
        "costConfig": {"enabled": True, "cloudProvider": "AWS", "budgetPerHour": "6"},
    }
    scaler = {"metadata": {"namespace": "ns", "name": "cost-quirk", "uid": "u1"}, "spec": spec}
    ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    pods = [{"metadata": {"name": f"web-{i}"}, "status": ready} for i in range(4)]
    out = {}
    for name, quirks in (("upstream", UP), ("corrected", CORR)):
        inputs = pipeline.build_scaling_inputs(
            spec=spec,
            current_replicas=4,
            pods=pods,
            read=lambda _pod, _metric: 20.0,
            wall_now=AT,
            no_scale_from_zero=True,
            cost_provider_case_sensitive=Quirk.COST_PROVIDER_CASE_SENSITIVE in quirks,
        )
        outcome = bud_algorithm(AlgorithmCall(scaler, "BudScaler", inputs, None, 1000.0, quirks))
        out[name] = (inputs.cost_metrics is None, outcome.desired, outcome.details["quirksTriggered"])
    assert out == {
        "upstream": (True, 8, ["cost_provider_case_sensitive"]),
        "corrected": (False, 5, []),
    }
