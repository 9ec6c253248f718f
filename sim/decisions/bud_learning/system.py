"""The learning system of one BudAIScaler: feedback, verification, calibration, status.

upstream: learning/system.go LearningSystem (NewLearningSystem, Initialize, RecordScalingDecision,
VerifyPastPredictions, ShouldPersist, Persist, GetStatus, SetLookAhead, SetHistoricalDays, Reset).
Go reads time.Now() inside; here `now` (simulated seconds) drives throttling, verification and the
persist interval, and `at` (the simulated wall clock) stamps records and picks hour-of-week buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sim.decisions.bud.learning import (
    DEFAULT_ALPHA,
    Direction,
    KVCachePattern,
    LLMMetrics,
    LLMPatternDetector,
    Pattern,
    RingBuffer,
    get_direction,
)
from sim.decisions.bud_learning.accuracy import AccuracyReport, PredictionAccuracyTracker
from sim.decisions.bud_learning.calibrator import AdaptiveCalibrator, CalibrationResult
from sim.decisions.bud_learning.seasonal import SeasonalProfileManager, is_complete, total_observations

DEFAULT_PERSIST_INTERVAL_S = 5 * 60.0
"""types.go DefaultPersistInterval."""
DEFAULT_LOOK_AHEAD_S = 15 * 60.0
"""types.go DefaultLookAhead."""
DEFAULT_MAX_HISTORY = 1000
RECORD_INTERVAL_S = 10.0
"""NewLearningSystem recordInterval: at most one pending verification per 10 s."""
FEEDBACK_BUFFER = 1000
HIGH_CONFIDENCE_THRESHOLD = 0.7
LOW_CONFIDENCE_THRESHOLD = 0.3


@dataclass(frozen=True)
class FeedbackInput:
    """upstream: system.go FeedbackInput (Timestamp split into `t` seconds and `at` wall clock)."""

    scaler_name: str
    namespace: str
    t: float
    at: datetime
    current_replicas: int
    recommended_replicas: int
    predicted_replicas: int
    metric_snapshots: dict[str, float] = field(default_factory=dict)
    llm_metrics: LLMMetrics = field(default_factory=LLMMetrics)
    look_ahead_minutes: int = 0


@dataclass
class FeedbackRecord:
    """upstream: types.go FeedbackRecord (the fields the system fills)."""

    at: datetime
    predicted_replicas: int
    recommended_replicas: int
    actual_replicas: int
    metric_snapshots: dict[str, float]
    outcome_replicas: int = 0
    prediction_error: float = 0.0
    was_over_provisioned: bool = False
    was_under_provisioned: bool = False


@dataclass(frozen=True)
class PendingVerification:
    record: FeedbackRecord
    verify_at: float
    scaler_name: str
    namespace: str


@dataclass(frozen=True)
class LearningSystemStatus:
    """upstream: system.go LearningSystemStatus (storage size left to the caller: it reads the API)."""

    enabled: bool
    data_points_collected: int
    overall_accuracy: float
    overall_mae: float
    overall_mape: float
    seasonal_data_complete: bool
    current_pattern: str
    pattern_confidence: float
    calibration_needed: bool
    config_map_name: str
    pending_verifications: int
    total_predictions: int
    last_calibration: float | None


@dataclass
class LearningData:
    """upstream: storage.go LearningData (what a ConfigMap holds)."""

    seasonal_profiles: SeasonalProfileManager
    pattern_detector: LLMPatternDetector
    accuracy_tracker: PredictionAccuracyTracker
    metadata: dict[str, Any] = field(default_factory=dict)


def learn_pattern(
    detector: LLMPatternDetector, pattern: Pattern, successful: bool, multiplier: float
) -> None:
    """upstream: patterns.go LearnPattern, KV-cache branch (the batch branch learns a signature
    template this port does not keep; it is unreachable from the controller, see docs/budscaler.md)."""
    if pattern != Pattern.KV_CACHE_PRESSURE:
        return
    for kv in detector.kv_cache_patterns:
        if kv.cache_usage_threshold == detector.kv_cache_pressure_threshold:
            kv.total_predictions += 1
            if successful:
                kv.successful_predictions += 1
                kv.optimal_scale_action = 0.2 * multiplier + 0.8 * kv.optimal_scale_action
            return
    detector.kv_cache_patterns.append(
        KVCachePattern(detector.kv_cache_pressure_threshold, detector.min_queued_requests, multiplier, 1, 1)
    )


class LearningSystem:
    """upstream: system.go LearningSystem for one scaler."""

    def __init__(self, scaler_name: str, namespace: str, config_map_name: str) -> None:
        self.seasonal = SeasonalProfileManager(DEFAULT_ALPHA)
        self.patterns = LLMPatternDetector()
        self.tracker = PredictionAccuracyTracker()
        self.calibrator = AdaptiveCalibrator(self.tracker, self.seasonal)
        self.feedback: RingBuffer[PendingVerification] = RingBuffer(FEEDBACK_BUFFER)
        self.history: list[FeedbackRecord] = []
        self.config_map_name = config_map_name
        self.last_persisted: float | None = None
        self.persist_interval_s = DEFAULT_PERSIST_INTERVAL_S
        self.dirty = False
        self.enabled = True
        self.scaler_name = scaler_name
        self.namespace = namespace
        self.historical_days = 7
        self.look_ahead_s = DEFAULT_LOOK_AHEAD_S
        self.last_recorded_at: float | None = None
        self.record_interval_s = RECORD_INTERVAL_S
        self.observations = 0
        """Feedback inputs received (this process's count; not part of upstream's state)."""
        self.verified = 0
        self.calibrations: list[CalibrationResult] = []
        self.loaded_from_storage = False
        self._next_due: float | None = math.inf
        """The earliest verify_at pending (None: unknown, scan)."""

    # --- lifecycle --------------------------------------------------------------------------

    def initialize(self, data: LearningData | None) -> None:
        """upstream: Initialize — the stored profiles, detector and tracker replace the fresh ones
        and a new calibrator is built on them (its count and last calibration start over)."""
        if data is None:
            return
        self.seasonal = data.seasonal_profiles
        self.patterns = data.pattern_detector
        self.tracker = data.accuracy_tracker
        self.calibrator = AdaptiveCalibrator(self.tracker, self.seasonal)
        self.loaded_from_storage = True

    def set_look_ahead(self, seconds: float) -> None:
        self.look_ahead_s = seconds

    def set_historical_days(self, days: int) -> None:
        if 0 < days <= 90:
            self.historical_days = days

    # --- feedback ---------------------------------------------------------------------------

    def record_scaling_decision(self, x: FeedbackInput, now: float) -> bool:
        """upstream: RecordScalingDecision. Returns whether a pending verification was queued
        (False when throttled: the profiles and the detector still learn from the sample)."""
        self.observations += 1
        throttled = self.last_recorded_at is not None and now - self.last_recorded_at < self.record_interval_s
        if not throttled:
            self.last_recorded_at = now
            record = FeedbackRecord(
                at=x.at,
                predicted_replicas=x.predicted_replicas,
                recommended_replicas=x.recommended_replicas,
                actual_replicas=x.current_replicas,
                metric_snapshots=dict(x.metric_snapshots),
            )
            look = x.look_ahead_minutes * 60.0 if x.look_ahead_minutes > 0 else self.look_ahead_s
            if len(self.feedback) == FEEDBACK_BUFFER:
                self._next_due = None  # the oldest is overwritten: recompute the earliest due time
            self.feedback.push(PendingVerification(record, x.t + look, x.scaler_name, x.namespace))
            if self._next_due is not None:
                self._next_due = min(self._next_due, x.t + look)
        for metric in sorted(x.metric_snapshots):
            self.seasonal.update(metric, x.at, x.metric_snapshots[metric])
        self.patterns.update_history(x.metric_snapshots, x.llm_metrics, now=now)
        if not throttled:
            self.dirty = True
        return not throttled

    def verify_past_predictions(self, actual: int, now: float, at: datetime) -> int:
        """upstream: VerifyPastPredictions — every pending record due by `now` is judged against
        the scaler's actual replicas *now*. Returns how many were verified."""
        if self._next_due is not None and now < self._next_due:
            return 0  # nothing is due (the scan below would keep every item in place)
        due: list[PendingVerification] = []
        keep: list[PendingVerification] = []
        for item in self.feedback.get_all():
            if item is None:
                continue
            (keep if now < item.verify_at else due).append(item)
        self._next_due = min((item.verify_at for item in keep), default=math.inf)
        if not due:
            return 0  # upstream rebuilds the buffer with the same items in the same order
        self.feedback = RingBuffer.of(FEEDBACK_BUFFER, keep)
        for pv in due:
            r = pv.record
            r.outcome_replicas = actual
            if actual > 0:
                r.prediction_error = float(r.predicted_replicas - actual) / float(actual)
            r.was_over_provisioned = r.predicted_replicas > actual + 1
            r.was_under_provisioned = r.predicted_replicas < actual - 1
            predicted_dir = get_direction(r.actual_replicas, r.predicted_replicas)
            actual_dir = get_direction(r.actual_replicas, actual)
            self.tracker.record_outcome(r.at, r.predicted_replicas, actual, predicted_dir, actual_dir)
            pattern, confidence = self.patterns.current_pattern, self.patterns.pattern_confidence
            if confidence > 0.5:
                ok = not r.was_over_provisioned and not r.was_under_provisioned
                mult = (
                    float(actual) / float(r.actual_replicas) if actual > 0 and r.actual_replicas > 0 else 1.0
                )
                learn_pattern(self.patterns, pattern, ok, mult)
            self.history.append(r)
            if len(self.history) > DEFAULT_MAX_HISTORY:
                self.history = self.history[len(self.history) - DEFAULT_MAX_HISTORY :]
        self.verified += len(due)
        self.dirty = True
        if self.calibrator.should_calibrate(now):
            result = self.calibrator.calibrate(now, at)
            if not result.skipped:
                self.calibrations.append(result)
        return len(due)

    # --- persistence ------------------------------------------------------------------------

    def should_persist(self, now: float) -> bool:
        """upstream: ShouldPersist (dirty and 5 min since the last save; never saved = due)."""
        if not self.dirty:
            return False
        return self.last_persisted is None or now - self.last_persisted >= self.persist_interval_s

    def data_to_persist(self) -> LearningData:
        """upstream: Persist, the LearningData it hands storage.Save."""
        profiles = self.seasonal.all_profiles()
        return LearningData(
            self.seasonal,
            self.patterns,
            self.tracker,
            {
                "scalerName": self.scaler_name,
                "namespace": self.namespace,
                "dataPointCount": sum(total_observations(p) for p in profiles),
                "profilesCount": len(profiles),
            },
        )

    def mark_persisted(self, now: float) -> None:
        """upstream: Persist after a successful Save."""
        self.last_persisted = now
        self.dirty = False

    # --- status -----------------------------------------------------------------------------

    def accuracy_report(self) -> AccuracyReport:
        return self.tracker.report()

    def status(self) -> LearningSystemStatus:
        """upstream: GetStatus (SeasonalDataComplete is true when there is no profile at all)."""
        report = self.tracker.report(full=False)
        profiles = self.seasonal.all_profiles()
        return LearningSystemStatus(
            enabled=self.enabled,
            data_points_collected=sum(total_observations(p) for p in profiles),
            overall_accuracy=report.direction_accuracy * 100,
            overall_mae=report.overall_mae,
            overall_mape=report.overall_mape,
            seasonal_data_complete=all(is_complete(p) for p in profiles),
            current_pattern=str(self.patterns.current_pattern),
            pattern_confidence=self.patterns.pattern_confidence,
            calibration_needed=report.calibration_needed,
            config_map_name=self.config_map_name,
            pending_verifications=len(self.feedback),
            total_predictions=report.total_predictions,
            last_calibration=self.calibrator.last_calibration,
        )

    def seasonal_ratio(self, metric: str, at: datetime, ahead_s: float) -> float | None:
        """factor(at + ahead) / factor(at) when both hour-of-week buckets are confident enough
        (>= types.go LowConfidenceThreshold); None otherwise. Only the corrected profile reads it
        (Quirk.LEARNING_UNUSED_BY_PREDICTION)."""
        f_now, c_now = self.seasonal.seasonal_factor(metric, at)
        f_then, c_then = self.seasonal.seasonal_factor(metric, at + timedelta(seconds=ahead_s))
        if c_now < LOW_CONFIDENCE_THRESHOLD or c_then < LOW_CONFIDENCE_THRESHOLD or f_now <= 0:
            return None
        return f_then / f_now


def learning_status_fields(s: LearningSystemStatus) -> dict[str, Any]:
    """status.learningStatus as reconcileCustomScaler formats it (camelCase wire form)."""
    return {
        "dataPointsCollected": int(s.data_points_collected),
        "overallAccuracy": f"{s.overall_accuracy:.1f}%",
        "directionAccuracy": f"{s.overall_accuracy:.1f}%",
        "recentMAPE": f"{s.overall_mape:.2f}%",
        "recentMAE": f"{s.overall_mae:.2f}",
        "seasonalDataComplete": s.seasonal_data_complete,
        "detectedPattern": s.current_pattern,
        "patternConfidence": f"{s.pattern_confidence:.2f}",
        "calibrationNeeded": s.calibration_needed,
        "configMapName": s.config_map_name,
    }


__all__ = [
    "Direction",
    "FeedbackInput",
    "LearningData",
    "LearningSystem",
    "LearningSystemStatus",
    "learning_status_fields",
]
