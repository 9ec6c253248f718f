"""Each algorithm quirk in both profiles: the upstream behaviour, the corrected one, and the attribution."""

from __future__ import annotations

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud import (
    MetricSnapshot,
    MetricSourceSpec,
    Reason,
    ScalingContext,
    ScalingPolicy,
    ScalingRequest,
    apply_scale_down_policies,
    apply_scale_up_policies,
    compute_recommendation,
)
from sim.decisions.bud.types import ScaleEvent

UP = QuirkSet.upstream()
CORR = QuirkSet.corrected()
CTX = ScalingContext(metric_sources=(MetricSourceSpec("rps", "10"),))


def req(value: float, current: int = 4, **kw: object) -> ScalingRequest:
    return ScalingRequest(
        current_replicas=current,
        ready_pod_count=current,
        metric_snapshots={"rps": MetricSnapshot(value)},
        **kw,
    )  # type: ignore[arg-type]


def both(
    ctx: ScalingContext, r: ScalingRequest, now: float = 1000.0
) -> tuple[tuple[int, tuple[object, ...]], tuple[int, tuple[object, ...]]]:
    u = compute_recommendation(ctx, r, now=now, quirks=UP)
    c = compute_recommendation(ctx, r, now=now, quirks=CORR)
    return (u.desired_replicas, u.quirks_triggered), (c.desired_replicas, c.quirks_triggered)


def test_tolerance_divided_by_100() -> None:
    # ratio 1.05: upstream tolerance 0.001 scales (4*1.04 -> 5); corrected 0.1 holds
    assert both(CTX, req(10.5)) == ((5, (Quirk.TOLERANCE_DIVIDED_BY_100,)), (4, ()))
    assert compute_recommendation(CTX, req(10.5), now=0.0, quirks=CORR).reason == Reason.WITHIN_TOLERANCE
    only = QuirkSet("corrected", {"tolerance_divided_by_100": True})
    assert compute_recommendation(CTX, req(10.5), now=0.0, quirks=only).desired_replicas == 5


def test_panic_threshold_divided_by_100() -> None:
    ctx = CTX.with_overrides(strategy="KPA", scale_up_policies=(ScalingPolicy("Pods", 1, 60),))
    u = compute_recommendation(ctx, req(15.0), now=0.0, quirks=UP)
    c = compute_recommendation(ctx, req(15.0), now=0.0, quirks=CORR)
    assert (u.desired_replicas, u.in_panic_mode, u.quirks_triggered) == (
        6,
        True,
        (Quirk.PANIC_THRESHOLD_DIVIDED_BY_100,),
    )
    assert (c.desired_replicas, c.in_panic_mode, c.quirks_triggered) == (5, False, ())


def test_policies_ignore_period_functions() -> None:
    pods2 = (ScalingPolicy("Pods", 2, 60),)
    events = (ScaleEvent(30.0, 2),)
    up = apply_scale_up_policies(6, 20, pods2, "Max", quirks=UP, events=events, now=60.0)
    assert (up.replicas, up.quirks_triggered) == (8, (Quirk.POLICIES_IGNORE_PERIOD,))
    assert apply_scale_up_policies(6, 20, pods2, "Max", quirks=CORR, events=events, now=60.0).replicas == 6
    # the event left the 60 s period: both agree
    assert apply_scale_up_policies(6, 20, pods2, "Max", quirks=CORR, events=events, now=90.0).replicas == 8
    down_events = (ScaleEvent(30.0, -2),)
    down = apply_scale_down_policies(6, 1, pods2, "Min", quirks=UP, events=down_events, now=60.0)
    assert (down.replicas, down.quirks_triggered) == (4, (Quirk.POLICIES_IGNORE_PERIOD,))
    assert (
        apply_scale_down_policies(6, 1, pods2, "Min", quirks=CORR, events=down_events, now=60.0).replicas == 6
    )
    pct = (ScalingPolicy("Percent", 100, 60),)  # start-of-period 4 -> 8 allowed; current 6
    assert (
        apply_scale_up_policies(
            6, 20, pct, "Max", quirks=CORR, events=(ScaleEvent(10.0, 2),), now=60.0
        ).replicas
        == 8
    )
    assert (
        apply_scale_up_policies(
            6, 20, pct, "Max", quirks=UP, events=(ScaleEvent(10.0, 2),), now=60.0
        ).replicas
        == 12
    )


