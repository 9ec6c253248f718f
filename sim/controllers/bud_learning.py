"""Prediction and learning inside the BudAIScaler controller: the SimPy-side glue.

What a reconcile of a prediction-enabled scaler does, in upstream's order
(# upstream: autoscaler.go Scale, getPredictionData, recordLearningFeedback,
VerifyLearningPredictions, getLearningSystem, PersistLearningData; budaiscaler_controller.go
reconcileCustomScaler for status.learningStatus):

1. every metric snapshot is recorded in the controller's predictor book (one process-wide book;
   keyed by metric name upstream, by scaler and metric when corrected);
2. the first prediction metric is predicted `lookAhead` ahead and turned into replicas from
   status.actualScale; an active schedule hint replaces it (handled by the pipeline as before);
3. the algorithm blends it (budscaler.go applyPredictionAdjustment: confidence >= 0.7, weight 0.3 x
   confidence);
4. after the scale write, with enableLearning (CRD default true): the learning system (created on
   first use and initialised from its ConfigMap) records the decision, verifies due predictions
   against status.actualScale, calibrates;
5. corrected only: the learning data is saved to ConfigMap `<scaler>-learning-data` every 5 min
   when dirty (upstream never calls PersistLearningData: Quirk.LEARNING_NEVER_PERSISTED). A save
   reads the ConfigMap from the informer cache and creates or updates it, so a stale cache gets
   AlreadyExists or Conflict; the error is reported and the save is retried at a later reconcile,
   as upstream's Persist would leave `dirty` set.

All of this lives in the process: a restarted controller (a new reconciler) starts with an empty
predictor book and empty learning systems, and gets back exactly what its ConfigMap holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from model.quirks import Quirk, QuirkSet
from sim.apiserver.errors import ApiError
from sim.decisions.bud.prediction import effective_look_ahead_s
from sim.decisions.bud.types import PredictionData
from sim.decisions.bud_learning import storage
from sim.decisions.bud_learning.predictor import (
    PredictorBook,
    TimeSeriesPrediction,
    history_key,
    predict_time_series,
    prediction_metric_names,
    target_value_for,
)
from sim.decisions.bud_learning.storage import StorageError
from sim.decisions.bud_learning.system import FeedbackInput, LearningSystem, learning_status_fields

Emit = Callable[..., None]


def prediction_enabled(spec: Mapping[str, Any]) -> bool:
    return bool((spec.get("predictionConfig") or {}).get("enabled"))


def learning_enabled(spec: Mapping[str, Any]) -> bool:
    """predictionConfig present and enableLearning (CRD default true) — upstream does not require
    `enabled` for the learning feedback."""
    pred = spec.get("predictionConfig")
    if not isinstance(pred, Mapping):
        return False
    value = pred.get("enableLearning")
    return True if value is None else bool(value)


def _look_ahead_minutes(spec: Mapping[str, Any]) -> int:
    value = (spec.get("predictionConfig") or {}).get("lookAheadMinutes")
    return 15 if value is None else int(value)


@dataclass(frozen=True)
class PredictionOutcome:
    """One scaler's prediction for this reconcile, plus the same prediction with each input quirk
    off (only those that differ), for `input_alternatives`."""

    data: PredictionData | None
    series: TimeSeriesPrediction | None
    observed: float | None
    without: dict[Quirk, PredictionData | None] = field(default_factory=dict)


def _as_data(p: TimeSeriesPrediction) -> PredictionData:
    """autoscaler.go getPredictionData: Source timeseries, PredictedReplicas and Confidence as returned."""
    return PredictionData(
        predicted_replicas=p.recommended_replicas,
        confidence=p.confidence,
        source="timeseries",
        reason=p.reason,
    )


class PredictionRuntime:
    """The controller process's predictor book and learning systems."""

    def __init__(self, api: Any, informers: Any, quirks: QuirkSet, wall: Callable[[float], datetime]) -> None:
        self.api = api
        self.informers = informers
        self.quirks = quirks
        self.wall = wall
        self.book = PredictorBook()
        """Keyed as this run's profile keys it."""
        self.alt_book: PredictorBook | None = (
            PredictorBook() if Quirk.PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS in quirks else None
        )
        """Per-scaler keys, kept only to tell whether the shared history changed a decision."""
        self.systems: dict[tuple[str, str], LearningSystem] = {}

    # --- prediction (autoscaler.go getPredictionData) ---------------------------------------

    def predict(
        self, scaler: Mapping[str, Any], averages: Mapping[str, float], now: float
    ) -> PredictionOutcome:
        meta = scaler.get("metadata") or {}
        spec = scaler.get("spec") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        shared = Quirk.PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS in self.quirks
        who = f"{ns}/{name}"
        for metric, value in averages.items():
            self.book.record(history_key(ns, name, metric, shared=shared), value, now, who)
            if self.alt_book is not None:
                self.alt_book.record(history_key(ns, name, metric, shared=False), value, now, who)
        if not spec.get("metricsSources"):
            return PredictionOutcome(None, None, None)
        names = prediction_metric_names(spec)
        if not names:
            return PredictionOutcome(None, None, None)
        metric = names[0]
        status = scaler.get("status") or {}
        current = int(status.get("actualScale") or 0)
        min_r = spec.get("minReplicas")
        min_r = 1 if min_r is None else int(min_r)
        max_r = int(spec.get("maxReplicas") or 0)
        target = target_value_for(spec, metric)
        minutes = _look_ahead_minutes(spec)
        ahead = effective_look_ahead_s(minutes, self.quirks)
        at = self.wall(now)
        unused = Quirk.LEARNING_UNUSED_BY_PREDICTION in self.quirks
        system = self.systems.get((ns, name))

        def run(
            book: PredictorBook, key_shared: bool, ahead_s: float, use_learning: bool
        ) -> TimeSeriesPrediction:
            ratio = None
            if use_learning and system is not None and system.enabled:
                ratio = system.seasonal_ratio(metric, at, ahead_s)
            return predict_time_series(
                book,
                history_key(ns, name, metric, shared=key_shared),
                metric,
                current=current,
                target=target,
                min_replicas=min_r,
                max_replicas=max_r,
                ahead_s=ahead_s,
                seasonal_ratio=ratio,
            )

        result = run(self.book, shared, ahead, not unused)
        data = _as_data(result)
        without: dict[Quirk, PredictionData | None] = {}
        if Quirk.PREDICTION_LOOKAHEAD_FIXED in self.quirks:
            alt = _as_data(run(self.book, shared, minutes * 60.0, not unused))
            if alt != data:
                without[Quirk.PREDICTION_LOOKAHEAD_FIXED] = alt
        if self.alt_book is not None and not self.book.fed_only_by(
            history_key(ns, name, metric, shared=True), who
        ):
            # (a shared series only this scaler ever fed is its own series: nothing to compare)
            alt = _as_data(run(self.alt_book, False, ahead, not unused))
            if alt != data:
                without[Quirk.PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS] = alt
        if unused:
            alt = _as_data(run(self.book, shared, ahead, True))
            if alt != data:
                without[Quirk.LEARNING_UNUSED_BY_PREDICTION] = alt
        return PredictionOutcome(data, result, averages.get(metric), without)

    # --- learning (autoscaler.go getLearningSystem, recordLearningFeedback, ...) -------------

    def learning_system(self, scaler: Mapping[str, Any], now: float, emit: Emit) -> LearningSystem:
        meta = scaler.get("metadata") or {}
        spec = scaler.get("spec") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        ls = self.systems.get((ns, name))
        if ls is not None:
            return ls
        ls = LearningSystem(name, ns, storage.config_map_name(name))
        cm = self.informers.informer("ConfigMap").peek(ns, storage.config_map_name(name))
        try:
            ls.initialize(storage.load(cm))
        except StorageError as err:
            emit("learning-load-failed", message=str(err))
        pred = spec.get("predictionConfig") or {}
        if pred.get("lookAheadMinutes") is not None:
            ls.set_look_ahead(float(int(pred["lookAheadMinutes"])) * 60.0)
        if pred.get("historicalDataDays") is not None:
            ls.set_historical_days(int(pred["historicalDataDays"]))
        ls.enabled = learning_enabled(spec)
        if cm is not None:
            emit("learning-loaded", configMap=storage.config_map_name(name), loaded=ls.loaded_from_storage)
        self.systems[(ns, name)] = ls
        return ls

    def feedback(
        self,
        scaler: Mapping[str, Any],
        *,
        averages: Mapping[str, float],
        current: int,
        desired: int,
        predicted: int | None,
        now: float,
        emit: Emit,
    ) -> dict[str, Any]:
        """recordLearningFeedback + VerifyLearningPredictions (+ the corrected PersistLearningData).
        Returns facts for the decision event."""
        meta = scaler.get("metadata") or {}
        spec = scaler.get("spec") or {}
        ls = self.learning_system(scaler, now, emit)
        facts: dict[str, Any] = {"enabled": ls.enabled}
        if not ls.enabled:
            return facts
        at = self.wall(now)
        queued = ls.record_scaling_decision(
            FeedbackInput(
                scaler_name=str(meta.get("name", "")),
                namespace=str(meta.get("namespace", "")),
                t=now,
                at=at,
                current_replicas=current,
                recommended_replicas=desired,
                predicted_replicas=desired if predicted is None else predicted,
                metric_snapshots=dict(averages),
                look_ahead_minutes=_look_ahead_minutes(spec),
            ),
            now,
        )
        actual = int((scaler.get("status") or {}).get("actualScale") or 0)
        calibrations = len(ls.calibrations)
        verified = ls.verify_past_predictions(actual, now, at)
        facts.update(observations=ls.observations, queued=queued, verified=verified)
        if len(ls.calibrations) > calibrations:
            c = ls.calibrations[-1]
            facts["calibrated"] = {
                "newAlpha": c.new_alpha if c.alpha_adjusted else None,
                "bucketsReset": len(c.buckets_reset),
            }
        if Quirk.LEARNING_NEVER_PERSISTED not in self.quirks and ls.should_persist(now):
            facts["persist"] = self._persist(scaler, ls, now, emit)
        return facts

    def _persist(self, scaler: Mapping[str, Any], ls: LearningSystem, now: float, emit: Emit) -> str:
        """LearningSystem.Persist -> LearningStorage.Save (cache Get, then Create or Update)."""
        meta = scaler.get("metadata") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        desired = storage.build_config_map(
            ls.data_to_persist(),
            namespace=ns,
            scaler_name=name,
            owner=storage.owner_reference(name, str(meta.get("uid", ""))),
            at=self.wall(now),
        )
        existing = self.informers.informer("ConfigMap").peek(ns, storage.config_map_name(name))
        plan = storage.save_plan(existing, desired)
        try:
            if plan.verb == "create":
                self.api.create(plan.obj, actor="budaiscaler-controller")
            else:
                self.api.update(plan.obj, actor="budaiscaler-controller")
        except ApiError as err:
            emit("learning-persist-failed", verb=plan.verb, error=err.reason.value, message=str(err))
            return err.reason.value
        ls.mark_persisted(now)
        return "ok"

    def learning_status(self, scaler: Mapping[str, Any]) -> dict[str, Any] | None:
        meta = scaler.get("metadata") or {}
        ls = self.systems.get((str(meta.get("namespace", "")), str(meta.get("name", ""))))
        return None if ls is None else learning_status_fields(ls.status())


__all__ = ["PredictionOutcome", "PredictionRuntime", "learning_enabled", "prediction_enabled"]
