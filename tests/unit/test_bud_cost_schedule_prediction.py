"""Cost, schedule hints, prediction and learning helpers beyond the upstream vectors."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from sim.decisions.bud.cost import CostMetrics, apply_cost_constraints, collect_cost_metrics, provider_of
from sim.decisions.bud.learning import (
    LLMMetrics,
    LLMPatternDetector,
    Pattern,
    SeasonalProfile,
    get_bucket_index,
)
from sim.decisions.bud.prediction import confidence, predict_linear, predict_replicas, record_metric
from sim.decisions.bud.schedule import (
    ScheduleHint,
    add_schedule_hints,
    is_active,
    parse_cron,
    schedule_hint_prediction,
)
from sim.decisions.bud.types import PredictionData


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_collect_cost_metrics_as_the_controller_does() -> None:
    m = collect_cost_metrics("", 10.0, False, 4)
    assert m == CostMetrics(current_cost_per_hour=4.08, budget_per_hour=10.0, per_replica_cost_per_hour=1.02)
    spot = collect_cost_metrics("aws", None, True, 2)
    assert spot is not None and (spot.current_cost_per_hour, spot.budget_per_hour) == (0.62, 0.0)
    assert collect_cost_metrics("AWS", 10.0, False, 4) is None  # provider keys are lower-case upstream
    assert collect_cost_metrics("gcp", 10.0, False, 4) is None  # no g5.xlarge in the GCP table
    zero = collect_cost_metrics("aws", 10.0, False, 0)
    assert zero is not None and math.isnan(zero.per_replica_cost_per_hour)
    assert [provider_of(p) for p in ("", "aws", "azure", "Azure")] == ["aws", "aws", "azure", None]


@pytest.mark.parametrize(
    ("desired", "current", "cost", "expected"),
    [
        (8, 4, CostMetrics(4.08, 5.0, 1.02), 4),
        (8, 4, CostMetrics(4.08, 7.0, 1.02), 6),
        (8, 4, CostMetrics(4.08, 3.0, 1.02), 2),
        (8, 4, CostMetrics(4.08, 0.5, 1.02), 1),  # over budget: never below 1
        (3, 4, CostMetrics(4.08, 3.0, 1.02), 2),
        (3, 4, CostMetrics(4.08, 100.0, 1.02), 3),
        (5, 0, CostMetrics(0.0, 10.0, math.nan), 5),  # NaN per-replica cost lets everything through
    ],
)
def test_apply_cost_constraints(desired: int, current: int, cost: CostMetrics, expected: int) -> None:
    assert apply_cost_constraints(desired, current, cost) == expected


def test_cron_grammar_is_robfigs() -> None:
    assert parse_cron("0 9 * * 1-5") == "0 9 * * 1-5"
    assert parse_cron("*/15 9-17 ? JAN-MAR MON-FRI") == "*/15 9-17 * JAN-MAR MON-FRI"
    assert [
        parse_cron(e) for e in ("@daily", "0 9 * * 7", "0 9 * *", "0 0 9 * * *", "0 24 * * *", "0 9 L * *")
    ] == [None] * 6


def test_schedule_hint_window_edges() -> None:
    h = ScheduleHint("rush", "0 9 * * 1-5", 7200.0, 5)
    on = ["2024-01-15T09:00:00", "2024-01-15T10:59:59", "2024-01-15T09:00:00.500000"]
    off = ["2024-01-15T08:59:59", "2024-01-15T11:00:00", "2024-01-13T09:30:00"]
    assert [is_active(h, at(t)) for t in on] == [True, True, True]
    assert [is_active(h, at(t)) for t in off] == [False, False, False]
    assert is_active(ScheduleHint("bad", "@hourly", 3600.0, 2), at("2024-01-15T09:30:00")) is False


def test_hint_book_keeps_first_definition_and_order() -> None:
    a = ScheduleHint("a", "0 9 * * *", 3600.0, 3)
    b = ScheduleHint("b", "0 9 * * *", 3600.0, 8)
    a2 = ScheduleHint("a", "0 20 * * *", 3600.0, 9)
    book = add_schedule_hints((), [a, b])
    book = add_schedule_hints(book, [a2])
    assert book == (a, b)
    assert schedule_hint_prediction(book, at("2024-01-15T09:10:00")) == PredictionData(
        predicted_replicas=3,
        confidence=1.0,
        is_schedule_hint=True,
        schedule_hint_name="a",
        source="schedule",
        reason="schedule hint: a",
    )
    assert schedule_hint_prediction(book, at("2024-01-15T20:10:00")) is None


def test_prediction_linear_confidence_and_hint_precedence() -> None:
    history = ()
    for i, v in enumerate([40.0, 50.0, 60.0, 70.0]):
        history = record_metric(history, v, i * 600.0)
    assert predict_linear(history, 600.0) == pytest.approx(80.0)
    assert predict_linear(history[:1], 600.0) == 40.0
    assert predict_linear((), 600.0) == 0.0
    assert confidence(history[:1]) == pytest.approx((1 - 1 / 1.1) * 0.5)
    hint = ScheduleHint("rush", "0 9 * * *", 3600.0, 12)
    r = predict_replicas(history, 2, 70.0, 1, 10, at=at("2024-01-15T09:30:00"), hints=[hint])
    assert (r.recommended_replicas, r.confidence, r.reason) == (10, 1.0, "schedule hint: rush")
    r = predict_replicas(
        history, 2, 70.0, 1, 10, at=at("2024-01-15T12:00:00"), hints=[hint], look_ahead_s=600.0
    )
    assert (r.recommended_replicas, r.reason) == (3, "predicted increase in load")
    assert (
        predict_replicas(history, 2, 0.0, 1, 10, at=at("2024-01-15T12:00:00")).reason
        == "invalid target value"
    )


def test_learning_pattern_detector_with_history() -> None:
    d = LLMPatternDetector()
    for i, running in enumerate([2, 2, 2, 8, 8, 8]):
        d.update_history({}, LLMMetrics(gpu_cache_usage=0.5, requests_running=running), now=10.0 * i)
    assert (
        d.detect_pattern(LLMMetrics(gpu_cache_usage=0.5, requests_running=8), now=60.0)
        is Pattern.TRAFFIC_SPIKE
    )
    adj = d.pattern_adjustment()
    assert adj is not None and (adj.factor, adj.confidence) == (1.5, pytest.approx(0.9))
    cold = LLMPatternDetector()
    for i, running in enumerate([1, 1, 1, 2, 2, 2]):
        cold.update_history({}, LLMMetrics(gpu_cache_usage=0.1, requests_running=running), now=10.0 * i)
    assert cold.detect_pattern(LLMMetrics(gpu_cache_usage=0.1, requests_running=2)) is Pattern.COLD_START
    assert LLMPatternDetector().pattern_adjustment() is None


def test_seasonal_profile_factor() -> None:
    p = SeasonalProfile("rps", 0.3)
    p.min_observations = 5
    for i in range(20):
        p.update(at("2024-01-15T10:00:00"), 100.0 + i)
    factor, conf = p.seasonal_factor(at("2024-01-15T10:30:00"))
    assert factor == pytest.approx(1.0)
    assert conf == pytest.approx(0.01)  # 20/1000 observations x 1/(1 + variance ratio 1)
    assert p.seasonal_factor(at("2024-01-15T11:00:00")) == (1.0, 0.0)
    assert get_bucket_index(datetime.fromisoformat("2024-01-14T23:30:00-05:00")) == 23  # own offset, Sunday
