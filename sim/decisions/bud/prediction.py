"""Time-series prediction: moving average, least-squares trend, confidence, predicted replicas.

upstream: pkg/controller/budaiscaler/prediction/predictor.go (Predictor.RecordMetric, MovingAverage,
PredictLinear, GetConfidence, PredictReplicas). The Go Predictor is a mutable object; here its
history is an immutable `MetricHistory` that `record_metric` returns updated.
Note: autoscaler.go builds the Predictor with NewPredictor() and never passes WithLookAhead, so the
controller always looks 15 minutes ahead whatever spec.predictionConfig.lookAheadMinutes says
(Quirk.PREDICTION_LOOKAHEAD_FIXED; `effective_look_ahead_s`, `predict_for_scaler`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud.algorithm import go_int32
from sim.decisions.bud.schedule import ScheduleHint, active_schedule_hint
from sim.decisions.bud.types import PredictionData, QuirkName

DEFAULT_LOOK_AHEAD_S = 15 * 60.0
DEFAULT_MAX_HISTORY = 1000


@dataclass(frozen=True)
class DataPoint:
    t: float
    """Seconds on any clock shared by all points of one history (simulated seconds in the simulator)."""
    value: float


MetricHistory = tuple[DataPoint, ...]


def record_metric(
    history: Sequence[DataPoint], value: float, t: float, max_history: int = DEFAULT_MAX_HISTORY
) -> MetricHistory:
    """Append, keep sorted by time (stable), keep the newest `max_history`. upstream: Predictor.RecordMetric."""
    points = sorted((*history, DataPoint(t, value)), key=lambda p: p.t)
    if len(points) > max_history:
        points = points[len(points) - max_history :]
    return tuple(points)


def moving_average(history: Sequence[DataPoint], n: int) -> float:
    """Mean of the last n values (fewer if the history is shorter; 0 when empty). upstream: MovingAverage."""
    if not history:
        return 0.0
    count = min(n, len(history))
    if count <= 0:
        return math.nan  # Go: 0/0
    return sum(p.value for p in history[len(history) - count :]) / float(count)


def predict_linear(history: Sequence[DataPoint], ahead_s: float) -> float:
    """Least-squares line over x = minutes since the first point, evaluated at last + ahead.

    upstream: Predictor.PredictLinear (one point -> its value; none -> 0; vertical data -> last value).
    """
    if len(history) < 2:
        return history[0].value if history else 0.0
    n = float(len(history))
    base = history[0].t
    sum_x = sum_y = sum_xy = sum_x2 = 0.0
    for p in history:
        x = (p.t - base) / 60.0
        sum_x += x
        sum_y += p.value
        sum_xy += x * p.value
        sum_x2 += x * x
    denominator = n * sum_x2 - sum_x * sum_x
    if denominator == 0:
        return history[-1].value
    slope = (n * sum_xy - sum_x * sum_y) / denominator
    intercept = (sum_y - slope * sum_x) / n
    future_x = (history[-1].t + ahead_s - base) / 60.0
    return intercept + slope * future_x


def confidence(history: Sequence[DataPoint]) -> float:
    """(1 - 1/(1+n/10)) x 1/(1+CV), CV = population std / |mean|; n < 2 -> count factor x 0.5.

    upstream: Predictor.GetConfidence.
    """
    if not history:
        return 0.0
    count_factor = 1.0 - 1.0 / (1.0 + float(len(history)) / 10.0)
    if len(history) < 2:
        return count_factor * 0.5
    n = float(len(history))
    s = sum(p.value for p in history)
    sq = sum(p.value * p.value for p in history)
    mean = s / n
    variance = sq / n - mean * mean
    cv = 0.0
    if mean != 0:
        cv = math.sqrt(variance) / abs(mean) if variance >= 0 else math.nan
    return count_factor * (1.0 / (1.0 + cv))


@dataclass(frozen=True)
class PredictionResult:
    recommended_replicas: int
    predicted_value: float = 0.0
    confidence: float = 0.0
    reason: str = ""
    schedule_hint: ScheduleHint | None = None


def predict_replicas(
    history: Sequence[DataPoint],
    current_replicas: int,
    target_value: float,
    min_replicas: int,
    max_replicas: int,
    *,
    at: datetime,
    hints: Sequence[ScheduleHint] = (),
    look_ahead_s: float = DEFAULT_LOOK_AHEAD_S,
) -> PredictionResult:
    """An active schedule hint wins (clamped, confidence 1); else clamp(ceil(current*predicted/target)).

    upstream: Predictor.PredictReplicas (time.Now() there is `at` here: the simulated wall clock).
    """
    hint = active_schedule_hint(hints, at)
    if hint is not None:
        replicas = hint.target_replicas
        replicas = max(replicas, min_replicas)
        replicas = min(replicas, max_replicas)
        return PredictionResult(replicas, 0.0, 1.0, "schedule hint: " + hint.name, hint)
    predicted = predict_linear(history, look_ahead_s)
    conf = confidence(history)
    if target_value <= 0:
        return PredictionResult(current_replicas, predicted, conf, "invalid target value")
    raw = float(current_replicas) * (predicted / target_value)
    desired = go_int32(math.ceil(raw)) if math.isfinite(raw) else go_int32(raw)
    desired = max(desired, min_replicas)
    desired = min(desired, max_replicas)
    if desired > current_replicas:
        reason = "predicted increase in load"
    elif desired < current_replicas:
        reason = "predicted decrease in load"
    else:
        reason = "stable load predicted"
    return PredictionResult(desired, predicted, conf, reason)


def effective_look_ahead_s(look_ahead_minutes: int, quirks: QuirkSet) -> float:
    """How far ahead the controller's predictor looks.

    upstream: autoscaler.go NewAutoScaler calls prediction.NewPredictor() with no WithLookAhead
    option, so predictor.go's default of 15 minutes always applies (Quirk.PREDICTION_LOOKAHEAD_FIXED).
    Corrected: spec.predictionConfig.lookAheadMinutes (admission keeps it in 5..60).
    """
    if Quirk.PREDICTION_LOOKAHEAD_FIXED in quirks:
        return DEFAULT_LOOK_AHEAD_S
    return float(look_ahead_minutes) * 60.0


@dataclass(frozen=True)
class ScalerPrediction:
    """One scaler's prediction and, per enabled quirk that changed it, the prediction without it.

    The caller turns `without` into `input_alternatives` for `compute_recommendation`, which then
    reports the quirk in `Recommendation.quirks_triggered` if it changed the decision.
    """

    result: PredictionResult
    without: dict[QuirkName, PredictionResult] = field(default_factory=dict)


def predict_for_scaler(
    history: Sequence[DataPoint],
    current_replicas: int,
    target_value: float,
    min_replicas: int,
    max_replicas: int,
    *,
    look_ahead_minutes: int,
    at: datetime,
    quirks: QuirkSet,
    hints: Sequence[ScheduleHint] = (),
) -> ScalerPrediction:
    """`predict_replicas` as the controller's predictor runs it, look-ahead chosen by the quirks.

    upstream: autoscaler.go getPredictionData -> Predictor.PredictReplicas.
    """
    args = (history, current_replicas, target_value, min_replicas, max_replicas)
    result = predict_replicas(
        *args, at=at, hints=hints, look_ahead_s=effective_look_ahead_s(look_ahead_minutes, quirks)
    )
    without: dict[QuirkName, PredictionResult] = {}
    if Quirk.PREDICTION_LOOKAHEAD_FIXED in quirks:
        alt = predict_replicas(*args, at=at, hints=hints, look_ahead_s=float(look_ahead_minutes) * 60.0)
        if alt != result:
            without[Quirk.PREDICTION_LOOKAHEAD_FIXED] = alt
    return ScalerPrediction(result, without)


def prediction_data_of(result: PredictionResult) -> PredictionData:
    """The PredictionData the controller hands the algorithm (an active hint becomes a floor).

    upstream: autoscaler.go getPredictionData.
    """
    hint = result.schedule_hint
    if hint is not None:
        return PredictionData(
            predicted_replicas=hint.target_replicas,
            confidence=result.confidence,
            is_schedule_hint=True,
            schedule_hint_name=hint.name,
            source="schedule",
            reason=result.reason,
        )
    return PredictionData(
        predicted_replicas=result.recommended_replicas,
        confidence=result.confidence,
        source="timeseries",
        reason=result.reason,
    )
