"""Every TestScaler/TestDisableScaleToZero row of knative/serving 98e5ef90
pkg/reconciler/autoscaling/kpa/scaler_test.go that the shared vectors leave out, in the vectors' own
format, through the conformance adapter (so the production scaler decides them)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.conformance.knative import HANDLERS

SCALER = HANDLERS["kpa.scaler"]


def _v(
    start: int, desired: int, want: int, apply: bool, cb: int = 0, probes: int = 0, **kw: Any
) -> dict[str, Any]:
    inputs = {
        "start_replicas": start,
        "decider_desired_scale": desired,
        "min_scale": kw.get("min_scale", 0),
        "max_scale": kw.get("max_scale", 0),
        "pa_state": kw.get("pa"),
        "pa_annotations": kw.get("ann", {}),
        "reachability": kw.get("reach"),
        "scale_target_initialized": kw.get("init", False),
        "sks_proxy_for_s": kw.get("proxy"),
        "sks_mode": None,
        "activator_probe": kw.get("probe", "ok"),
        "config_overrides": kw.get("cfg", {}),
    }
    expected = {
        "returned_desired_scale": want,
        "scale_patch_applied": apply,
        "reenqueue_callbacks": cb,
        "async_probes": probes,
    }
    return {"kind": "kpa.scaler", "inputs": inputs, "expected": expected}


def _pa(active: str, age: float) -> dict[str, Any]:
    return {"active": active, "last_transition_age_s": age}


ROWS = {
    "scales up to maxScale": _v(1, 10, 8, True, max_scale=8),
    "scale up inactive revision": _v(1, 10, 10, True, pa=_pa("False", 30)),
    "negative scale does not scale": _v(12, -1, -1, False, pa=_pa("True", 0)),
    "initial scale attained, but now time to scale down": _v(
        2, 0, 1, True, 1, pa=_pa("True", 120), ann={"initial-scale": "2"}, init=True
    ),
    "haven't scaled to initial scale": _v(0, 1, 2, True, pa=_pa("Unknown", 0), ann={"initial-scale": "2"}),
    "initial scale reached for the first time": _v(
        5, 1, 5, False, pa=_pa("Unknown", 0), ann={"initial-scale": "5"}
    ),
    "unreachable revision with initialScale > 1 can scale to 0": _v(
        2, 0, 1, True, 1, pa=_pa("True", 120), ann={"initial-scale": "2"}, reach="Unreachable"
    ),
    "scale down to minScale before grace period": _v(
        10, 0, 2, True, min_scale=2, pa=_pa("False", 59), reach="Reachable"
    ),
    "can't scale to zero if unreachable, but before deadline": _v(
        1,
        0,
        0,
        False,
        1,
        pa=_pa("False", 59),
        reach="Unreachable",
        cfg={"ScaleToZeroPodRetentionPeriod_s": 600},
    ),
    "ignore minScale if unreachable": _v(
        10, 0, 0, True, min_scale=2, pa=_pa("False", 60), reach="Unreachable"
    ),
    "observe minScale if reachability unknown": _v(
        10, 0, 2, True, min_scale=2, pa=_pa("False", 60), reach=""
    ),
    "scale to zero with TBC=-1": _v(
        1, 0, 0, True, pa=_pa("False", 60), ann={"target-burst-capacity": "-1"}, probe="never called"
    ),
    "scale to zero after grace period, but fail prober": _v(
        1, 0, 0, False, 0, 1, pa=_pa("False", 60), probe="error"
    ),
    "scale to zero while activating after revision deadline exceeded": _v(
        1, 0, 0, True, pa=_pa("Unknown (activating)", 36), ann={"progress-deadline": "5s"}
    ),
    "waits to scale to zero while activating until after deadline exceeded": _v(
        1, 0, -1, False, 1, pa=_pa("Unknown (activating)", 75.5)
    ),
    "custom PA window, check for standard window, no probe": _v(
        1, 0, 0, False, pa=_pa("True", 300), ann={"window": "45s"}
    ),
    "sks in proxy long and last pod timeout positive": _v(
        1, 0, 0, True, pa=_pa("False", 59), proxy=60, cfg={"ScaleToZeroPodRetentionPeriod_s": 42}
    ),
    "scale to zero after grace period, and after last pod retention": _v(
        1, 0, 0, True, pa=_pa("False", 60), cfg={"ScaleToZeroPodRetentionPeriod_s": 60}
    ),
    "scales up from zero to desired high scale": _v(0, 10, 10, True),
    "EnableScaleToZero == false and minScale == 0": _v(
        10, 0, 1, True, pa=_pa("True", 0), reach="Reachable", cfg={"EnableScaleToZero": False}
    ),
    "EnableScaleToZero == false and minScale == 2": _v(
        10, 0, 2, True, min_scale=2, pa=_pa("True", 0), reach="Reachable", cfg={"EnableScaleToZero": False}
    ),
    "EnableScaleToZero == false and desire pod is -1": _v(
        10, -1, -1, False, pa=_pa("True", 0), reach="Reachable", cfg={"EnableScaleToZero": False}
    ),
}


@pytest.mark.parametrize("label", sorted(ROWS))
def test_scaler_row(label: str) -> None:
    result = SCALER(ROWS[label])
    assert result.passed, result.detail
