"""Adaptive calibration: the seasonal profiles' EWMA alpha and bad buckets, driven by accuracy.

upstream: learning/calibrator.go AdaptiveCalibrator (ShouldCalibrate, Calibrate, ForceCalibrate,
AnalyzePerformance and its helpers). `now` is simulated seconds (Go's time.Since/time.Now), `at`
the simulated wall clock for the timestamps it records. Note: the calibrator adjusts the seasonal
profiles only; nothing upstream reads them for a prediction (Quirk.LEARNING_UNUSED_BY_PREDICTION).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sim.decisions.bud.learning import DEFAULT_ALPHA
from sim.decisions.bud_learning.accuracy import AccuracyReport, PredictionAccuracyTracker, TimeSlotStats
from sim.decisions.bud_learning.seasonal import SeasonalProfileManager, reset_bucket

MAX_MAPE = 20.0
"""types.go MaxMAPE (percent)."""
MIN_ACCURACY_THRESHOLD = 0.85
"""types.go MinAccuracyThreshold (direction accuracy, 0-1)."""
CALIBRATION_INTERVAL_S = 5 * 60.0
"""NewAdaptiveCalibrator: calibrationInterval 5 min."""
ALPHA_ADJUSTMENT_RATE = 0.1
MIN_PREDICTIONS = 20


@dataclass(frozen=True)
class CalibrationResult:
    """upstream: types.go CalibrationResult."""

    skipped: bool
    previous_mae: float
    previous_mape: float
    alpha_adjusted: bool = False
    new_alpha: float = 0.0
    buckets_reset: tuple[TimeSlotStats, ...] = ()


@dataclass(frozen=True)
class PerformanceAnalysis:
    overall_score: float
    mape_status: str
    direction_status: str
    trend_status: str
    recommendations: tuple[str, ...]
    calibration_needed: bool


class AdaptiveCalibrator:
    """upstream: calibrator.go AdaptiveCalibrator. `last_calibration` is simulated seconds; None is
    Go's zero time (time.Since of it is decades, so the interval check always passes)."""

    def __init__(self, tracker: PredictionAccuracyTracker, profiles: SeasonalProfileManager) -> None:
        self.tracker = tracker
        self.profiles = profiles
        self.min_accuracy_threshold = MIN_ACCURACY_THRESHOLD
        self.max_mape = MAX_MAPE
        self.calibration_interval_s = CALIBRATION_INTERVAL_S
        self.alpha_adjustment_rate = ALPHA_ADJUSTMENT_RATE
        self.last_calibration: float | None = None
        self.calibration_count = 0
        self.last_alpha_change = 0.0

    def should_calibrate(self, now: float) -> bool:
        """upstream: ShouldCalibrate (interval, then the tracker's flag, then MAPE / direction with >= 20 outcomes)."""
        if self.last_calibration is not None and now - self.last_calibration < self.calibration_interval_s:
            return False
        if self.tracker.calibration_needed:
            return True
        report = self.tracker.report(full=False)
        if report.total_predictions < MIN_PREDICTIONS:
            return False
        if report.overall_mape > self.max_mape:
            return True
        return report.direction_accuracy < self.min_accuracy_threshold

    def calibrate(self, now: float, at: datetime) -> CalibrationResult:
        """upstream: Calibrate. Skipped below 20 outcomes (flag and timer untouched, as upstream)."""
        report = self.tracker.report()
        if report.total_predictions < MIN_PREDICTIONS:
            return CalibrationResult(True, report.overall_mae, report.overall_mape)
        self.calibration_count += 1
        profiles = self.profiles.all_profiles()
        # Go takes the alpha of whichever profile its map yields first; all share one alpha
        current = profiles[0].alpha if profiles else DEFAULT_ALPHA
        new_alpha, adjusted = current, False
        if report.overall_mape > self.max_mape:
            new_alpha, adjusted = min(0.5, current * (1 + self.alpha_adjustment_rate)), True
        elif report.overall_mape < self.max_mape * 0.5:
            new_alpha, adjusted = max(0.05, current * (1 - self.alpha_adjustment_rate * 0.5)), True
        if adjusted:
            self.profiles.set_alpha(new_alpha)
            self.last_alpha_change = new_alpha - current
        reset: list[TimeSlotStats] = []
        for slot in report.worst_time_slots:
            if slot.mape > self.max_mape * 2 and slot.count > 10:
                for p in profiles:
                    reset_bucket(p, slot.hour, slot.day_of_week)
                self.tracker.reset_bucket(slot.hour, slot.day_of_week)
                reset.append(slot)
        self.tracker.reset_calibration_flag(at)
        self.last_calibration = now
        return CalibrationResult(
            False,
            report.overall_mae,
            report.overall_mape,
            alpha_adjusted=adjusted,
            new_alpha=new_alpha if adjusted else 0.0,
            buckets_reset=tuple(reset),
        )

    def force_calibrate(self, now: float, at: datetime) -> CalibrationResult:
        self.last_calibration = None
        return self.calibrate(now, at)

    # --- AnalyzePerformance ------------------------------------------------------------------

    def mape_status(self, mape: float) -> str:
        if mape <= self.max_mape * 0.5:
            return "good"
        return "moderate" if mape <= self.max_mape else "poor"

    def direction_status(self, accuracy: float) -> str:
        if accuracy >= self.min_accuracy_threshold:
            return "good"
        return "moderate" if accuracy >= self.min_accuracy_threshold * 0.8 else "poor"

    @staticmethod
    def trend_status(trend: float) -> str:
        if trend > 0.1:
            return "improving"
        return "degrading" if trend < -0.1 else "stable"

    def recommendations(self, r: AccuracyReport) -> tuple[str, ...]:
        out: list[str] = []
        if r.overall_mape > self.max_mape:
            out.append("High prediction error - consider increasing alpha for faster adaptation")
        if r.direction_accuracy < self.min_accuracy_threshold:
            out.append("Low direction accuracy - review scaling thresholds")
        if r.recent_trend < -0.2:
            out.append("Accuracy degrading - manual calibration recommended")
        if r.worst_time_slots:
            out.append("Consider adding schedule hints for problematic time slots")
        if r.total_predictions < 100:
            out.append("Collecting more data - predictions will improve over time")
        return tuple(out)

    def analyze(self) -> PerformanceAnalysis:
        """upstream: AnalyzePerformance (score = mean of the MAPE score and direction score, 0-100)."""
        r = self.tracker.report()
        mape_score = 100.0 * max(0.0, 1 - r.overall_mape / 100)
        score = (mape_score + 100.0 * r.direction_accuracy) / 2
        return PerformanceAnalysis(
            score,
            self.mape_status(r.overall_mape),
            self.direction_status(r.direction_accuracy),
            self.trend_status(r.recent_trend),
            self.recommendations(r),
            r.calibration_needed,
        )
