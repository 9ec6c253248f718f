"""Knative KPA decisions: upstream Go tests beyond the shared vectors, re-expressed, plus truth tables
of the scaler. Sources: knative/serving 98e5ef90 pkg/autoscaler/scaling/autoscaler_test.go,
aggregation/bucketing_test.go, reconciler/autoscaling/kpa/scaler_test.go, resources/metric_test.go."""

from __future__ import annotations

import pytest

from sim.decisions.knative.aggregation import MaxTimeWindow, TimedBuckets, round_to_n_digits
from sim.decisions.knative.config import (
    AutoscalerConfig,
    DeciderSpec,
    Reachability,
    make_decider_spec,
    resolve_metric_target,
    windows,
)
from sim.decisions.knative.decider import new_decider_state, scale
from sim.decisions.knative.scaler import Active, PAStatus, next_status
from sim.decisions.knative.scaler import scale as scaler_scale

G = "autoscaling.knative.dev/"


def _spec(target: float, tbc: float = 100.0, **kw: object) -> DeciderSpec:
    base: dict[str, object] = {
        "target_value": target,
        "total_value": target / 0.75,
        "target_burst_capacity": tbc,
        "panic_threshold": 2.0,
        "max_scale_up_rate": 10.0,
        "max_scale_down_rate": 10.0,
        "activator_capacity": 150.0,
        "stable_window": 60.0,
        "reachable": True,
    }
    base.update(kw)
    return DeciderSpec(**base)  # type: ignore[arg-type]


def _run(spec: DeciderSpec, steps: list[tuple[float, int, float, float]], ready0: int = 0) -> list[int]:
    state = new_decider_state(spec, ready0, 0.0)
    out = []
    for t, ready, stable, panic in steps:
        result, state = scale(
            spec, state, ready_pods=ready, observed_stable=stable, observed_panic=panic, now=t
        )
        out.append(result.desired_pod_count)
    return out


def test_scale_down_delay_simple_and_gradual() -> None:
    """TestAutoscalerScaleDownDelay: the max over the delay window holds scale-downs for 5 minutes."""
    spec = DeciderSpec(
        target_value=10,
        max_scale_down_rate=10,
        max_scale_up_rate=10,
        panic_threshold=100,
        scale_down_delay=300,
        reachable=True,
    )
    steps = [
        (2, 0, 40, 40),
        (300, 0, 0, 0),
        (302, 0, 0, 0),
        (540, 0, 40, 40),
        (600, 0, 30, 30),
        (660, 0, 0, 0),
        (840, 0, 0, 0),
        (900, 0, 0, 0),
    ]
    assert _run(spec, steps) == [4, 4, 0, 4, 4, 4, 3, 0]


def test_scale_down_delay_ignored_when_unreachable() -> None:
    """TestAutoscalerScaleDownDelayNotReachable: an unreachable revision scales down at once."""
    spec = DeciderSpec(
        target_value=10,
        max_scale_down_rate=10,
        max_scale_up_rate=10,
        panic_threshold=100,
        scale_down_delay=300,
        reachable=True,
    )
    state = new_decider_state(spec, 0, 0.0)
    r, state = scale(spec, state, ready_pods=0, observed_stable=40, observed_panic=40, now=2)
    r, state = scale(spec, state, ready_pods=0, observed_stable=0, observed_panic=0, now=60)
    assert r.desired_pod_count == 4
    unreachable = DeciderSpec(
        target_value=10,
        max_scale_down_rate=10,
        max_scale_up_rate=10,
        panic_threshold=100,
        scale_down_delay=300,
        reachable=False,
    )
    r, state = scale(unreachable, state, ready_pods=0, observed_stable=0, observed_panic=0, now=2)
    assert r.desired_pod_count == 0


def test_unpanic_after_slow_increase() -> None:
    """TestAutoscalerUnpanicAfterSlowIncrease: panic ends a stable window after the last surge."""
    spec = _spec(1, 98)
    state = new_decider_state(spec, 1, 0.0)
    r, state = scale(spec, state, ready_pods=10, observed_stable=11, observed_panic=25, now=0)
    assert (r.desired_pod_count, state.panic_time) == (25, 0)
    r, state = scale(spec, state, ready_pods=40, observed_stable=30, observed_panic=41, now=30)
    assert (r.desired_pod_count, state.panic_time) == (41, 0)
    r, state = scale(spec, state, ready_pods=55, observed_stable=50, observed_panic=56, now=62)
    assert (r.desired_pod_count, state.panic_time) == (50, None)


