"""BudAIScaler learning conformance: budscaler_learning_vectors.json through sim.decisions.bud_learning.

Kinds `bud.learning.system.*` (the learning system, its accuracy tracker and seasonal factors),
`bud.learning.storage.*` (what survives the JSON / ConfigMap round trip) and
`bud.learning.calibrator.*` (when and how calibration changes alpha and buckets). Inputs use the
vectors' vocabulary: outcomes as {predicted, actual, predicted_dir, actual_dir}, times as UTC
RFC 3339 or seconds. Comparison as in `sim.conformance.bud` (suffixes `_between`, `_gt`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.conformance.bud import _run, _utc
from sim.conformance.types import Handler
from sim.decisions.bud.learning import Direction, SeasonalProfile
from sim.decisions.bud_learning import storage
from sim.decisions.bud_learning.accuracy import PredictionAccuracyTracker
from sim.decisions.bud_learning.calibrator import AdaptiveCalibrator
from sim.decisions.bud_learning.seasonal import SeasonalProfileManager, profile_from_json, profile_to_json
from sim.decisions.bud_learning.system import FeedbackInput, LearningSystem, learning_status_fields

AT = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
"""Monday 10:00 UTC, the instant upstream's learning tests use."""


def _tracker(outcomes: list[Mapping[str, Any]], at: datetime = AT) -> PredictionAccuracyTracker:
    t = PredictionAccuracyTracker()
    for o in outcomes:
        t.record_outcome(
            at,
            int(o["predicted"]),
            int(o["actual"]),
            Direction(str(o.get("predicted_dir", "none"))),
            Direction(str(o.get("actual_dir", "none"))),
        )
    return t


def _profile(i: Mapping[str, Any]) -> SeasonalProfile:
    p = SeasonalProfile(str(i.get("metric", "test_metric")), float(i["alpha"]))
    if i.get("min_observations") is not None:
        p.min_observations = int(i["min_observations"])
    start = _utc(str(i.get("start_utc", "2024-01-15T10:00:00Z")))
    for k, v in enumerate(i["values"]):
        p.update(start + timedelta(seconds=k * float(i.get("step_s", 1.0))), float(v))
    return p


# --- system -------------------------------------------------------------------------------------


def system_accuracy_outcomes(i: Mapping[str, Any]) -> Mapping[str, Any]:
    r = _tracker(list(i["outcomes"])).report()
    return {
        "total_predictions": r.total_predictions,
        "direction_accuracy": r.direction_accuracy,
        "overall_mae": r.overall_mae,
        "overall_mape": r.overall_mape,
        "calibration_needed": r.calibration_needed,
    }


def system_seasonal_factor(i: Mapping[str, Any]) -> Mapping[str, Any]:
    p = _profile(i)
    factor, conf = p.seasonal_factor(_utc(str(i.get("at_utc", "2024-01-15T10:00:00Z"))))
    return {"factor": factor, "confidence": conf}


def system_seasonal_manager(i: Mapping[str, Any]) -> Mapping[str, Any]:
    m = SeasonalProfileManager(float(i["alpha"]))
    for u in i["updates"]:
        m.update(str(u["metric"]), _utc(str(u["time_utc"])), float(u["value"]))
    factor, conf = m.seasonal_factor(str(i["metric"]), _utc(str(i["at_utc"])))
    return {"exists": m.get(str(i["metric"])) is not None, "factor": factor, "confidence": conf}