def test_policies_ignore_period_over_consecutive_decisions() -> None:
    ctx = CTX.with_overrides(scale_up_policies=(ScalingPolicy("Pods", 2, 60),))
    trail: dict[str, list[int]] = {}
    for name, quirks in (("upstream", UP), ("corrected", CORR)):
        current, state, out = 2, None, []
        for now in (0.0, 15.0, 30.0, 45.0, 60.0):
            rec = compute_recommendation(ctx, req(100.0, current), now=now, quirks=quirks, state=state)
            current, state = rec.desired_replicas, rec.state
            out.append(current)
        trail[name] = out
    assert trail == {"upstream": [4, 6, 8, 10, 10], "corrected": [4, 4, 4, 4, 6]}


def test_scale_down_floor_one() -> None:
    pods10 = (ScalingPolicy("Pods", 10, 60),)
    assert apply_scale_down_policies(2, 0, pods10, "Min", min_replicas=0, quirks=UP).replicas == 1
    assert apply_scale_down_policies(2, 0, pods10, "Min", min_replicas=0, quirks=CORR).replicas == 0
    # whole pipeline: minReplicas 0 and zero load. Upstream's 0-as-"no proposal" keeps 3.
    ctx = CTX.with_overrides(min_replicas=0, scale_down_cooldown_s=0.0)
    assert both(ctx, req(0.0, current=3)) == ((3, (Quirk.SCALE_DOWN_FLOOR_ONE,)), (0, ()))
    kpa = ctx.with_overrides(strategy="KPA")
    assert both(kpa, req(0.0, current=1)) == ((1, (Quirk.SCALE_DOWN_FLOOR_ONE,)), (0, ()))
    # with minReplicas 1 both profiles reach 1
    assert both(CTX.with_overrides(scale_down_cooldown_s=0.0), req(0.0, current=3)) == ((1, ()), (1, ()))


def test_stabilization_from_last_scale_time() -> None:
    ctx = CTX.with_overrides(scale_down_cooldown_s=300.0)
    # scaled 100 s ago: upstream holds every scale-down for 300 s; corrected has no higher recommendation
    assert both(ctx, req(5.0, last_scale_time=900.0)) == (
        (4, (Quirk.STABILIZATION_FROM_LAST_SCALE_TIME,)),
        (3, ()),
    )
    # corrected: a window over recommendations (Kubernetes style); upstream has no lastScaleTime to look at
    trail: dict[str, list[int]] = {}
    for name, quirks in (("upstream", UP), ("corrected", CORR)):
        current, state, out = 8, None, []
        for now, load in ((0.0, 10.0), (60.0, 5.0), (120.0, 5.0), (320.0, 5.0)):
            rec = compute_recommendation(ctx, req(load, current), now=now, quirks=quirks, state=state)
            current, state = rec.desired_replicas, rec.state
            out.append(current)
        trail[name] = out
    assert trail == {"upstream": [8, 6, 5, 4], "corrected": [8, 8, 8, 6]}


def test_kv_cache_fraction_vs_percent() -> None:
    ctx = ScalingContext(
        metric_sources=(MetricSourceSpec("gpu_cache_usage_perc", "70", "inferenceEngine", "vllm"),)
    )
    r = ScalingRequest(
        current_replicas=4, ready_pod_count=4, metric_snapshots={"gpu_cache_usage_perc": MetricSnapshot(0.9)}
    )
    # upstream: 0.9/70 = 0.013 -> scale down to floor(4*0.5) = 2; corrected: 90/70 -> 4*1.229 -> 5
    assert both(ctx, r) == ((2, (Quirk.KV_CACHE_FRACTION_VS_PERCENT,)), (5, ()))
    as_fraction = ScalingContext(metric_sources=(MetricSourceSpec("vllm:gpu_cache_usage_perc", "0.7"),))
    r2 = ScalingRequest(
        current_replicas=4,
        ready_pod_count=4,
        metric_snapshots={"vllm:gpu_cache_usage_perc": MetricSnapshot(0.9)},
    )
    assert both(as_fraction, r2) == ((5, ()), (5, ()))  # a target written as a fraction is left alone


def test_no_quirk_fires_when_profiles_agree() -> None:
    assert both(CTX, req(20.0)) == ((8, ()), (8, ()))