def test_panic_then_unpanic_scale_down() -> None:
    """TestAutoscalerPanicThenUnPanicScaleDown: no scale-down while panicking, then straight down."""
    spec = _spec(10, 93)
    assert _run(spec, [(0, 1, 100, 100), (0, 10, 100, 1000), (30, 10, 1, 1), (61, 10, 1, 1)], ready0=1) == [
        10,
        100,
        100,
        1,
    ]


def test_rate_limit_scale_up_and_update_target() -> None:
    """TestAutoscalerRateLimitScaleUp and TestAutoscalerUpdateTarget."""
    assert _run(_spec(10, 61), [(0, 1, 1000, 1001), (0, 10, 1000, 1001)], ready0=1) == [10, 100]
    spec = _spec(10, 77)
    state = new_decider_state(spec, 1, 0.0)
    r, state = scale(spec, state, ready_pods=1, observed_stable=100, observed_panic=101, now=0)
    assert r.desired_pod_count == 10
    updated = DeciderSpec(
        target_value=1,
        total_value=1 / 0.75,
        activator_capacity=21,
        target_burst_capacity=71,
        panic_threshold=2,
        max_scale_down_rate=10,
        max_scale_up_rate=10,
        stable_window=60,
    )
    r, state = scale(updated, state, ready_pods=10, observed_stable=100, observed_panic=101, now=0)
    assert r.desired_pod_count == 100


def test_start_in_panic_mode() -> None:
    """TestStartInPanicMode: a new decider panics iff more than one pod is ready."""
    spec = _spec(100, 11)
    assert [new_decider_state(spec, n, 5.0).in_panic for n in (0, 1, 2)] == [False, False, True]
    assert new_decider_state(spec, 2, 5.0).max_panic_pods == 2


def test_window_average_sequence_from_go() -> None:
    """TestTimedFloat64BucketsWindowAverage."""
    b = TimedBuckets.new(5, 1).record(0, 1)
    assert b.window_average(0) == 1
    for i in range(1, 5):
        b = b.record(i, i + 1)
    assert b.window_average(4) == 3 and b.window_average(3.6) == 3
    assert b.window_average(6) == (15 - 1 - 2) / 3 and b.window_average(10) == 0
    b = b.record(6, 91)
    assert b.window_average(6) == (15 - 1 - 2 + 91) / 5
    now = 66.0
    b = b.record(now, 1984)
    assert b.window_average(now) == 1984
    b = b.record(now - 3, 4)
    assert b.window_average(now) == (4 + 1984) / 4
    now += 1
    b = b.record(now, 5).record(now - 3, 10)
    assert b.window_average(now) == (4 + 10 + 1984 + 5) / 5
    b = b.record(now - 6, 10).record(now - 5, 10)  # too early / at the bound: ignored
    assert b.window_average(now) == (4 + 10 + 1984 + 5) / 5
    b = b.record(now + 5, 10)  # exactly a window of silence resets
    assert b.window_average(now + 5) == 10


def test_resize_window_keeps_recent_buckets() -> None:
    """TestTimedFloat64BucketsResizeWindow (grow): the data survives, the average is over the valid buckets."""
    b = TimedBuckets.new(5, 1)
    for i in range(5):
        b = b.record(i, i + 1)
    grown = b.resize_window(10, 4)
    assert len(grown.buckets) == 10 and grown.window_sum(4) == 15
    assert grown.window_average(4) == 3


def test_max_window_and_rounding() -> None:
    w = MaxTimeWindow.new(5, 1)
    for t, v in ((0, 5), (1, 8)):
        w = w.record(t, v)
    assert w.current() == 8
    assert round_to_n_digits(6, 3.1415926535) == 3.141593 and round_to_n_digits(3, 2.0005) == 2.001