def system_feedback(i: Mapping[str, Any]) -> Mapping[str, Any]:
    ls = LearningSystem("s", "default", "s-learning-data")
    queued = []
    for r in i["records"]:
        t = float(r["t"])
        queued.append(
            ls.record_scaling_decision(
                FeedbackInput(
                    "s",
                    "default",
                    t,
                    AT + timedelta(seconds=t),
                    int(r["current"]),
                    int(r.get("recommended", r["current"])),
                    int(r["predicted"]),
                    {str(k): float(v) for k, v in (r.get("metrics") or {}).items()},
                    look_ahead_minutes=int(i.get("look_ahead_minutes", 0)),
                ),
                t,
            )
        )
    v = i["verify"]
    verified = ls.verify_past_predictions(
        int(v["actual"]), float(v["t"]), AT + timedelta(seconds=float(v["t"]))
    )
    rep = ls.tracker.report()
    profiles = ls.seasonal.all_profiles()
    return {
        "queued": queued,
        "observations": sum(sum(b.observations for b in p.buckets) for p in profiles),
        "verified": verified,
        "pending": len(ls.feedback),
        "total_predictions": rep.total_predictions,
        "direction_accuracy": rep.direction_accuracy,
        "overall_mae": rep.overall_mae,
        "overall_mape": rep.overall_mape,
        "dirty": ls.dirty,
        "should_persist": ls.should_persist(float(v["t"])),
    }


def system_status_fields(i: Mapping[str, Any]) -> Mapping[str, Any]:
    ls = LearningSystem(
        str(i.get("scaler", "s")), "default", storage.config_map_name(str(i.get("scaler", "s")))
    )
    ls.tracker = _tracker(list(i.get("outcomes") or []))
    fields = learning_status_fields(ls.status())
    return dict(fields)


# --- storage ------------------------------------------------------------------------------------


def storage_seasonal_roundtrip(i: Mapping[str, Any]) -> Mapping[str, Any]:
    p = _profile(i)
    text = json.dumps(profile_to_json(p))
    q = profile_from_json(json.loads(text))
    return {
        "metric_name": q.metric_name,
        "global_count": q.global_count,
        "same_metric_name": q.metric_name == p.metric_name,
        "same_global_count": q.global_count == p.global_count,
        "same_buckets": [(b.mean, b.observations) for b in q.buckets]
        == [(b.mean, b.observations) for b in p.buckets],
    }


def storage_accuracy_roundtrip(i: Mapping[str, Any]) -> Mapping[str, Any]:
    t = _tracker(list(i["outcomes"]))
    u = PredictionAccuracyTracker.from_json(json.loads(json.dumps(t.to_json())))
    return {
        "total_predictions": u.total_predictions,
        "same_total_predictions": u.total_predictions == t.total_predictions,
        "same_report": u.report() == t.report(),
    }


def storage_config_map(i: Mapping[str, Any]) -> Mapping[str, Any]:
    name = str(i["scaler"])
    ls = LearningSystem(name, "default", storage.config_map_name(name))
    for k, v in enumerate(i.get("values") or []):
        ls.seasonal.update("load", AT + timedelta(seconds=10 * k), float(v))
    ls.tracker = _tracker(list(i.get("outcomes") or []))
    cm = storage.build_config_map(
        ls.data_to_persist(),
        namespace="default",
        scaler_name=name,
        owner=storage.owner_reference(name, "u1"),
        at=AT,
    )
    meta = json.loads(cm["data"][storage.METADATA_KEY])
    back = storage.load(cm)
    assert back is not None
    create = storage.save_plan(None, cm)
    update = storage.save_plan(
        {**cm, "metadata": {**cm["metadata"], "resourceVersion": "7", "ownerReferences": []}}, cm
    )
    return {
        "name": cm["metadata"]["name"],
        "labels": cm["metadata"]["labels"],
        "data_keys": sorted(cm["data"]),
        "metadata_version": meta["version"],
        "metadata_data_point_count": meta["dataPointCount"],
        "metadata_storage_size_bytes": meta["storageSizeBytes"],
        "metadata_created_at": meta["createdAt"],
        "owner_kind": cm["metadata"]["ownerReferences"][0]["kind"],
        "loaded_observations": sum(
            sum(b.observations for b in p.buckets) for p in back.seasonal_profiles.all_profiles()
        ),
        "loaded_total_predictions": back.accuracy_tracker.total_predictions,
        "create_verb": create.verb,
        "update_verb": update.verb,
        "update_keeps_resource_version": update.obj["metadata"].get("resourceVersion"),
        "update_sets_owner": bool(update.obj["metadata"].get("ownerReferences")),
        "load_none": storage.load(None) is None,
    }


