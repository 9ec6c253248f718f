"""Expectation checks as a truth table over hand-made run facts (pure: no simulation)."""

from __future__ import annotations

from typing import Any

import pytest

from model.scenario import Scenario
from sim.report.timeseries import TimeSeries
from sim.scenario.expectations import RunFacts, evaluate


def facts(**over: Any) -> RunFacts:
    ts = TimeSeries(["a"])
    for t, ready in enumerate([0, 1, 2, 3, 3, 2]):
        ts.add(float(t * 10), "a", {"ready": ready, "spec": 3})
    base: dict[str, Any] = {
        "sim_seconds": 50.0,
        "ts": ts,
        "first_ready": {"a": 30.0, "b": None},
        "scale_events": [
            {"t": 5.0, "role": "a", "from": 1, "to": 3},
            {"t": 40.0, "role": "a", "from": 3, "to": 2},
        ],
        "conflicts": {"s2": 12.0},
        "latencies": {"a": [0.1, 0.2, 0.3, 0.4], "_e2e": [1.0, 2.0, 3.0, 4.0], "_ttft": []},
        "requests": {"arrived": 100, "completed": 90, "dropped": 4, "in_flight": 6},
        "autoscalers": {
            "BudAIScaler/default/s1": {
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "ConflictDetected", "message": "m"}
                ]
            }
        },
    }
    base.update(over)
    return RunFacts(**base)


def verdicts(expectations: list[dict[str, Any]], profile: str = "upstream") -> list[tuple[bool, str]]:
    sc = Scenario.model_validate(
        {
            "apiVersion": "dsim/v1",
            "kind": "Scenario",
            "name": "x",
            "seed": 1,
            "duration": 50,
            "manifests": [{"path": "m.yaml"}],
            "expectations": expectations,
        }
    )
    return [(v["passed"], v["detail"]) for v in evaluate(sc.expectations, facts(), profile)]


@pytest.mark.parametrize(
    ("exp", "passed", "detail"),
    [
        (
            {"type": "replicas", "role": "a", "min": 2, "from": 20},
            True,
            "ready replicas stayed within 2–3 in [20s, 50s]",
        ),
        (
            {"type": "replicas", "role": "a", "min": 1},
            False,
            "ready replicas were 0 at 0s (range in window 0–3)",
        ),
        (
            {"type": "replicas", "role": "a", "max": 3, "series": "spec"},
            True,
            "spec replicas stayed within 3–3",
        ),
        ({"type": "replicas", "role": "a", "min": 1, "from": 60}, False, "no samples of a in [60s, 50s]"),
        ({"type": "roleReady", "role": "a", "by": 30}, True, "a Ready at 30s"),
        ({"type": "roleReady", "role": "a", "by": 29}, False, "a Ready at 30s"),
        ({"type": "roleReady", "role": "b", "by": 29}, False, "b never became Ready"),
        ({"type": "roleReady", "role": "b", "never": True}, True, "b never Ready in 50s"),
        ({"type": "roleReady", "role": "a", "never": True}, False, "a became Ready at 30s"),
        (
            {"type": "latency", "role": "a", "percentile": 50, "maxSeconds": 0.25},
            True,
            "p50 = 0.25s over 4 requests",
        ),
        ({"type": "latency", "percentile": 100, "maxSeconds": 3.5}, False, "p100 = 4s over 4 requests"),
        (
            {"type": "latency", "metric": "ttft", "maxSeconds": 1},
            False,
            "no completed requests to measure ttft",
        ),
        ({"type": "dropped", "max": 4}, True, "4 of 100 requests dropped (4.00%)"),
        ({"type": "dropped", "maxFraction": 0.03}, False, "4 of 100 requests dropped (4.00%)"),
        ({"type": "dropped", "min": 5}, False, "4 of 100"),
        ({"type": "noConflictDetected"}, False, "ConflictDetected reported by: s2 at 12s"),
        ({"type": "noConflictDetected", "scaler": "s1"}, True, "reported by: none"),
        ({"type": "noConflictDetected", "scaler": "s2", "expect": True}, True, "s2 at 12s"),
        (
            {"type": "scalingActions", "role": "a", "direction": "up", "min": 1, "max": 1},
            True,
            "1 scale-ups, 1 scale-downs",
        ),
        ({"type": "scalingActions", "role": "a", "max": 1}, False, "1 scale-ups, 1 scale-downs of a"),
        ({"type": "completed", "min": 90}, True, "90 requests completed"),
        (
            {"type": "scalerCondition", "scaler": "s1", "conditionType": "Ready", "status": "False"},
            True,
            "Ready=False ConflictDetected: m",
        ),
        (
            {"type": "scalerCondition", "scaler": "s1", "conditionType": "Ready", "reason": "ScalerReady"},
            False,
            "Ready=False ConflictDetected",
        ),
        (
            {"type": "scalerCondition", "scaler": "s9", "conditionType": "Ready"},
            False,
            "no BudAIScaler named 's9'",
        ),
    ],
)
def test_truth_table(exp: dict[str, Any], passed: bool, detail: str) -> None:
    [(ok, text)] = verdicts([exp])
    assert ok is passed
    assert detail in text


def test_profile_limited_expectations_are_left_out_under_other_profiles() -> None:
    exps = [{"type": "completed", "min": 1, "profiles": ["corrected"]}, {"type": "completed", "min": 1}]
    assert len(verdicts(exps, "upstream")) == 1
    assert len(verdicts(exps, "corrected")) == 2
