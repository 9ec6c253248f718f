"""The controller's predictor: metric histories, and the prediction one scaler gets.

upstream: autoscaler.go NewAutoScaler (one `prediction.NewPredictor()` for the whole controller),
getPredictionData (RecordMetric of every snapshot, then PredictReplicas on the first prediction
metric with status.actualScale, the metric's target and the bounds), getPredictionMetricNames,
getTargetValueForMetric; prediction/predictor.go RecordMetric (sorted, newest 1000), PredictLinear,
GetConfidence. The arithmetic is the same as `sim.decisions.bud.prediction` (sequential sums, in
the same order, via numpy.cumsum: bit-identical, and fast enough for days of 10 s reconciles).

Keys: upstream keys a history by metric name alone, so every scaler reading `requests_per_second`
feeds and reads one series (Quirk.PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS); corrected keys it by
scaler and metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.decisions.bud.algorithm import go_int32
from sim.decisions.bud.goparse import parse_float
from sim.decisions.bud.prediction import DEFAULT_MAX_HISTORY, DataPoint

DEFAULT_TARGET_VALUE = 50.0
"""autoscaler.go getTargetValueForMetric fallback."""

HistoryKey = tuple[str, ...]


def history_key(namespace: str, scaler: str, metric: str, *, shared: bool) -> HistoryKey:
    return (metric,) if shared else (namespace, scaler, metric)


@dataclass(frozen=True)
class _Sums:
    """What PredictLinear and GetConfidence need from one history (independent of the look-ahead)."""

    n: int
    first_t: float
    last_t: float
    last_v: float
    sum_x: float
    sum_y: float
    sum_xy: float
    sum_x2: float
    sum_y2: float


class _Series:
    """One history in a numpy buffer (amortised appends, a sliding start); sums cached per version."""

    __slots__ = ("_t", "_v", "cap", "end", "max_history", "start", "sums")

    def __init__(self, max_history: int) -> None:
        self.max_history = max_history
        self.cap = 2 * max_history + 16
        self._t = np.empty(self.cap)
        self._v = np.empty(self.cap)
        self.start = 0
        self.end = 0
        self.sums: _Sums | None = None

    def __len__(self) -> int:
        return self.end - self.start

    def times(self) -> np.ndarray:
        return self._t[self.start : self.end]

    def values(self) -> np.ndarray:
        return self._v[self.start : self.end]

    def record(self, value: float, t: float) -> None:
        if self.end == self.cap:
            n = len(self)
            self._t[:n] = self._t[self.start : self.end]
            self._v[:n] = self._v[self.start : self.end]
            self.start, self.end = 0, n
        if self.end == self.start or t >= self._t[self.end - 1]:
            self._t[self.end] = t
            self._v[self.end] = value
        else:
            # out of order: insert after equal times (RecordMetric sorts stably)
            i = self.start + int(np.searchsorted(self._t[self.start : self.end], t, side="right"))
            self._t[i + 1 : self.end + 1] = self._t[i : self.end]
            self._v[i + 1 : self.end + 1] = self._v[i : self.end]
            self._t[i] = t
            self._v[i] = value
        self.end += 1
        if len(self) > self.max_history:
            self.start = self.end - self.max_history
        self.sums = None

    def compute(self) -> _Sums:
        if self.sums is None:
            t, v = self.times(), self.values()
            first = float(t[0])
            x = (t - first) / 60.0
            # cumsum adds left to right like the Go loop: the same float results
            self.sums = _Sums(
                n=len(t),
                first_t=first,
                last_t=float(t[-1]),
                last_v=float(v[-1]),
                sum_x=float(np.cumsum(x)[-1]),
                sum_y=float(np.cumsum(v)[-1]),
                sum_xy=float(np.cumsum(x * v)[-1]),
                sum_x2=float(np.cumsum(x * x)[-1]),
                sum_y2=float(np.cumsum(v * v)[-1]),
            )
        return self.sums


class PredictorBook:
    """Metric histories of one controller process (lost when it restarts: upstream never stores them)."""

    def __init__(self, max_history: int = DEFAULT_MAX_HISTORY) -> None:
        self.max_history = max_history
        self._series: dict[HistoryKey, _Series] = {}
        self._feeders: dict[HistoryKey, set[str]] = {}

    def record(self, key: HistoryKey, value: float, t: float, feeder: str = "") -> None:
        """upstream: Predictor.RecordMetric (insert in time order after equal times, keep the newest).
        `feeder` names who recorded it (the scaler), so a caller can tell a shared series from one
        only its own scaler ever fed."""
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(self.max_history)
        series.record(value, t)
        self._feeders.setdefault(key, set()).add(feeder)

    def fed_only_by(self, key: HistoryKey, feeder: str) -> bool:
        return self._feeders.get(key, set()) <= {feeder}

    def history(self, key: HistoryKey) -> tuple[DataPoint, ...]:
        series = self._series.get(key)
        if series is None:
            return ()
        return tuple(
            DataPoint(float(t), float(v)) for t, v in zip(series.times(), series.values(), strict=True)
        )

    def size(self, key: HistoryKey) -> int:
        series = self._series.get(key)
        return 0 if series is None else len(series)

    def keys(self) -> list[HistoryKey]:
        return sorted(self._series)

    def linear_and_confidence(self, key: HistoryKey, ahead_s: float) -> tuple[float, float]:
        """(PredictLinear(ahead), GetConfidence()) on one history."""
        series = self._series.get(key)
        if series is None or len(series) == 0:
            return 0.0, 0.0
        n_points = len(series)
        count_factor = 1.0 - 1.0 / (1.0 + float(n_points) / 10.0)
        if n_points == 1:
            return float(series.values()[0]), count_factor * 0.5
        s = series.compute()
        n = float(s.n)
        denominator = n * s.sum_x2 - s.sum_x * s.sum_x
        if denominator == 0:
            predicted = s.last_v
        else:
            slope = (n * s.sum_xy - s.sum_x * s.sum_y) / denominator
            intercept = (s.sum_y - slope * s.sum_x) / n
            predicted = intercept + slope * ((s.last_t + ahead_s - s.first_t) / 60.0)
        mean = s.sum_y / n
        variance = s.sum_y2 / n - mean * mean
        cv = 0.0
        if mean != 0:
            cv = math.sqrt(variance) / abs(mean) if variance >= 0 else math.nan
        return predicted, count_factor * (1.0 / (1.0 + cv))


def prediction_metric_names(spec: Mapping[str, Any]) -> list[str]:
    """upstream: getPredictionMetricNames (predictionMetrics, else the first source's metric)."""
    pred = spec.get("predictionConfig") or {}
    names = [str(m) for m in pred.get("predictionMetrics") or []]
    if names:
        return names
    sources = spec.get("metricsSources") or []
    return [str((sources[0] or {}).get("targetMetric", ""))] if sources else []


def target_value_for(spec: Mapping[str, Any], metric: str) -> float:
    """upstream: getTargetValueForMetric (the first matching, parsable, non-empty target; else 50)."""
    for source in spec.get("metricsSources") or []:
        if str((source or {}).get("targetMetric", "")) == metric:
            text = str(source.get("targetValue", "") or "")
            if text:
                parsed = parse_float(text)
                if parsed is not None:
                    return parsed
    return DEFAULT_TARGET_VALUE


@dataclass(frozen=True)
class TimeSeriesPrediction:
    """PredictReplicas without a schedule hint, with what it was computed from."""

    metric: str
    predicted_value: float
    confidence: float
    recommended_replicas: int
    reason: str
    history_size: int
    seasonal_ratio: float | None = None


def replicas_for(
    predicted: float, confidence: float, current: int, target: float, min_r: int, max_r: int
) -> tuple[int, str]:
    """upstream: Predictor.PredictReplicas after PredictLinear (ceil, bounds, the reason string)."""
    if target <= 0:
        return current, "invalid target value"
    raw = float(current) * (predicted / target)
    desired = go_int32(math.ceil(raw)) if math.isfinite(raw) else go_int32(raw)
    desired = min(max(desired, min_r), max_r)
    if desired > current:
        return desired, "predicted increase in load"
    if desired < current:
        return desired, "predicted decrease in load"
    return desired, "stable load predicted"


def predict_time_series(
    book: PredictorBook,
    key: HistoryKey,
    metric: str,
    *,
    current: int,
    target: float,
    min_replicas: int,
    max_replicas: int,
    ahead_s: float,
    seasonal_ratio: float | None = None,
) -> TimeSeriesPrediction:
    """PredictReplicas on one history; `seasonal_ratio` (corrected only) scales the predicted value."""
    predicted, conf = book.linear_and_confidence(key, ahead_s)
    if seasonal_ratio is not None:
        predicted *= seasonal_ratio
    replicas, reason = replicas_for(predicted, conf, current, target, min_replicas, max_replicas)
    return TimeSeriesPrediction(metric, predicted, conf, replicas, reason, book.size(key), seasonal_ratio)


def snapshot_averages(snapshots: Mapping[str, Any]) -> dict[str, float]:
    """metric -> snapshot average, in name order (what RecordMetric and the learning feedback get)."""
    return {m: float(getattr(snapshots[m], "average", snapshots[m])) for m in sorted(snapshots)}


__all__: Sequence[str] = (
    "PredictorBook",
    "TimeSeriesPrediction",
    "history_key",
    "predict_time_series",
    "prediction_metric_names",
    "target_value_for",
)