def test_make_decider_from_annotations_and_defaults() -> None:
    """MakeDecider: Knative's defaults (70 = 100 x 70%, panic 2.0, rates 1000/2), annotations override."""
    d = make_decider_spec({}, AutoscalerConfig())
    assert (d.target_value, d.total_value, d.panic_threshold) == (pytest.approx(70.0), 100.0, 2.0)
    assert (d.max_scale_up_rate, d.max_scale_down_rate, d.target_burst_capacity) == (1000.0, 2.0, 211.0)
    ann = {
        G + "target": "48",
        G + "target-utilization-percentage": "100",
        G + "panic-threshold-percentage": "300",
        G + "scale-down-delay": "2m",
        G + "activation-scale": "3",
        G + "metric": "rps",
    }
    d = make_decider_spec(ann, AutoscalerConfig())
    assert (d.target_value, d.panic_threshold, d.scale_down_delay, d.activation_scale, d.scaling_metric) == (
        48.0,
        3.0,
        120.0,
        3,
        "rps",
    )
    assert windows({G + "window": "10m"}, AutoscalerConfig()) == (600.0, 60.0)
    assert resolve_metric_target({G + "targetUtilizationPercentage": "50"}, 10, AutoscalerConfig()) == (
        5.0,
        10.0,
    )


CFG = AutoscalerConfig(
    stable_window=300,
    scale_to_zero_grace_period=60,
    progress_deadline=121,
    target_burst_capacity=200,
    max_scale_up_rate=12,
)


@pytest.mark.parametrize(
    ("desired", "start", "min_scale", "want", "apply"),
    [
        (0, 10, "", 1, True),  # EnableScaleToZero == false and minScale == 0
        (0, 10, "2", 2, True),  # ... and minScale == 2
        (-1, 10, "", -1, False),  # ... and desired -1
    ],
)
def test_disable_scale_to_zero(desired: int, start: int, min_scale: str, want: int, apply: bool) -> None:
    """TestDisableScaleToZero."""
    cfg = AutoscalerConfig(enable_scale_to_zero=False, stable_window=300, scale_to_zero_grace_period=60)
    ann = {G + "min-scale": min_scale} if min_scale else {}
    d = scaler_scale(
        desired,
        annotations=ann,
        reachability=Reachability.REACHABLE,
        status=PAStatus(Active.TRUE, 1000.0),
        current_replicas=start,
        config=cfg,
        now=1000.0,
    )
    assert (d.desired, d.apply) == (want, apply)


def test_scaler_truth_table_scale_to_zero_path() -> None:
    """Active -> wait a stable window -> deactivate; Inactive -> grace period -> 0 (TestScaler rows)."""
    now = 1000.0

    def run(active: Active, age: float, **kw: object) -> tuple[int, bool, int]:
        d = scaler_scale(
            0,
            annotations={},
            reachability=Reachability.UNKNOWN,
            status=PAStatus(active, now - age),
            current_replicas=1,
            config=CFG,
            now=now,
            **kw,
        )  # type: ignore[arg-type]
        return d.desired, d.apply, len(d.requeue_after)

    assert run(Active.TRUE, 299) == (1, False, 1)
    assert run(Active.TRUE, 300) == (0, False, 0)
    assert run(Active.FALSE, 59) == (0, False, 1)
    assert run(Active.FALSE, 60) == (0, True, 0)
    assert run(Active.FALSE, 59, sks_proxy=True, sks_proxy_for=60.0) == (0, True, 0)
    assert run(Active.UNKNOWN, 152) == (0, True, 0)
    assert run(Active.UNKNOWN, 75) == (-1, False, 1)


def test_active_condition_follows_want_and_ready() -> None:
    st = PAStatus(Active.UNKNOWN, 0.0)
    st = next_status(
        st, want=2, ready=0, annotations={}, reachability=Reachability.REACHABLE, config=CFG, now=5
    )
    assert st.active == Active.UNKNOWN and st.last_transition == 0.0
    st = next_status(
        st, want=2, ready=1, annotations={}, reachability=Reachability.REACHABLE, config=CFG, now=9
    )
    assert (st.active, st.last_transition, st.scale_target_initialized) == (Active.TRUE, 9, True)
    st = next_status(
        st, want=0, ready=1, annotations={}, reachability=Reachability.REACHABLE, config=CFG, now=20
    )
    assert (st.active, st.last_transition) == (Active.FALSE, 20)
