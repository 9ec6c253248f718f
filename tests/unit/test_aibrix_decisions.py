"""AIBrix PodAutoscaler decisions: upstream Go tests beyond the shared vectors, and the quirks.
Sources: vllm-project/aibrix e3e10f9e algorithm/kpa_test.go, apa_test.go, autoscaler_test.go,
context/context_test.go, podautoscaler_controller.go."""

from __future__ import annotations

from dataclasses import replace

from model.quirks import Quirk, QuirkSet
from sim.decisions.aibrix.algorithms import (
    PanicState,
    apa_compute_target_replicas,
    kpa_compute_target_replicas,
    kpa_recommendation,
)
from sim.decisions.aibrix.autoscaler import (
    AutoscalerState,
    compute_desired_replicas,
    compute_scale_decision,
    stabilize_recommendation,
)
from sim.decisions.aibrix.context import ScalingContext, context_for
from sim.decisions.aibrix.window import MetricWindows

UP, CORR = QuirkSet.upstream(), QuirkSet.corrected()
KPA_ARGS = {"max_scale_up_rate": 2.0, "max_scale_down_rate": 2.0, "up_tolerance": 0.0, "down_tolerance": 0.0}


def _pa(strategy: str = "KPA", target: str = "50", **spec: object) -> dict:
    return {
        "metadata": {"namespace": "default", "name": "pa", "annotations": {}},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "d"},
            "scalingStrategy": strategy,
            "maxReplicas": 10,
            "metricsSources": [{"metricSourceType": "pod", "targetMetric": "m", "targetValue": target}],
            **spec,
        },
    }


def test_kpa_go_table_rows() -> None:
    """kpa_test.go: stable_mode_basic_scaling, panic_mode_scaling_up, activation_scale_from_zero."""
    assert (
        kpa_compute_target_replicas(
            1, stable=15, panic=15, target=10, in_panic=False, max_panic_pods=0, **KPA_ARGS
        )[0]
        == 2
    )
    assert (
        kpa_compute_target_replicas(
            2, stable=20, panic=40, target=10, in_panic=True, max_panic_pods=0, **KPA_ARGS
        )[0]
        == 4
    )
    got = kpa_compute_target_replicas(
        0, stable=15, panic=15, target=10, in_panic=False, max_panic_pods=0, activation_scale=3, **KPA_ARGS
    )
    assert got[0] == 3


def test_apa_go_table_rows() -> None:
    """apa_test.go: within down tolerance, scale down to max-scale-down floor."""
    args = {"up_tolerance": 0.1, "down_tolerance": 0.1, "max_scale_up_rate": 2.0, "max_scale_down_rate": 2.0}
    assert apa_compute_target_replicas(2, target=30, use_per_pod=28, **args) == 2
    assert apa_compute_target_replicas(8, target=30, use_per_pod=1, **args) == 4


def test_compute_desired_replicas_one_source() -> None:
    """autoscaler_test.go TestComputeDesiredReplicas 'with one metrics source': 70 vs 50 on 1 pod -> 2."""
    pa = _pa("APA", "50")
    ctx, err = context_for(pa)
    ctx = replace(ctx, min_replicas=0, max_replicas=6, max_scale_up_rate=4)
    res, _ = compute_desired_replicas(pa, ctx, 1, {"m": [70.0]}, AutoscalerState(), 0.0, UP)
    assert err is None and res.valid and res.desired == 2


def test_metric_windows_from_spec() -> None:
    """TestComputeDesiredReplicasConfiguresMetricWindowsFromPodAutoscalerSpec: 120 s / 30 s windows."""
    w = MetricWindows.new(120, 30).update(0, [10.0]).update(60, [70.0])
    assert w.values() == (40.0, 70.0)


