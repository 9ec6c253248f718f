"""Hypothesis properties of the HPA decision functions (profiles from tests/conftest.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sim.decisions.hpa.normalization import (
    Behavior,
    PolicyType,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    SelectPolicy,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
)
from sim.decisions.hpa.replica_calculator import (
    CPU,
    Container,
    PodInfo,
    PodMetric,
    ReadyCondition,
    Tolerances,
    get_resource_replicas,
)

NOW = 10_000.0

policies = st.lists(
    st.builds(ScalingPolicy, st.sampled_from(list(PolicyType)), st.integers(1, 500), st.integers(1, 600)),
    min_size=1,
    max_size=3,
)
rules = st.builds(ScalingRules, st.just(0), st.sampled_from(list(SelectPolicy)), policies.map(tuple))
events = st.lists(st.builds(ScaleEvent, st.integers(1, 20), st.floats(NOW - 900, NOW - 1)), max_size=5).map(
    tuple
)


def _in_bounds(offset: int, lo: int, hi: int) -> int:
    """A current replica count in [max(min, 1), max]: the only range the controller normalizes in
    (outside it clamps without metrics; there Go's caps can undercut minReplicas, e.g. current 0,
    min 5 -> legacy cap 4, which reconcileAutoscaler never reaches)."""
    base = max(lo, 1)
    return base + offset % (hi - base + 1)


@given(
    offset=st.integers(0, 400),
    desired=st.integers(0, 400),
    lo=st.integers(0, 50),
    span=st.integers(0, 200),
    up=rules,
    down=rules,
    up_events=events,
    down_events=events,
)
def test_behavior_rate_moves_towards_desired_within_bounds(
    offset: int,
    desired: int,
    lo: int,
    span: int,
    up: ScalingRules,
    down: ScalingRules,
    up_events: tuple[ScaleEvent, ...],
    down_events: tuple[ScaleEvent, ...],
) -> None:
    hi = max(lo, 1) + span
    current = _in_bounds(offset, lo, hi)
    got = convert_desired_replicas_with_behavior_rate(
        current, desired, lo, hi, Behavior(up, down), up_events, down_events, NOW
    ).replicas
    if desired > current:
        assert current <= got <= min(desired, hi)
    elif desired < current:
        assert max(desired, lo) <= got <= current
    else:
        assert got == desired


@given(
    offset=st.integers(0, 100), desired=st.integers(0, 1000), lo=st.integers(0, 20), span=st.integers(0, 100)
)
def test_legacy_convert_stays_within_min_and_max(offset: int, desired: int, lo: int, span: int) -> None:
    hi = max(lo, 1) + span
    got = convert_desired_replicas_with_rules(_in_bounds(offset, lo, hi), desired, lo, hi, 2.0, 4.0)
    assert lo <= got.replicas <= hi
    assert (got.reason == "DesiredWithinRange") == (got.replicas == desired)


@given(usages=st.lists(st.integers(0, 4000), min_size=1, max_size=8), target=st.integers(10, 200))
def test_utilization_direction_matches_the_ratio(usages: list[int], target: int) -> None:
    pods = [
        PodInfo(
            f"p{i}",
            start_time=0.0,
            ready=ReadyCondition("True", 1.0),
            containers=(Container("c", {CPU: 1000}),),
        )
        for i in range(len(usages))
    ]
    metrics = {f"p{i}": PodMetric(u, NOW, 60.0) for i, u in enumerate(usages)}
    got = get_resource_replicas(len(pods), target, CPU, Tolerances(), pods, metrics, None, 300.0, 30.0, NOW)
    ratio = got.utilization / target
    if Tolerances().is_within(ratio):
        assert got.replicas == len(pods)
    elif ratio > 1:
        assert got.replicas > len(pods)
    else:
        assert got.replicas <= len(pods)
