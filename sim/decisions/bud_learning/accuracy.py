"""Prediction accuracy per hour-of-week bucket and overall.

upstream: pkg/controller/budaiscaler/learning/accuracy.go PredictionAccuracyTracker
(RecordPredictionOutcome, GetAccuracyReport, calculateOverallDirectionAccuracy, findWorstTimeSlots,
calculateRecentTrend, ResetBucket, ResetCalibrationFlag, MarshalJSON/UnmarshalJSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sim.decisions.bud.learning import (
    DEFAULT_ALPHA,
    NUM_BUCKETS,
    Direction,
    RingBuffer,
    RunningAverage,
    get_bucket_index,
    time_from_bucket_index,
)
from sim.decisions.bud_learning.timefmt import go_time, parse_go_time

RECENT_SIZE = 100
CALIBRATION_PCT_ERROR = 25.0
"""accuracy.go RecordPredictionOutcome: one outcome off by more than 25 % flags calibration."""


class RunningAccuracy:
    """upstream: learning/types.go RunningAccuracy."""

    def __init__(self, correct: int = 0, total: int = 0) -> None:
        self.correct = correct
        self.total = total

    def update(self, correct: bool) -> None:
        self.total += 1
        if correct:
            self.correct += 1

    def get(self) -> float:
        return 0.0 if self.total == 0 else self.correct / self.total


@dataclass(frozen=True)
class PredictionOutcome:
    at: datetime
    predicted: int
    actual: int
    error: float


@dataclass(frozen=True)
class TimeSlotStats:
    hour: int
    day_of_week: int
    mae: float
    mape: float
    count: int


@dataclass(frozen=True)
class AccuracyReport:
    overall_mae: float
    overall_mape: float
    direction_accuracy: float
    worst_time_slots: tuple[TimeSlotStats, ...]
    calibration_needed: bool
    total_predictions: int
    recent_trend: float


def _ra(alpha: float = DEFAULT_ALPHA) -> RunningAverage:
    return RunningAverage(alpha)


class PredictionAccuracyTracker:
    """upstream: accuracy.go PredictionAccuracyTracker."""

    def __init__(self) -> None:
        self.hourly_mae = [_ra() for _ in range(NUM_BUCKETS)]
        self.hourly_mape = [_ra() for _ in range(NUM_BUCKETS)]
        self.hourly_rmse = [_ra() for _ in range(NUM_BUCKETS)]
        self.direction_accuracy = [RunningAccuracy() for _ in range(NUM_BUCKETS)]
        self.overall_mae = _ra()
        self.overall_mape = _ra()
        self.recent: RingBuffer[PredictionOutcome] = RingBuffer(RECENT_SIZE)
        self.last_calibration: datetime | None = None
        self.calibration_needed = False
        self.total_predictions = 0
        self._resets = 0
        self._direction_cache: tuple[tuple[int, int], float] | None = None

    def record_outcome(
        self, at: datetime, predicted: int, actual: int, predicted_dir: Direction, actual_dir: Direction
    ) -> None:
        """upstream: RecordPredictionOutcome (the bucket is the prediction's hour of week)."""
        bucket = get_bucket_index(at)
        self.total_predictions += 1
        error = float(predicted - actual)
        abs_error = abs(error)
        pct_error = abs_error / float(actual) * 100 if actual > 0 else 0.0
        self.hourly_mae[bucket].update(abs_error)
        self.hourly_mape[bucket].update(pct_error)
        self.hourly_rmse[bucket].update(error * error)
        correct = predicted_dir == actual_dir or predicted == actual
        self.direction_accuracy[bucket].update(correct)
        self.overall_mae.update(abs_error)
        self.overall_mape.update(pct_error)
        self.recent.push(PredictionOutcome(at, predicted, actual, error))
        if pct_error > CALIBRATION_PCT_ERROR:
            self.calibration_needed = True

    def overall_direction_accuracy(self) -> float:
        """Sum over the 168 buckets (cached between outcomes: the status asks every reconcile)."""
        key = (self.total_predictions, self._resets)
        if self._direction_cache is None or self._direction_cache[0] != key:
            correct = sum(d.correct for d in self.direction_accuracy)
            total = sum(d.total for d in self.direction_accuracy)
            self._direction_cache = (key, 0.0 if total == 0 else correct / total)
        return self._direction_cache[1]

    def worst_time_slots(self, n: int) -> tuple[TimeSlotStats, ...]:
        """Buckets with data by MAPE, worst first. Go's sort.Slice is not stable; ties keep bucket order here."""
        slots = [(i, self.hourly_mape[i].get(), self.hourly_mape[i].count) for i in range(NUM_BUCKETS)]
        slots = [s for s in slots if s[2] > 0]
        slots.sort(key=lambda s: -s[1])
        out = []
        for i, mape, count in slots[: max(0, min(n, len(slots)))]:
            hour, dow = time_from_bucket_index(i)
            out.append(TimeSlotStats(hour, dow, self.hourly_mae[i].get(), mape, count))
        return tuple(out)

    def recent_trend(self) -> float:
        """Positive when the second half of the recent outcomes has a lower MAPE. upstream: calculateRecentTrend."""
        if len(self.recent) < 20:
            return 0.0
        items = [o for o in self.recent.get_all() if o is not None]
        n = len(items)

        def half(part: list[PredictionOutcome]) -> tuple[float, int]:
            total, count = 0.0, 0
            for o in part:
                if o.actual > 0:
                    total += abs(o.error) / float(o.actual) * 100
                    count += 1
            return total, count

        first, fc = half(items[: n // 2])
        second, sc = half(items[n // 2 :])
        if fc == 0 or sc == 0:
            return 0.0
        first_avg, second_avg = first / fc, second / sc
        if first_avg == 0:
            return 0.0
        return max(-1.0, min(1.0, (first_avg - second_avg) / first_avg))

    def report(self, *, full: bool = True) -> AccuracyReport:
        """upstream: GetAccuracyReport (HourlyAccuracy omitted: nothing here reads it).
        `full=False` leaves out the worst time slots and the trend (empty / 0) for callers that
        read neither (the status, the calibrator's gate)."""
        return AccuracyReport(
            overall_mae=self.overall_mae.get(),
            overall_mape=self.overall_mape.get(),
            direction_accuracy=self.overall_direction_accuracy(),
            worst_time_slots=self.worst_time_slots(5) if full else (),
            calibration_needed=self.calibration_needed,
            total_predictions=self.total_predictions,
            recent_trend=self.recent_trend() if full else 0.0,
        )

    def reset_bucket(self, hour: int, day_of_week: int) -> None:
        idx = day_of_week * 24 + hour
        if 0 <= idx < NUM_BUCKETS:
            self.hourly_mae[idx] = _ra()
            self.hourly_mape[idx] = _ra()
            self.hourly_rmse[idx] = _ra()
            self.direction_accuracy[idx] = RunningAccuracy()
            self._resets += 1

    def reset_calibration_flag(self, at: datetime) -> None:
        self.calibration_needed = False
        self.last_calibration = at

    # --- JSON as accuracy.go MarshalJSON / UnmarshalJSON write and read it -------------------

    def to_json(self) -> dict[str, Any]:
        def ras(xs: list[RunningAverage]) -> list[dict[str, Any]]:
            return [{"value": r.value, "count": r.count, "alpha": r.alpha} for r in xs]

        return {
            "hourlyMAE": ras(self.hourly_mae),
            "hourlyMAPE": ras(self.hourly_mape),
            "hourlyRMSE": ras(self.hourly_rmse),
            "directionAccuracy": [{"correct": d.correct, "total": d.total} for d in self.direction_accuracy],
            "overallMAE": {
                "value": self.overall_mae.value,
                "count": self.overall_mae.count,
                "alpha": self.overall_mae.alpha,
            },
            "overallMAPE": {
                "value": self.overall_mape.value,
                "count": self.overall_mape.count,
                "alpha": self.overall_mape.alpha,
            },
            "lastCalibration": go_time(self.last_calibration),
            "calibrationNeeded": self.calibration_needed,
            "totalPredictions": self.total_predictions,
            "recentPredictions": [
                {"time": go_time(o.at), "predicted": o.predicted, "actual": o.actual, "error": o.error}
                for o in self.recent.get_all()
                if o is not None
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PredictionAccuracyTracker:
        t = cls()

        def ra(d: Any) -> RunningAverage:
            # Go unmarshals into a zero RunningAverage: a missing alpha is 0, not DefaultAlpha
            d = d if isinstance(d, dict) else {}
            r = RunningAverage(float(d.get("alpha", 0.0)))
            r.value = float(d.get("value", 0.0))
            r.count = int(d.get("count", 0))
            return r

        def ras(key: str) -> list[RunningAverage]:
            items = list(data.get(key) or [])
            return [ra(items[i] if i < len(items) else None) for i in range(NUM_BUCKETS)]

        t.hourly_mae = ras("hourlyMAE")
        t.hourly_mape = ras("hourlyMAPE")
        t.hourly_rmse = ras("hourlyRMSE")
        dirs = list(data.get("directionAccuracy") or [])
        t.direction_accuracy = [
            RunningAccuracy(int(d.get("correct", 0)), int(d.get("total", 0)))
            if isinstance(d, dict)
            else RunningAccuracy()
            for d in (dirs[i] if i < len(dirs) else None for i in range(NUM_BUCKETS))
        ]
        t.overall_mae = ra(data.get("overallMAE"))
        t.overall_mape = ra(data.get("overallMAPE"))
        t.last_calibration = parse_go_time(data.get("lastCalibration"))
        t.calibration_needed = bool(data.get("calibrationNeeded", False))
        t.total_predictions = int(data.get("totalPredictions", 0))
        for o in data.get("recentPredictions") or []:
            at = parse_go_time(o.get("time"))
            if at is not None:
                t.recent.push(
                    PredictionOutcome(
                        at, int(o.get("predicted", 0)), int(o.get("actual", 0)), float(o.get("error", 0.0))
                    )
                )
        return t
