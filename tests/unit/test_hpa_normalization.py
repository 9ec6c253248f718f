"""Truth tables for HPA normalization: legacy stabilization and cap, behavior windows and rate policies."""

from __future__ import annotations

from sim.decisions.hpa.normalization import (
    Behavior,
    PolicyType,
    Recommendation,
    ScaleEvent,
    ScalingPolicy,
    ScalingRules,
    SelectPolicy,
    behavior_from_wire,
    calculate_scale_down_limit_with_behaviors,
    calculate_scale_up_limit,
    calculate_scale_up_limit_with_scaling_rules,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
    stabilize_recommendation,
    stabilize_recommendation_with_behaviors,
    store_scale_event,
)

NOW = 1000.0


def test_legacy_scale_up_limit_is_max_of_double_and_four() -> None:
    assert [calculate_scale_up_limit(c, 2.0, 4.0) for c in (0, 1, 2, 3, 10)] == [4, 4, 4, 6, 20]


def test_legacy_convert_reasons() -> None:
    cases = [
        ((5, 7, 3, 8), (7, "DesiredWithinRange")),
        ((3, 1, 2, 8), (2, "TooFewReplicas")),
        ((3, 100, 1, 50), (6, "ScaleUpLimit")),
        ((20, 100, 1, 10), (10, "TooManyReplicas")),
    ]
    for (current, desired, lo, hi), want in cases:
        got = convert_desired_replicas_with_rules(current, desired, lo, hi)
        assert (got.replicas, got.reason) == want


def test_legacy_stabilization_window_includes_its_edge() -> None:
    recs = (Recommendation(9, NOW - 300.0), Recommendation(8, NOW - 301.0))
    best, log = stabilize_recommendation(recs, 2, 300.0, NOW)
    # 300 s old is not Before(cutoff): still counted; 301 s old is replaced by the new entry
    assert best == 9
    assert log == (Recommendation(9, NOW - 300.0), Recommendation(2, NOW))


def test_behavior_stabilization_clamps_current_between_windows() -> None:
    recs = (Recommendation(6, NOW - 10.0), Recommendation(4, NOW - 20.0))
    rec, reason, _, log = stabilize_recommendation_with_behaviors(recs, 5, 8, 60.0, 60.0, NOW)
    assert (rec, reason) == (5, "ScaleUpStabilized")  # min over up-window = 4 < current: stay at 5
    rec, reason, _, _ = stabilize_recommendation_with_behaviors(recs, 5, 2, 60.0, 60.0, NOW)
    assert (rec, reason) == (5, "ScaleDownStabilized")  # max over down-window = 6 > current
    assert [r.replicas for r in log] == [6, 4, 8]


def _rules(select: SelectPolicy, *policies: tuple[PolicyType, int, int]) -> ScalingRules:
    return ScalingRules(0, select, tuple(ScalingPolicy(t, v, p) for t, v, p in policies))


def test_select_policy_truth_table() -> None:
    pods4 = (PolicyType.PODS, 4, 60)
    pct50 = (PolicyType.PERCENT, 50, 60)
    up = {
        s: calculate_scale_up_limit_with_scaling_rules(10, (), (), _rules(s, pods4, pct50), NOW)
        for s in SelectPolicy
    }
    assert up == {SelectPolicy.MAX: 15, SelectPolicy.MIN: 14, SelectPolicy.DISABLED: 10}
    down = {
        s: calculate_scale_down_limit_with_behaviors(10, (), (), _rules(s, pods4, pct50), NOW)
        for s in SelectPolicy
    }
    assert down == {SelectPolicy.MAX: 5, SelectPolicy.MIN: 6, SelectPolicy.DISABLED: 10}


def test_events_count_only_strictly_inside_the_period() -> None:
    rules = _rules(SelectPolicy.MAX, (PolicyType.PODS, 4, 60))
    events = (ScaleEvent(3, NOW - 60.0), ScaleEvent(2, NOW - 59.0))
    # period start = 10 - 2 (the 60 s old event is out) -> 8 + 4 = 12
    assert calculate_scale_up_limit_with_scaling_rules(10, events, (), rules, NOW) == 12


def test_percent_rounding_directions() -> None:
    up = _rules(SelectPolicy.MAX, (PolicyType.PERCENT, 10, 60))
    down = _rules(SelectPolicy.MAX, (PolicyType.PERCENT, 10, 60))
    assert calculate_scale_up_limit_with_scaling_rules(3, (), (), up, NOW) == 4  # ceil(3.3)
    assert calculate_scale_down_limit_with_behaviors(3, (), (), down, NOW) == 2  # int(2.7)


def test_behavior_defaults_and_rate_conversion() -> None:
    behavior = behavior_from_wire({}, 300.0)
    assert behavior is not None
    assert behavior.scale_up.policies == (
        ScalingPolicy(PolicyType.PODS, 4, 15),
        ScalingPolicy(PolicyType.PERCENT, 100, 15),
    )
    assert behavior.scale_down.stabilization_window_seconds == 300
    got = convert_desired_replicas_with_behavior_rate(3, 50, 1, 100, behavior, (), (), NOW)
    assert (got.replicas, got.reason) == (7, "ScaleUpLimit")  # max(3+4, 3*2)
    assert behavior_from_wire(None, 300.0) is None


def test_store_scale_event_reuses_the_last_outdated_slot() -> None:
    behavior = Behavior(
        _rules(SelectPolicy.MAX, (PolicyType.PODS, 4, 60)), _rules(SelectPolicy.MAX, (PolicyType.PODS, 4, 60))
    )
    prev = (ScaleEvent(1, NOW - 100.0), ScaleEvent(2, NOW - 90.0), ScaleEvent(3, NOW - 10.0))
    up, down = store_scale_event(behavior, prev, (), 5, 9, NOW)
    assert up == (ScaleEvent(1, NOW - 100.0, True), ScaleEvent(4, NOW), ScaleEvent(3, NOW - 10.0))
    assert down == ()
    assert store_scale_event(None, prev, (), 5, 9, NOW) == (prev, ())
