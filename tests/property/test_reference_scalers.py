"""Properties of the reference-autoscaler ports (Knative KPA, AIBrix KPA/APA): bounds always hold,
Knative's panic mode never scales down, and a decision is a pure function of its inputs and `now`."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from model.quirks import QuirkSet
from sim.decisions.aibrix.algorithms import PanicState, kpa_recommendation
from sim.decisions.aibrix.autoscaler import AutoscalerState, compute_scale_decision
from sim.decisions.aibrix.context import context_for
from sim.decisions.knative.config import AutoscalerConfig, DeciderSpec, Reachability
from sim.decisions.knative.decider import new_decider_state, scale
from sim.decisions.knative.scaler import Active, PAStatus
from sim.decisions.knative.scaler import scale as scaler_scale

G = "autoscaling.knative.dev/"
load = st.floats(0, 5000, allow_nan=False)
quirk_sets = st.sampled_from([QuirkSet.upstream(), QuirkSet.corrected()])

specs = st.builds(
    DeciderSpec,
    target_value=st.floats(0.5, 200),
    total_value=st.floats(1, 300),
    target_burst_capacity=st.sampled_from([-1.0, 0.0, 50.0, 211.0]),
    panic_threshold=st.floats(1.1, 10),
    max_scale_up_rate=st.floats(1.1, 1000),
    max_scale_down_rate=st.floats(1.1, 10),
    stable_window=st.sampled_from([6.0, 60.0, 300.0]),
    scale_down_delay=st.sampled_from([0.0, 0.0, 30.0]),
    reachable=st.booleans(),
    activation_scale=st.sampled_from([0, 0, 2, 3]),
)
steps = st.lists(st.tuples(st.integers(0, 60), load, load), min_size=1, max_size=25)


@given(specs, st.integers(0, 40), steps)
def test_knative_panic_never_scales_down(
    spec: DeciderSpec, ready0: int, seq: list[tuple[int, float, float]]
) -> None:
    """While the decider stays in panic, its desired count never decreases (autoscaler.go Scale)."""
    state = new_decider_state(spec, ready0, 0.0)
    prev: int | None = None
    t = 0.0
    for ready, stable, panic in seq:
        t += 2.0
        result, state = scale(
            spec, state, ready_pods=ready, observed_stable=stable, observed_panic=panic, now=t
        )
        if spec.scale_down_delay == 0 and result.in_panic and prev is not None:
            assert result.desired_pod_count >= prev
        prev = result.desired_pod_count if result.in_panic else None


@given(specs, st.integers(0, 40), steps)
def test_knative_decision_is_pure(
    spec: DeciderSpec, ready0: int, seq: list[tuple[int, float, float]]
) -> None:
    state = new_decider_state(spec, ready0, 0.0)
    t = 0.0
    for ready, stable, panic in seq:
        t += 2.0
        before = copy.deepcopy(state)
        a = scale(spec, state, ready_pods=ready, observed_stable=stable, observed_panic=panic, now=t)
        b = scale(spec, state, ready_pods=ready, observed_stable=stable, observed_panic=panic, now=t)
        assert a == b and state == before
        state = a[1]


@given(
    st.integers(-1, 500),
    st.integers(0, 5),
    st.integers(0, 50),
    st.sampled_from(list(Active)),
    st.floats(0, 1000),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 60)),
)
def test_knative_scaler_bounds(
    desired: int, lo: int, span: int, active: Active, age: float, zero_ok: bool, current: int | None
) -> None:
    """What the scaler applies is within [min-scale, max-scale] (max 0 = unbounded), or 1 when it
    keeps the last pod, and it is pure."""
    hi = 0 if span == 0 else lo + span
    ann = {G + "min-scale": str(lo), G + "max-scale": str(hi)}
    cfg = AutoscalerConfig(enable_scale_to_zero=zero_ok)
    status = PAStatus(active, 1000.0 - age)
    kwargs = dict(
        annotations=ann,
        reachability=Reachability.REACHABLE,
        status=status,
        current_replicas=current,
        config=cfg,
        now=1000.0,
    )
    d = scaler_scale(desired, **kwargs)  # type: ignore[arg-type]
    assert d == scaler_scale(desired, **kwargs)  # type: ignore[arg-type]
    if d.apply:
        assert d.desired >= lo
        assert hi == 0 or d.desired <= hi


@given(
    quirk_sets,
    st.sampled_from(["KPA", "APA"]),
    st.integers(0, 3),
    st.integers(1, 12),
    st.integers(0, 15),
    st.lists(st.lists(st.floats(0, 500), max_size=8), min_size=1, max_size=8),
)
def test_aibrix_bounds_and_purity(
    quirks: QuirkSet, strategy: str, lo: int, span: int, current: int, snapshots: list[list[float]]
) -> None:
    """Every decision lands in [minReplicas, maxReplicas] (or holds at 0 when scaling from 0 is
    disabled), and repeating it with the same state and `now` gives the same decision."""
    pa = {
        "metadata": {"namespace": "d", "name": "p", "annotations": {}},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "x"},
            "scalingStrategy": strategy,
            "minReplicas": lo,
            "maxReplicas": lo + span,
            "metricsSources": [{"metricSourceType": "pod", "targetMetric": "m", "targetValue": "48"}],
        },
    }
    ctx, _ = context_for(pa)
    state = AutoscalerState()
    t = 0.0
    for values in snapshots:
        t += 10.0
        a = compute_scale_decision(pa, ctx, current, {"m": values}, state, t, quirks)
        assert a == compute_scale_decision(pa, ctx, current, {"m": values}, state, t, quirks)
        decision, state = a
        if current == 0 and lo != 0:
            assert not decision.should_scale
        elif decision.valid:
            assert lo <= decision.desired <= lo + span
            current = decision.desired


@given(quirk_sets, st.integers(0, 20), st.lists(st.tuples(load, load), min_size=1, max_size=20))
def test_aibrix_kpa_panic_hold_corrected(
    quirks: QuirkSet, current: int, seq: list[tuple[float, float]]
) -> None:
    """Corrected AIBrix KPA never scales down while panicking; both profiles stay within bounds."""
    state = PanicState()
    prev: int | None = None
    for i, (stable, panic) in enumerate(seq):
        r = kpa_recommendation(
            current,
            stable=stable,
            panic=panic,
            target=10.0,
            max_scale_up_rate=2.0,
            max_scale_down_rate=2.0,
            up_tolerance=0.1,
            down_tolerance=0.1,
            panic_threshold=2.0,
            stable_window=60.0,
            min_replicas=1,
            max_replicas=50,
            state=state,
            now=10.0 * i,
            quirks=quirks,
        )
        assert 1 <= r.replicas <= 50
        if quirks.profile.value == "corrected" and r.in_panic and prev is not None:
            assert r.replicas >= prev
        prev = r.replicas if r.in_panic else None
        state, current = r.state, r.replicas
