"""Properties of the BudScaler and KPA decisions over random contexts and requests, both profiles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model.quirks import ALL_QUIRKS, QuirkSet
from sim.decisions.bud import (
    MetricSnapshot,
    MetricSourceSpec,
    ScaleDirection,
    ScalingContext,
    ScalingPolicy,
    ScalingRequest,
    compute_recommendation,
)
from sim.decisions.bud.recommend import ALGORITHM_QUIRKS, _without

policies = st.lists(
    st.builds(
        ScalingPolicy,
        type=st.sampled_from(["Pods", "Percent"]),
        value=st.integers(0, 200),
        period_seconds=st.integers(0, 300),
    ),
    max_size=3,
).map(tuple)


@st.composite
def cases(draw: st.DrawFn) -> tuple[ScalingContext, ScalingRequest, QuirkSet, float]:
    lo = draw(st.integers(0, 5))
    hi = draw(st.integers(max(lo, 1), 20))
    ctx = ScalingContext(
        strategy=draw(st.sampled_from(["BudScaler", "KPA"])),
        min_replicas=lo,
        max_replicas=hi,
        metric_sources=(MetricSourceSpec("rps", "10"), MetricSourceSpec("vllm:gpu_cache_usage_perc", "70")),
        scale_up_policies=draw(policies),
        scale_down_policies=draw(policies),
        scale_up_select_policy=draw(st.sampled_from(["Max", "Min", "Disabled"])),
        scale_down_select_policy=draw(st.sampled_from(["Max", "Min", "Disabled"])),
        scale_up_cooldown_s=float(draw(st.integers(0, 120))),
        scale_down_cooldown_s=float(draw(st.integers(0, 600))),
        max_starting_pod_percent=draw(st.sampled_from([0, 50])),
    )
    current = draw(st.integers(0, 25))
    ready = draw(st.integers(0, current))
    snaps = {}
    if draw(st.booleans()):
        snaps["rps"] = MetricSnapshot(draw(st.floats(0.0, 100.0, allow_nan=False)))
    if draw(st.booleans()):
        snaps["vllm:gpu_cache_usage_perc"] = MetricSnapshot(draw(st.floats(0.0, 1.0, allow_nan=False)))
    now = 1000.0
    last = draw(st.none() | st.floats(0.0, now, allow_nan=False))
    request = ScalingRequest(
        current_replicas=current,
        ready_pod_count=ready,
        starting_pod_count=draw(st.integers(0, current - ready)),
        metric_snapshots=snaps,
        last_scale_time=last,
    )
    overrides = {q.value: draw(st.booleans()) for q in ALL_QUIRKS}
    return ctx, request, QuirkSet(draw(st.sampled_from(["upstream", "corrected"])), overrides), now


@given(cases())
def test_decision_is_bounded_deterministic_and_attributed(
    case: tuple[ScalingContext, ScalingRequest, QuirkSet, float],
) -> None:
    ctx, request, quirks, now = case
    rec = compute_recommendation(ctx, request, now=now, quirks=quirks)
    again = compute_recommendation(ctx, request, now=now, quirks=quirks)
    assert rec == again
    cur = request.current_replicas
    assert min(cur, ctx.min_replicas) <= rec.desired_replicas <= max(cur, ctx.max_replicas)
    expected_dir = (
        ScaleDirection.UP
        if rec.desired_replicas > cur
        else ScaleDirection.DOWN
        if rec.desired_replicas < cur
        else ScaleDirection.NONE
    )
    assert rec.direction is expected_dir
    assert (
        rec.steps[-1] == ("stabilization", rec.desired_replicas)
        or rec.steps[-1].replicas == rec.desired_replicas
    )
    enabled = set(quirks.enabled())
    assert set(rec.quirks_triggered) <= enabled & set(ALGORITHM_QUIRKS)
    for quirk in sorted(enabled & set(ALGORITHM_QUIRKS)):
        alt = compute_recommendation(ctx, request, now=now, quirks=_without(quirks, quirk))
        changed = (alt.desired_replicas, alt.in_panic_mode) != (rec.desired_replicas, rec.in_panic_mode)
        assert changed == (quirk in rec.quirks_triggered)


@given(cases())
def test_corrected_profile_never_reports_quirks(
    case: tuple[ScalingContext, ScalingRequest, QuirkSet, float],
) -> None:
    ctx, request, _, now = case
    rec = compute_recommendation(ctx, request, now=now, quirks=QuirkSet.corrected())
    assert rec.quirks_triggered == ()
    # corrected never goes below minReplicas unless the gate or a window holds an already-lower count
    assert rec.desired_replicas >= min(ctx.min_replicas, request.current_replicas)