def storage_bad_json(i: Mapping[str, Any]) -> Mapping[str, Any]:
    cm = {"data": {str(k): str(v) for k, v in i["data"].items()}}
    try:
        storage.load(cm)
    except storage.StorageError as err:
        return {"error": str(err)}
    return {"error": ""}


# --- calibrator ---------------------------------------------------------------------------------


def _calibrator(i: Mapping[str, Any]) -> AdaptiveCalibrator:
    tracker = _tracker(list(i.get("outcomes") or []))
    profiles = SeasonalProfileManager(float(i.get("alpha", 0.1)))
    for metric in i.get("profiles") or []:
        profiles.get_or_create(str(metric))
    return AdaptiveCalibrator(tracker, profiles)


def _expand(i: Mapping[str, Any]) -> dict[str, Any]:
    """`{"repeat": n, "outcome": {...}}` entries become n outcomes."""
    out: list[Mapping[str, Any]] = []
    for o in i.get("outcomes") or []:
        out += [o["outcome"]] * int(o["repeat"]) if "repeat" in o else [o]
    return {**i, "outcomes": out}


def calibrator_should_calibrate(i: Mapping[str, Any]) -> Mapping[str, Any]:
    c = _calibrator(_expand(i))
    if i.get("calibrated_at") is not None:
        c.last_calibration = float(i["calibrated_at"])
    return {"should_calibrate": c.should_calibrate(float(i.get("now", 0.0)))}


def calibrator_calibrate(i: Mapping[str, Any]) -> Mapping[str, Any]:
    c = _calibrator(_expand(i))
    r = c.calibrate(float(i.get("now", 0.0)), AT)
    alphas = sorted({p.alpha for p in c.profiles.all_profiles()})
    return {
        "skipped": r.skipped,
        "alpha_adjusted": r.alpha_adjusted,
        "new_alpha": r.new_alpha,
        "profile_alphas": alphas,
        "buckets_reset": len(r.buckets_reset),
        "calibration_needed_after": c.tracker.calibration_needed,
        "calibration_count": c.calibration_count,
    }


def calibrator_analyze(i: Mapping[str, Any]) -> Mapping[str, Any]:
    a = _calibrator(_expand(i)).analyze()
    return {
        "overall_score": a.overall_score,
        "mape_status": a.mape_status,
        "direction_status": a.direction_status,
        "trend_status": a.trend_status,
        "recommendations": list(a.recommendations),
    }


HANDLERS: dict[str, Handler] = {
    "bud.learning.system.accuracy_outcomes": _run(system_accuracy_outcomes),
    "bud.learning.system.seasonal_factor": _run(system_seasonal_factor),
    "bud.learning.system.seasonal_manager": _run(system_seasonal_manager),
    "bud.learning.system.feedback": _run(system_feedback),
    "bud.learning.system.status_fields": _run(system_status_fields),
    "bud.learning.storage.seasonal_roundtrip": _run(storage_seasonal_roundtrip),
    "bud.learning.storage.accuracy_roundtrip": _run(storage_accuracy_roundtrip),
    "bud.learning.storage.config_map": _run(storage_config_map),
    "bud.learning.storage.bad_json": _run(storage_bad_json),
    "bud.learning.calibrator.should_calibrate": _run(calibrator_should_calibrate),
    "bud.learning.calibrator.calibrate": _run(calibrator_calibrate),
    "bud.learning.calibrator.analyze": _run(calibrator_analyze),
}
"""Every kind of budscaler_learning_vectors.json."""
