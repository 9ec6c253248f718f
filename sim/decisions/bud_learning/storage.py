"""Learning data as a ConfigMap `<scaler>-learning-data`, built and read without an API server.

upstream: learning/storage.go LearningStorage (Save, Load, Delete, GetStorageSize,
CreateOwnerReference) and the MarshalJSON/UnmarshalJSON of the stored parts. What is stored:
the seasonal profiles, the pattern detector's learned templates and current pattern (not its recent
metric histories), the accuracy tracker and metadata. What is not: the predictor's time series,
pending verifications, feedback history, the calibrator's count and last calibration, the
throttle. `save_plan` says what Save would send; the caller issues it and gets upstream's errors
(AlreadyExists when its cache missed a ConfigMap, Conflict when its cached copy is stale).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sim.decisions.bud.learning import KVCachePattern, LLMPatternDetector, Pattern
from sim.decisions.bud_learning.accuracy import PredictionAccuracyTracker
from sim.decisions.bud_learning.seasonal import SeasonalProfileManager
from sim.decisions.bud_learning.system import LearningData
from sim.decisions.bud_learning.timefmt import GO_ZERO_TIME, go_time

SEASONAL_PROFILE_KEY = "seasonal_profiles.json"
PATTERN_DETECTOR_KEY = "pattern_detector.json"
ACCURACY_TRACKER_KEY = "accuracy_tracker.json"
METADATA_KEY = "metadata.json"
LEARNING_DATA_LABEL = "scaler.bud.studio/learning-data"
SCALER_NAME_LABEL = "scaler.bud.studio/scaler-name"
LAST_UPDATED_ANNOTATION = "scaler.bud.studio/last-updated"
VERSION_ANNOTATION = "scaler.bud.studio/version"
SCALER_API_VERSION = "scaler.bud.studio/v1alpha1"


class StorageError(ValueError):
    """upstream Load's `failed to unmarshal ...` errors."""


def config_map_name(scaler_name: str) -> str:
    """upstream: NewLearningStorage (`%s-learning-data`)."""
    return f"{scaler_name}-learning-data"


def owner_reference(name: str, uid: str) -> dict[str, Any]:
    """upstream: CreateOwnerReference (controller and blockOwnerDeletion set)."""
    return {
        "apiVersion": SCALER_API_VERSION,
        "kind": "BudAIScaler",
        "name": name,
        "uid": uid,
        "blockOwnerDeletion": True,
        "controller": True,
    }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


def detector_to_json(d: LLMPatternDetector) -> dict[str, Any]:
    """patterns.go MarshalJSON: templates, current pattern and thresholds; not the recent histories."""
    return {
        "batchPatterns": [],
        "kvCachePatterns": [
            {
                "cacheUsageThreshold": kv.cache_usage_threshold,
                "requestsWaitingMin": kv.requests_waiting_min,
                "optimalScaleAction": kv.optimal_scale_action,
                "responseDelay": 0,
                "successfulPredictions": kv.successful_predictions,
                "totalPredictions": kv.total_predictions,
            }
            for kv in d.kv_cache_patterns
        ],
        "currentPattern": str(d.current_pattern),
        "patternConfidence": d.pattern_confidence,
        "kvCachePressureThreshold": d.kv_cache_pressure_threshold,
        "batchSpikeThreshold": d.batch_spike_threshold,
    }


def detector_from_json(data: Mapping[str, Any]) -> LLMPatternDetector:
    """patterns.go UnmarshalJSON into a fresh detector (thresholds kept unless the stored ones are > 0)."""
    d = LLMPatternDetector()
    d.kv_cache_patterns = [
        KVCachePattern(
            float(kv.get("cacheUsageThreshold", 0.0)),
            int(kv.get("requestsWaitingMin", 0)),
            float(kv.get("optimalScaleAction", 0.0)),
            int(kv.get("successfulPredictions", 0)),
            int(kv.get("totalPredictions", 0)),
        )
        for kv in data.get("kvCachePatterns") or []
    ]
    try:
        d.current_pattern = Pattern(str(data.get("currentPattern", "")))
    except ValueError:
        d.current_pattern = Pattern.STEADY_STATE
    d.pattern_confidence = float(data.get("patternConfidence", 0.0))
    if float(data.get("kvCachePressureThreshold", 0.0)) > 0:
        d.kv_cache_pressure_threshold = float(data["kvCachePressureThreshold"])
    if float(data.get("batchSpikeThreshold", 0.0)) > 0:
        d.batch_spike_threshold = float(data["batchSpikeThreshold"])
    return d