def test_context_annotations_and_bounds() -> None:
    pa = _pa()
    pa["metadata"]["annotations"] = {
        "autoscaling.aibrix.ai/max-scale-up-rate": "3",
        "autoscaling.aibrix.ai/scale-down-cooldown-window": "1m",
        "autoscaling.aibrix.ai/scale-to-zero": "true",
    }
    ctx, err = context_for(pa)
    assert err is None
    assert (ctx.max_scale_up_rate, ctx.scale_down_cooldown, ctx.scale_to_zero, ctx.min_replicas) == (
        3.0,
        60.0,
        True,
        1,
    )
    pa["metadata"]["annotations"] = {"autoscaling.aibrix.ai/panic-threshold": "x"}
    assert context_for(pa)[1] is not None


def test_panic_holds_only_when_corrected() -> None:
    """aibrix_panic_stateless: after a burst, upstream drops straight back; corrected holds the panic count."""
    args = dict(
        target=10.0, panic_threshold=2.0, stable_window=60.0, min_replicas=1, max_replicas=20, **KPA_ARGS
    )
    burst = {"stable": 20.0, "panic": 60.0}  # 6 pods wanted, 2 ready: 3x the threshold
    calm = {"stable": 20.0, "panic": 20.0}
    for quirks, want_after in ((UP, 2), (CORR, 4)):
        state = PanicState()
        r = kpa_recommendation(2, now=0.0, state=state, quirks=quirks, **burst, **args)
        assert r.in_panic and r.replicas == 4
        r = kpa_recommendation(4, now=10.0, state=r.state, quirks=quirks, **calm, **args)
        assert r.replicas == want_after, quirks.profile


def test_kpa_average_as_total() -> None:
    """aibrix_kpa_average_as_total: 3 pods at 60 against 48: upstream ceil(60/48)=2, corrected ceil(180/48)=4."""
    pa = _pa("KPA", "48")
    ctx = replace(context_for(pa)[0], up_tolerance=0.0, down_tolerance=0.0)
    up, _ = compute_desired_replicas(pa, ctx, 3, {"m": [60.0, 60.0, 60.0]}, AutoscalerState(), 0.0, UP)
    corr, _ = compute_desired_replicas(pa, ctx, 3, {"m": [60.0, 60.0, 60.0]}, AutoscalerState(), 0.0, CORR)
    assert (up.desired, corr.desired) == (2, 4)
    assert Quirk.AIBRIX_KPA_AVERAGE_AS_TOTAL.value in up.quirks_triggered


def test_cooldown_upstream_vs_corrected() -> None:
    """aibrix_cooldown_picks_extreme: recommendations 8, 6, then 3 with 8 current in a 300 s window."""
    ctx = ScalingContext(scale_down_cooldown=300.0, scale_up_cooldown=0.0)
    hist: tuple[tuple[float, int], ...] = ((0.0, 8), (10.0, 6))
    up, _, changed = stabilize_recommendation(hist, 3, 8, 20.0, ctx, UP)
    corr, _, _ = stabilize_recommendation(hist, 3, 8, 20.0, ctx, CORR)
    assert (up, corr, changed) == (3, 8, True)
    # scale-up with a 0 s window: only the current recommendation counts, both agree
    assert (
        stabilize_recommendation((), 9, 8, 30.0, ctx, UP)[0]
        == stabilize_recommendation((), 9, 8, 30.0, ctx, CORR)[0]
        == 9
    )


def test_scale_decision_boundaries() -> None:
    """computeScaleDecision: no scaling from 0 when minReplicas != 0; clamps to the bounds first."""
    pa = _pa()
    ctx = context_for(pa)[0]
    d, _ = compute_scale_decision(pa, ctx, 0, {"m": []}, AutoscalerState(), 0.0, UP)
    assert (d.desired, d.should_scale, d.algorithm) == (0, False, "boundary-check")
    d, _ = compute_scale_decision(pa, ctx, 12, {"m": [1.0]}, AutoscalerState(), 0.0, UP)
    assert (d.desired, d.should_scale) == (10, True)
    d, _ = compute_scale_decision(pa, ctx, 2, {"m": None}, AutoscalerState(), 0.0, UP)
    assert not d.valid and not d.should_scale
