"""BudAIScaler status: conditions with upstream's update rule, scaling history, scale fields.

Functions take the current status dict and return a new one; nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

MAX_SCALING_HISTORY = 10
"""# upstream: budaiscaler_controller.go MaxScalingHistoryEvents"""

CONDITION_READY = "Ready"


def _copy_json(value: Any) -> Any:
    """Deep copy of JSON data (what a status is): copy.deepcopy's result, several times faster."""
    t = type(value)
    if t is dict:
        return {k: (_copy_json(v) if type(v) in (dict, list) else v) for k, v in value.items()}
    if t is list:
        return [(_copy_json(v) if type(v) in (dict, list) else v) for v in value]
    return value


class ReadyReason(StrEnum):
    VALIDATION_FAILED = "ValidationFailed"
    CONFLICT_DETECTED = "ConflictDetected"
    RECONCILIATION_FAILED = "ReconciliationFailed"
    SCALER_READY = "ScalerReady"


def update_condition(
    status: Mapping[str, Any],
    cond_type: str,
    cond_status: str,
    reason: str,
    message: str,
    timestamp: str,
    *,
    sticky_reason: bool = True,
) -> dict[str, Any]:
    """Set a condition the way upstream does.

    Upstream replaces an existing condition of the same type only when its status flips; when the
    status is unchanged, reason and message keep their old values (a scaler that goes from
    ValidationFailed to ConflictDetected still shows ValidationFailed). `sticky_reason=False` is the
    corrected form: reason and message follow, lastTransitionTime moves only on a status flip.

    # upstream: pkg/controller/budaiscaler/budaiscaler_controller.go updateCondition
    """
    out: dict[str, Any] = _copy_json(dict(status))
    conds: list[dict[str, Any]] = list(out.get("conditions") or [])
    new = {
        "type": cond_type,
        "status": cond_status,
        "lastTransitionTime": timestamp,
        "reason": reason,
        "message": message,
    }
    for i, c in enumerate(conds):
        if c.get("type") != cond_type:
            continue
        if c.get("status") != cond_status:
            conds[i] = new
        elif not sticky_reason:
            conds[i] = {**c, "reason": reason, "message": message}
        break
    else:
        conds.append(new)
    out["conditions"] = conds
    return out


def get_condition(status: Mapping[str, Any], cond_type: str) -> dict[str, Any] | None:
    for c in status.get("conditions") or []:
        if c.get("type") == cond_type:
            return dict(c)
    return None


def scaling_decision(
    *,
    timestamp: str,
    previous: int,
    new: int,
    reason: str,
    algorithm: str,
    error: str | None = None,
) -> dict[str, Any]:
    """One scalingHistory entry. # upstream: autoscaler.go RecordScalingDecision"""
    entry: dict[str, Any] = {
        "timestamp": timestamp,
        "previousScale": previous,
        "newScale": new,
        "reason": reason or "Scaling decision",
        "algorithm": algorithm,
        "success": error is None,
    }
    if error is not None:
        entry["error"] = error
    return entry


def record_scale_result(
    status: Mapping[str, Any],
    *,
    timestamp: str,
    current: int,
    desired: int,
    scaled: bool,
    reason: str,
    algorithm: str,
    actual_scale_is_desired: bool = True,
    observed_replicas: int | None = None,
) -> dict[str, Any]:
    """Status after a successful KPA/BudScaler pass.

    Upstream writes desiredScale and actualScale both from the recommendation; with
    `actual_scale_is_desired=False` actualScale is the observed replica count instead.
    History grows (and lastScaleTime moves) only when the target was actually written.

    # upstream: budaiscaler_controller.go reconcileCustomScaler
    """
    out: dict[str, Any] = _copy_json(dict(status))
    out["desiredScale"] = desired
    if actual_scale_is_desired or observed_replicas is None:
        out["actualScale"] = desired
    else:
        out["actualScale"] = observed_replicas
    if scaled:
        out["lastScaleTime"] = timestamp
        history = list(out.get("scalingHistory") or [])
        history.append(
            scaling_decision(
                timestamp=timestamp, previous=current, new=desired, reason=reason, algorithm=algorithm
            )
        )
        out["scalingHistory"] = history[-MAX_SCALING_HISTORY:]
    return out
