"""BudAIScaler status: upstream's condition update rule, history cap, scale fields."""

from __future__ import annotations

from sim.decisions.bud_controller.status import (
    MAX_SCALING_HISTORY,
    get_condition,
    record_scale_result,
    update_condition,
)


def test_condition_appended_then_replaced_only_on_status_flip() -> None:
    s = update_condition({}, "Ready", "False", "ValidationFailed", "bad", "T1")
    assert s["conditions"] == [
        {
            "type": "Ready",
            "status": "False",
            "lastTransitionTime": "T1",
            "reason": "ValidationFailed",
            "message": "bad",
        }
    ]
    # Same status, new reason: upstream keeps the old reason and message (sticky).
    s2 = update_condition(s, "Ready", "False", "ConflictDetected", "conflict", "T2")
    assert s2["conditions"] == s["conditions"]
    # Corrected form: reason and message follow, transition time stays.
    s3 = update_condition(s, "Ready", "False", "ConflictDetected", "conflict", "T2", sticky_reason=False)
    assert s3["conditions"] == [
        {
            "type": "Ready",
            "status": "False",
            "lastTransitionTime": "T1",
            "reason": "ConflictDetected",
            "message": "conflict",
        }
    ]
    s4 = update_condition(s2, "Ready", "True", "ScalerReady", "ok", "T3")
    assert get_condition(s4, "Ready") == {
        "type": "Ready",
        "status": "True",
        "lastTransitionTime": "T3",
        "reason": "ScalerReady",
        "message": "ok",
    }
    assert s == update_condition({}, "Ready", "False", "ValidationFailed", "bad", "T1")  # input not mutated


def test_scale_result_fields_and_history_cap() -> None:
    status: dict[str, object] = {}
    for i in range(12):
        status = record_scale_result(
            status, timestamp=f"T{i}", current=i, desired=i + 1, scaled=True, reason=f"r{i}", algorithm="KPA"
        )
    hist = status["scalingHistory"]
    assert isinstance(hist, list) and len(hist) == MAX_SCALING_HISTORY == 10
    assert hist[0] == {
        "timestamp": "T2",
        "previousScale": 2,
        "newScale": 3,
        "reason": "r2",
        "algorithm": "KPA",
        "success": True,
    }
    assert (status["desiredScale"], status["actualScale"], status["lastScaleTime"]) == (12, 12, "T11")


def test_no_scale_keeps_history_and_last_scale_time() -> None:
    s = record_scale_result(
        {}, timestamp="T0", current=3, desired=3, scaled=False, reason="", algorithm="KPA"
    )
    assert s == {"desiredScale": 3, "actualScale": 3}
    s = record_scale_result(
        {},
        timestamp="T0",
        current=3,
        desired=5,
        scaled=True,
        reason="",
        algorithm="BudScaler",
        actual_scale_is_desired=False,
        observed_replicas=3,
    )
    assert (s["desiredScale"], s["actualScale"], s["scalingHistory"][0]["reason"]) == (
        5,
        3,
        "Scaling decision",
    )
