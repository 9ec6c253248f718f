"""Truth tables for the repo's KPA port (algorithm/kpa.go)."""

from __future__ import annotations

import pytest

from model.quirks import QuirkSet
from sim.decisions.bud import (
    MetricSnapshot,
    MetricSourceSpec,
    Reason,
    ScalingContext,
    ScalingPolicy,
    ScalingRequest,
)
from sim.decisions.bud.kpa import calculate_desired_replicas, effective_panic_threshold, window_averages
from sim.decisions.bud.recommend import compute_kpa_recommendation

UP = QuirkSet.upstream()
CORR = QuirkSet.corrected()
CTX = ScalingContext(
    strategy="KPA", metric_sources=(MetricSourceSpec("rps", "10"),), scale_down_cooldown_s=0.0
)


def req(value: float, current: int = 4, ready: int | None = None, starting: int = 0) -> ScalingRequest:
    return ScalingRequest(
        current_replicas=current,
        ready_pod_count=current if ready is None else ready,
        starting_pod_count=starting,
        metric_snapshots={"rps": MetricSnapshot(value)},
    )


@pytest.mark.parametrize(
    ("value", "current", "quirks", "replicas", "panic"),
    [
        (15.0, 4, UP, 6, True),  # ratio 1.5 >= 0.02: panic upstream
        (15.0, 4, CORR, 6, False),  # corrected threshold 2.0
        (5.0, 4, UP, 2, True),  # scale-down ratio 0.5 still "panics" upstream
        (5.0, 4, CORR, 2, False),
        (30.0, 4, CORR, 12, True),  # ratio 3 >= 2: panic skips the rate cap ceil(4*2)=8
        (2.0, 10, CORR, 5, False),  # ratio 0.2: ceil(2) floored at floor(10*0.5) = 5
        (10.05, 4, UP, 5, True),  # |0.005| >= 0.001: ceil(4.02) = 5
        (10.05, 4, CORR, 4, False),  # within tolerance 0.1
    ],
)
def test_calculate_desired_replicas(
    value: float, current: int, quirks: QuirkSet, replicas: int, panic: bool
) -> None:
    d = calculate_desired_replicas(value, 10.0, current, current, 0, CTX, quirks)
    assert (d.replicas, d.in_panic) == (replicas, panic)


def test_rate_cap_applies_outside_panic_only() -> None:
    ctx = CTX.with_overrides(max_scale_up_rate=1.5)
    d = calculate_desired_replicas(19.0, 10.0, 4, 4, 0, ctx, CORR)  # ratio 1.9: ceil(7.6)=8 > ceil(6)=6
    assert (d.replicas, d.in_panic) == (6, False)
    d = calculate_desired_replicas(19.0, 10.0, 4, 4, 0, ctx, UP)  # panic upstream: no cap
    assert (d.replicas, d.in_panic) == (8, True)


def test_panic_threshold_defaults_and_annotation() -> None:
    assert effective_panic_threshold(CTX, UP) == pytest.approx(0.02)
    assert effective_panic_threshold(CTX, CORR) == 2.0
    assert effective_panic_threshold(CTX.with_overrides(panic_threshold=0.0), UP) == 2.0
    assert effective_panic_threshold(CTX.with_overrides(panic_threshold=200.0), UP) == 2.0


def test_panic_skips_scale_up_policies_upstream() -> None:
    ctx = CTX.with_overrides(scale_up_policies=(ScalingPolicy("Pods", 1, 60),))
    up = compute_kpa_recommendation(ctx, req(15.0), now=0.0, quirks=UP)
    corr = compute_kpa_recommendation(ctx, req(15.0), now=0.0, quirks=CORR)
    assert (up.desired_replicas, up.in_panic_mode, up.reason) == (6, True, Reason.METRIC)
    assert (corr.desired_replicas, corr.in_panic_mode, corr.reason) == (5, False, Reason.SCALE_UP_POLICY)
    assert (
        up.message
        == "Scaling up from 4 to 6 replicas based on rps metric (current: 15.00, target: 10.00) [PANIC MODE]"
    )
    assert (
        corr.message == "Scaling up from 4 to 5 replicas based on rps metric (current: 15.00, target: 10.00)"
    )


def test_bypass_gate_on_panic() -> None:
    ctx = CTX.with_overrides(bypass_gate_on_panic=True)
    # ready 2, starting 4: gate (66% >= 50%) unless panicking with bypass on
    r = req(15.0, current=3, ready=2, starting=4)
    assert compute_kpa_recommendation(ctx, r, now=0.0, quirks=UP).desired_replicas == 6
    assert compute_kpa_recommendation(ctx, r, now=0.0, quirks=CORR).reason == Reason.STARTING_POD_GATE


def test_no_change_message_and_window_samples() -> None:
    rec = compute_kpa_recommendation(CTX, req(10.0), now=100.0, quirks=CORR)
    assert rec.reason == Reason.WITHIN_TOLERANCE
    assert (
        rec.message
        == "No scaling needed. Current replicas 4 is optimal for rps metric (current: 10.00, target: 10.00)"
    )
    nxt = compute_kpa_recommendation(CTX, req(30.0), now=150.0, quirks=CORR, state=rec.state)
    w = window_averages(nxt.state.metric_samples["rps"], CTX, now=150.0)
    assert (w.panic_average, w.stable_average) == (20.0, 20.0)
    w = window_averages(nxt.state.metric_samples["rps"], CTX, now=170.0)
    assert (w.panic_average, w.stable_average) == (30.0, 20.0)
