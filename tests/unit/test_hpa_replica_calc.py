"""Truth tables for the HPA replica calculator: tolerance boundaries, groupPods, missing/unready pods."""

from __future__ import annotations

import pytest

from sim.decisions.hpa.quantity import QuantityError, milli_quantity, milli_value
from sim.decisions.hpa.replica_calculator import (
    CPU,
    GO_ZERO_TIME,
    Container,
    MetricError,
    PodInfo,
    PodMetric,
    RawPodMetrics,
    ReadyCondition,
    Tolerances,
    calculate_requests,
    get_object_per_pod_metric_replicas,
    get_plain_metric_replicas,
    get_resource_replicas,
    group_pods,
    resource_pod_metrics,
    sum_external,
)

NOW = 1000.0


@pytest.mark.parametrize(
    ("ratio", "within"),
    [(0.89, False), (0.9, True), (1.0, True), (1.1, True), (1.11, False)],
)
def test_default_tolerance_is_inclusive_at_both_ends(ratio: float, within: bool) -> None:
    assert Tolerances().is_within(ratio) is within


def test_per_direction_tolerance() -> None:
    t = Tolerances(scale_down=0.36, scale_up=0.02)
    assert [t.is_within(r) for r in (0.63, 0.64, 1.02, 1.03)] == [False, True, True, False]


def _pod(
    name: str,
    *,
    phase: str = "Running",
    ready: str | None = "True",
    start: float | None = 0.0,
    transition: float = 0.0,
    deleted: bool = False,
    request: int | None = 1000,
) -> PodInfo:
    return PodInfo(
        name=name,
        phase=phase,
        deleted=deleted,
        start_time=start,
        ready=None if ready is None else ReadyCondition(ready, transition),
        containers=(Container("app", {} if request is None else {CPU: request}),),
    )


def test_group_pods_truth_table() -> None:
    pods = [
        _pod("deleted", deleted=True),
        _pod("failed", phase="Failed"),
        _pod("pending", phase="Pending"),
        _pod("no-metric"),
        _pod("no-condition", ready=None),
        _pod("no-start", start=None),
        # within the 300 s CPU initialisation period (started at 900 s)
        _pod("init-unready", start=900.0, ready="False", transition=900.0),
        _pod("init-fresh", start=900.0, transition=910.0),  # sample at 1000 >= 910 + 60
        _pod("init-stale", start=900.0, transition=950.0),  # sample at 1000 < 950 + 60
        # past initialisation
        _pod("never-ready", start=0.0, ready="False", transition=10.0),  # 0 + 30 > 10: never became ready
        _pod("was-ready", start=0.0, ready="False", transition=500.0),
        _pod("ready"),
    ]
    metrics = {p.name: PodMetric(100, NOW, 60.0) for p in pods if p.name != "no-metric"}
    groups = group_pods(pods, metrics, CPU, 300.0, 30.0, NOW)
    assert sorted(groups.ignored) == ["deleted", "failed"]
    assert sorted(groups.missing) == ["no-metric"]
    assert sorted(groups.unready) == [
        "init-stale",
        "init-unready",
        "never-ready",
        "no-condition",
        "no-start",
        "pending",
    ]
    assert groups.ready_pod_count == 3  # init-fresh, was-ready, ready


def test_group_pods_skips_readiness_rule_for_non_cpu_metrics() -> None:
    pods = [_pod("a", ready="False", start=NOW, transition=NOW), _pod("b", ready=None)]
    metrics = {"a": PodMetric(1), "b": PodMetric(1)}
    assert group_pods(pods, metrics, "", 300.0, 30.0, NOW).ready_pod_count == 2


def test_integer_percent_truncation_decides_the_tolerance_edge() -> None:
    # 10 pods x 1000m, 11090m used: 110.9 % truncates to 110 % -> ratio 1.1 is within tolerance.
    # Without Go's integer truncation the ratio 1.109 would scale to ceil(11.09) = 12.
    pods = [_pod(f"p{i}") for i in range(10)]
    metrics = {f"p{i}": PodMetric(1109, NOW) for i in range(10)}
    result = get_resource_replicas(10, 100, CPU, Tolerances(), pods, metrics, None, 300.0, 30.0, NOW)
    assert (result.replicas, result.utilization, result.raw_value) == (10, 110, 1109)


def test_missing_pods_on_scale_down_use_their_request() -> None:
    pods = [_pod(f"p{i}") for i in range(4)]
    metrics = {"p0": PodMetric(100, NOW), "p1": PodMetric(100, NOW)}
    result = get_resource_replicas(4, 50, CPU, Tolerances(), pods, metrics, None, 300.0, 30.0, NOW)
    # ratio 0.2 -> missing pods filled at 100 % -> (100+100+1000+1000)/4000 = 55 % -> ratio 1.1 flips direction
    assert (result.replicas, result.utilization) == (4, 10)