def build_config_map(
    data: LearningData, *, namespace: str, scaler_name: str, owner: Mapping[str, Any] | None, at: datetime
) -> dict[str, Any]:
    """The ConfigMap Save writes. Metadata as storage.go leaves it: createdAt and oldestDataPoint
    are never set (Go's zero time) and storageSizeBytes is computed after the metadata was
    serialized, so the stored value is always 0."""
    seasonal = _dumps(data.seasonal_profiles.to_json())
    pattern = _dumps(detector_to_json(data.pattern_detector))
    accuracy = _dumps(data.accuracy_tracker.to_json())
    meta = {
        "version": "v1",
        "scalerName": str(data.metadata.get("scalerName", scaler_name)),
        "namespace": namespace,
        "createdAt": GO_ZERO_TIME,
        "lastUpdated": go_time(at),
        "dataPointCount": int(data.metadata.get("dataPointCount", 0)),
        "oldestDataPoint": GO_ZERO_TIME,
        "profilesCount": int(data.metadata.get("profilesCount", 0)),
        "storageSizeBytes": 0,
    }
    cm: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": config_map_name(scaler_name),
            "namespace": namespace,
            "labels": {LEARNING_DATA_LABEL: "true", SCALER_NAME_LABEL: meta["scalerName"]},
            "annotations": {LAST_UPDATED_ANNOTATION: go_time(at), VERSION_ANNOTATION: "v1"},
        },
        "data": {
            SEASONAL_PROFILE_KEY: seasonal,
            PATTERN_DETECTOR_KEY: pattern,
            ACCURACY_TRACKER_KEY: accuracy,
            METADATA_KEY: _dumps(meta),
        },
    }
    if owner is not None:
        cm["metadata"]["ownerReferences"] = [dict(owner)]
    return cm


@dataclass(frozen=True)
class SavePlan:
    verb: Literal["create", "update"]
    obj: dict[str, Any]


def save_plan(existing: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> SavePlan:
    """upstream: Save — Get; NotFound -> Create; else copy data, labels, annotations onto the
    existing object (owner references only if it has none) and Update with its resourceVersion."""
    if existing is None:
        return SavePlan("create", copy.deepcopy(dict(desired)))
    obj = copy.deepcopy(dict(existing))
    meta = obj.setdefault("metadata", {})
    dmeta = desired.get("metadata") or {}
    obj["data"] = copy.deepcopy(desired.get("data"))
    meta["labels"] = copy.deepcopy(dmeta.get("labels"))
    meta["annotations"] = copy.deepcopy(dmeta.get("annotations"))
    if dmeta.get("ownerReferences") and not meta.get("ownerReferences"):
        meta["ownerReferences"] = copy.deepcopy(dmeta["ownerReferences"])
    return SavePlan("update", obj)


def load(cm: Mapping[str, Any] | None) -> LearningData | None:
    """upstream: Load — None when there is no ConfigMap; each present, non-empty key replaces the
    fresh component; a key that does not parse is an error (the caller keeps a fresh system)."""
    if cm is None:
        return None
    data = cm.get("data") or {}
    out = LearningData(SeasonalProfileManager(), LLMPatternDetector(), PredictionAccuracyTracker(), {})

    def parse(key: str, what: str) -> Any:
        text = data.get(key)
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise StorageError(f"failed to unmarshal {what}: {err}") from err
        if not isinstance(value, dict):
            raise StorageError(f"failed to unmarshal {what}: not an object")
        return value

    seasonal = parse(SEASONAL_PROFILE_KEY, "seasonal profiles")
    if seasonal is not None:
        out.seasonal_profiles = SeasonalProfileManager.from_json(seasonal)
    pattern = parse(PATTERN_DETECTOR_KEY, "pattern detector")
    if pattern is not None:
        out.pattern_detector = detector_from_json(pattern)
    accuracy = parse(ACCURACY_TRACKER_KEY, "accuracy tracker")
    if accuracy is not None:
        out.accuracy_tracker = PredictionAccuracyTracker.from_json(accuracy)
    meta = parse(METADATA_KEY, "metadata")
    if meta is not None:
        out.metadata = meta
    return out


def storage_size(cm: Mapping[str, Any] | None) -> int:
    """upstream: GetStorageSize (bytes of all data values; 0 without a ConfigMap)."""
    if cm is None:
        return 0
    return sum(len(str(v)) for v in (cm.get("data") or {}).values())