def test_missing_pods_on_scale_down_use_target_above_100_percent() -> None:
    pods = [_pod(f"p{i}") for i in range(3)]
    metrics = {"p0": PodMetric(100, NOW), "p1": PodMetric(100, NOW)}
    # target 200 %: missing pod assumed at 2000m; (100+100+2000)/3000 = 73 % -> ratio 0.365 -> ceil(1.095) = 2
    result = get_resource_replicas(3, 200, CPU, Tolerances(), pods, metrics, None, 300.0, 30.0, NOW)
    assert result.replicas == 2


def test_unready_pods_count_as_zero_only_on_scale_up() -> None:
    pods = [_pod("a"), _pod("b"), _pod("c", ready="False", start=0.0, transition=5.0)]
    high = {"a": PodMetric(2000, NOW), "b": PodMetric(2000, NOW), "c": PodMetric(2000, NOW)}
    up = get_resource_replicas(3, 100, CPU, Tolerances(), pods, high, None, 300.0, 30.0, NOW)
    assert (up.replicas, up.utilization) == (4, 200)  # (2000+2000+0)/3000 = 133 % -> ceil(1.33*3) = 4
    low = {"a": PodMetric(100, NOW), "b": PodMetric(100, NOW), "c": PodMetric(2000, NOW)}
    down = get_resource_replicas(3, 100, CPU, Tolerances(), pods, low, None, 300.0, 30.0, NOW)
    assert down.replicas == 1  # fast path over the 2 ready pods: ceil(0.1 * 2)


def test_plain_metric_missing_pods_sit_at_target_on_scale_down() -> None:
    pods = [_pod(f"p{i}") for i in range(4)]
    metrics = {"p0": PodMetric(1000), "p1": PodMetric(1000)}
    result = get_plain_metric_replicas(4, 5000, "", Tolerances(), pods, metrics, 300.0, 30.0, NOW)
    # ratio 0.2 -> (1000+1000+5000+5000)/4 = 3000 -> 0.6 -> ceil(0.6*4) = 3
    assert (result.replicas, result.usage) == (3, 1000)


def test_no_pods_and_no_usable_metrics_are_errors() -> None:
    with pytest.raises(MetricError, match="no pods returned by selector"):
        get_resource_replicas(1, 50, CPU, Tolerances(), [], {"x": PodMetric(1)}, None, 300.0, 30.0, NOW)
    with pytest.raises(MetricError, match="did not receive metrics for targeted pods"):
        get_resource_replicas(
            1,
            50,
            CPU,
            Tolerances(),
            [_pod("a", phase="Pending")],
            {"a": PodMetric(1)},
            None,
            300.0,
            30.0,
            NOW,
        )


def test_requests_and_container_metrics() -> None:
    pod = PodInfo("p", containers=(Container("a", {CPU: 100}), Container("b", {CPU: 300})))
    assert calculate_requests([pod], None, CPU) == {"p": 400}
    assert calculate_requests([pod], "b", CPU) == {"p": 300}
    with pytest.raises(MetricError, match="container c not found in Pod p"):
        calculate_requests([pod], "c", CPU)
    with pytest.raises(MetricError, match="missing request for memory in container a of Pod p"):
        calculate_requests([pod], None, "memory")
    raw = [
        RawPodMetrics("p", (("a", {CPU: 10}), ("b", {CPU: 30})), NOW, 60.0),
        RawPodMetrics("q", (("a", {}),)),
    ]
    assert resource_pod_metrics(raw, CPU, None) == {"p": PodMetric(40, NOW, 60.0)}
    assert resource_pod_metrics(raw, CPU, "a") == {"p": PodMetric(10, NOW, 60.0)}
    with pytest.raises(MetricError, match="no metrics returned from resource metrics API"):
        resource_pod_metrics([], CPU, None)


def test_per_pod_and_overflow_paths() -> None:
    assert get_object_per_pod_metric_replicas(4, 5000, 20166, Tolerances()).usage == 5042
    assert sum_external([2**62, 2**62]) == 2**63 - 1
    assert GO_ZERO_TIME < -1e12


def test_quantities() -> None:
    assert [milli_value(q) for q in ("500m", "1", "1.5", "2k", "1Ki", 3)] == [
        500,
        1000,
        1500,
        2_000_000,
        1_024_000,
        3000,
    ]
    assert milli_value("0.0001") == 1  # MilliValue rounds up
    assert [milli_quantity(v) for v in (1500, 2000)] == ["1500m", "2"]
    with pytest.raises(QuantityError):
        milli_value("ten")
