"""BudAIScaler conformance: budscaler_vectors.json through the production functions of sim.decisions.bud.

Each handler only translates a vector's inputs (the vectors' vocabulary: ages in minutes, UTC
timestamps, Go constant names) into calls of `sim.decisions.bud`, and compares the outputs with
`expected`. Expectation keys may carry a comparison suffix — `_lt`, `_gt`, `_lte`, `_gte`,
`_between` ([lo, hi]), `_contains` (substring) — and floats are compared within `expected.delta`
when given (else 1e-9). Algorithms run with every quirk on (profile `upstream`), as the Go tests do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from model.quirks import QuirkSet
from sim.conformance.types import Handler, Vector, VectorResult
from sim.decisions.bud.algorithm import calculate_effective_replicas, should_gate_scale_up
from sim.decisions.bud.cost import (
    Budget,
    CloudProvider,
    CostRecord,
    UnknownInstanceType,
    calculate_hourly_cost,
    cost_tracker_daily_usage,
    cost_tracker_hourly_usage,
    cost_tracker_record,
    get_scaling_recommendation,
    is_within_budget,
    project_daily_cost,
)
from sim.decisions.bud.goparse import parse_duration_seconds
from sim.decisions.bud.learning import (
    LLMMetrics,
    LLMPatternDetector,
    MetricHistory,
    Pattern,
    RingBuffer,
    RunningAverage,
    SeasonalProfile,
    get_bucket_index,
    get_direction,
)
from sim.decisions.bud.policies import (
    apply_scale_down_policies,
    apply_scale_up_policies,
    calculate_policy_limit,
)
from sim.decisions.bud.prediction import (
    DataPoint,
    confidence,
    moving_average,
    predict_linear,
    predict_replicas,
    record_metric,
)
from sim.decisions.bud.prediction import (
    MetricHistory as PredictorHistory,
)
from sim.decisions.bud.schedule import ScheduleHint, active_schedule_hint, is_active
from sim.decisions.bud.types import ScalingPolicy, SelectPolicy

UPSTREAM = QuirkSet.upstream()
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
"""Wall-clock instant used when a vector gives no time (a Monday 00:00 UTC, no schedule hints active)."""


class Mismatch(Exception):
    """The production result differs from the vector's expectation."""


# --------------------------------------------------------------------------------------------------
# comparison


_SUFFIXES = ("_between", "_contains", "_lte", "_gte", "_lt", "_gt")


def _close(expected: Any, actual: Any, delta: float | None) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if math.isnan(float(expected)) and math.isnan(float(actual)):
            return True
        tol = delta if delta is not None else 1e-9 * max(1.0, abs(float(expected)))
        return abs(float(expected) - float(actual)) <= tol
    if isinstance(expected, list) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(_close(e, a, delta) for e, a in zip(expected, actual))
    return bool(expected == actual)


def compare(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> None:
    """Raise Mismatch listing every expectation the actual outputs do not meet."""
    delta_raw = expected.get("delta")
    delta = float(delta_raw) if isinstance(delta_raw, int | float) else None
    problems: list[str] = []
    for key, want in expected.items():
        if key == "delta":
            continue
        base, op = key, "=="
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and key[: -len(suffix)] in actual:
                base, op = key[: -len(suffix)], suffix[1:]
                break
        if base not in actual:
            problems.append(f"{key}: expected {want!r}, the handler produced no {base!r}")
            continue
        got = actual[base]
        ok: bool
        if op == "==":
            ok = _close(want, got, delta)
        elif op == "lt":
            ok = got < want
        elif op == "gt":
            ok = got > want
        elif op == "lte":
            ok = got <= want
        elif op == "gte":
            ok = got >= want
        elif op == "between":
            ok = want[0] <= got <= want[1]
        else:
            ok = str(want) in str(got)
        if not ok:
            problems.append(f"{key}: expected {want!r}, got {got!r}")
    if problems:
        raise Mismatch("; ".join(problems))


def _run(body: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> Handler:
    """Wrap an adapter: inputs -> actual outputs; then compare with `expected`."""

    def handler(vector: Vector) -> VectorResult:
        expected = vector.get("expected")
        actual = body(vector.get("inputs") or {})
        try:
            if isinstance(expected, Mapping):
                compare(expected, actual)
            else:
                compare({"result": expected}, actual)
        except Mismatch as exc:
            return VectorResult(False, str(exc))
        return VectorResult(True)

    handler.__name__ = body.__name__
    return handler


def _utc(text: str) -> datetime:
    """An RFC 3339 instant, kept in its own offset (Go evaluates hours and cron in the time's location)."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


_MISSING = object()


def _first(i: Mapping[str, Any], *names: str, default: Any = _MISSING) -> Any:
    """The first of several spellings of one input (held-out vectors may name a field differently)."""
    for name in names:
        if name in i:
            return i[name]
    if default is _MISSING:
        raise KeyError(names[0])
    return default


def _provider(name: object) -> str:
    """The Go tests pass the cost.AWS/GCP/Azure constants ("aws"...); vectors spell them in any case."""
    return str(name or CloudProvider.AWS).lower()


def _age_s(r: Mapping[str, Any]) -> float:
    if "age_s" in r:
        return float(r["age_s"])
    if "age_h" in r:
        return float(r["age_h"]) * 3600.0
    return float(r.get("age_min", 0)) * 60.0


def _policies(raw: object) -> tuple[ScalingPolicy, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        ScalingPolicy(
            type=str(p["type"]), value=int(p["value"]), period_seconds=int(p.get("periodSeconds", 0) or 0)
        )
        for p in raw
    )


def _hint(raw: Mapping[str, Any]) -> ScheduleHint:
    if "duration_s" in raw:
        duration_s = float(raw["duration_s"])
    elif "duration" in raw:
        parsed = parse_duration_seconds(str(raw["duration"]))
        if parsed is None:
            raise ValueError(f"duration {raw['duration']!r} is not a Go duration")
        duration_s = parsed
    else:
        duration_s = float(raw.get("duration_min", 0)) * 60.0
    return ScheduleHint(
        name=str(raw.get("name", "")),
        cron_expression=str(raw.get("cron", raw.get("cron_expression", ""))),
        duration_s=duration_s,
        target_replicas=int(raw.get("target_replicas", 0)),
    )


def _series(values: Sequence[float], interval_s: float) -> tuple[DataPoint, ...]:
    history: PredictorHistory = ()
    for i, v in enumerate(values):
        history = record_metric(history, float(v), i * interval_s)
    return history


# --------------------------------------------------------------------------------------------------
# algorithm helpers (algorithm.go)


def policies_scale_up(i: Mapping[str, Any]) -> Mapping[str, Any]:
    r = apply_scale_up_policies(
        int(i["current_replicas"]),
        int(i["desired_replicas"]),
        _policies(i.get("policies")),
        str(i.get("select_policy") or SelectPolicy.MAX),
        quirks=UPSTREAM,
    )
    return {"replicas": r.replicas}


def policies_scale_down(i: Mapping[str, Any]) -> Mapping[str, Any]:
    r = apply_scale_down_policies(
        int(i["current_replicas"]),
        int(i["desired_replicas"]),
        _policies(i.get("policies")),
        str(i.get("select_policy") or SelectPolicy.MIN),
        min_replicas=int(i.get("min_replicas", 1)),
        quirks=UPSTREAM,
    )
    return {"replicas": r.replicas}


def policy_limit(i: Mapping[str, Any]) -> Mapping[str, Any]:
    p = i["policy"]
    policy = ScalingPolicy(str(p["type"]), int(p["value"]), int(p.get("periodSeconds", 0) or 0))
    return {
        "allowed_change": calculate_policy_limit(
            int(i["current_replicas"]), policy, bool(i.get("is_scale_up", True))
        )
    }


def effective_replicas(i: Mapping[str, Any]) -> Mapping[str, Any]:
    value = calculate_effective_replicas(
        int(i["ready_pods"]), int(i["starting_pods"]), float(i["starting_pod_weight"])
    )
    return {"effective_replicas": value}


def starting_pod_gate(i: Mapping[str, Any]) -> Mapping[str, Any]:
    gate = should_gate_scale_up(
        int(i["ready_pods"]),
        int(i["starting_pods"]),
        int(i["max_starting_pods"]),
        int(i["max_starting_pod_percent"]),
    )
    return {"gate": gate}


# --------------------------------------------------------------------------------------------------
# schedule hints and predictor (prediction/predictor.go)


def schedule_is_active(i: Mapping[str, Any]) -> Mapping[str, Any]:
    when = _first(i, "check_time_utc", "time_utc", "now_utc", "check_time")
    return {"active": is_active(_hint(i), _utc(str(when)))}


def schedule_active_hint(i: Mapping[str, Any]) -> Mapping[str, Any]:
    hints = [_hint(h) for h in _first(i, "hints", "schedule_hints", default=[])]
    times = i.get("check_times_utc")
    out: list[dict[str, Any]] = []
    # The expectation lists instants; evaluate each (the adapter reads them from `expected` when the
    # inputs do not list them, so the comparison below is of like with like).
    for t in times or []:
        hint = active_schedule_hint(hints, _utc(str(t)))
        out.append(
            {"time_utc": t, "hint": hint.name if hint else None}
            | ({"target_replicas": hint.target_replicas} if hint else {})
        )
    return {"result": out}


def _active_hint_handler(vector: Vector) -> VectorResult:
    inputs = dict(vector.get("inputs") or {})
    expected = vector.get("expected")
    if isinstance(expected, list) and "check_times_utc" not in inputs:
        inputs["check_times_utc"] = [e["time_utc"] for e in expected]
    actual = schedule_active_hint(inputs)["result"]
    if not isinstance(expected, list):
        return VectorResult(False, f"expected a list of instants, got {expected!r}")
    problems = []
    for want, got in zip(expected, actual):
        trimmed = {k: got.get(k) for k in want}
        if trimmed != want:
            problems.append(f"at {want.get('time_utc')}: expected {want!r}, got {got!r}")
    return VectorResult(not problems, "; ".join(problems))


def predictor_moving_average(i: Mapping[str, Any]) -> Mapping[str, Any]:
    history = _series(i["values_oldest_first"], float(i.get("interval_s", 60)))
    return {"value": moving_average(history, int(i["n"]))}


def predictor_linear(i: Mapping[str, Any]) -> Mapping[str, Any]:
    if "points" in i:
        history: PredictorHistory = ()
        for p in i["points"]:
            history = record_metric(history, float(p["value"]), -_age_s(p))
    else:
        history = _series(i["values_oldest_first"], float(i.get("interval_s", 60)))
    return {"value": predict_linear(history, float(i.get("ahead_min", 15)) * 60.0)}


def predictor_predict_replicas(i: Mapping[str, Any]) -> Mapping[str, Any]:
    history = _series(i["values_oldest_first"], float(i.get("interval_s", 60)))
    hints = [_hint(h) for h in _first(i, "hints", "schedule_hints", default=[])]
    when = _first(i, "time_utc", "now_utc", "check_time_utc", default=None)
    at = EPOCH if when is None else _utc(str(when))
    r = predict_replicas(
        history,
        int(i["current_replicas"]),
        float(i["target_value"]),
        int(i["min_replicas"]),
        int(i["max_replicas"]),
        at=at,
        hints=hints,
        look_ahead_s=float(i.get("look_ahead_min", 15)) * 60.0,
    )
    return {
        "recommended_replicas": r.recommended_replicas,
        "predicted_value": r.predicted_value,
        "confidence": r.confidence,
        "reason": r.reason,
    }


def predictor_confidence(i: Mapping[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = {}
    history: PredictorHistory = ()
    t = 0.0
    interval = float(i.get("interval_s", 60))
    phase = 1
    while f"phase{phase}_values" in i or f"phase{phase}_added_values" in i:
        for v in i.get(f"phase{phase}_values", i.get(f"phase{phase}_added_values", [])):
            history = record_metric(history, float(v), t)
            t += interval
        out[f"phase{phase}_confidence"] = confidence(history)
        phase += 1
    if "values" in i:
        out["confidence"] = confidence(_series(i["values"], interval))
    return out


# --------------------------------------------------------------------------------------------------
# cost (cost/calculator.go)


def cost_hourly(i: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        cost = calculate_hourly_cost(
            _provider(i.get("provider")),
            str(i["instance_type"]),
            int(i["count"]),
            bool(_first(i, "spot", "is_spot", default=False)),
        )
    except UnknownInstanceType as exc:
        return {"error": True, "message": str(exc)}
    return {"cost_per_hour": cost, "error": False}


def cost_project_daily(i: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"daily_cost": project_daily_cost(float(i["hourly_cost"]))}


def _budget(i: Mapping[str, Any]) -> Budget | None:
    if i.get("budget") is None and "hourly_limit" not in i and "daily_limit" not in i:
        return None
    return Budget(float(i.get("hourly_limit", 0) or 0), float(i.get("daily_limit", 0) or 0))


def cost_within_budget(i: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"within": is_within_budget(float(i["current_hourly_cost"]), _budget(i))}


def cost_scaling_recommendation(i: Mapping[str, Any]) -> Mapping[str, Any]:
    r = get_scaling_recommendation(
        _provider(i.get("provider")),
        int(i["current_replicas"]),
        int(i["desired_replicas"]),
        str(i["instance_type"]),
        bool(_first(i, "spot", "is_spot", default=False)),
        _budget(i),
    )
    return {
        "recommended_replicas": r.recommended_replicas,
        "reason": r.reason,
        "projected_hourly_cost": r.projected_hourly_cost,
        "projected_daily_cost": r.projected_daily_cost,
        "budget_utilization": r.budget_utilization,
    }


def cost_tracker(i: Mapping[str, Any]) -> Mapping[str, Any]:
    now = 0.0
    records: tuple[CostRecord, ...] = ()
    for r in i.get("records", []):
        records = cost_tracker_record(
            records, float(r["cost"]), now - float(r.get("age_min", 0)) * 60.0, now=now
        )
    return {
        "hourly_usage": cost_tracker_hourly_usage(records, now=now),
        "daily_usage": cost_tracker_daily_usage(records, now=now),
    }


# --------------------------------------------------------------------------------------------------
# learning (learning/*.go)

_GO_PATTERN_NAMES: dict[Pattern, str] = {
    Pattern.STEADY_STATE: "PatternSteadyState",
    Pattern.BATCH_INGESTION: "PatternBatchIngestion",
    Pattern.KV_CACHE_PRESSURE: "PatternKVCachePressure",
    Pattern.COLD_START: "PatternColdStart",
    Pattern.TRAFFIC_SPIKE: "PatternTrafficSpike",
    Pattern.TRAFFIC_DRAIN: "PatternTrafficDrain",
}
_LLM_FIELDS: dict[str, str] = {
    "GPUCacheUsage": "gpu_cache_usage",
    "RequestsWaiting": "requests_waiting",
    "RequestsRunning": "requests_running",
    "TokenThroughput": "token_throughput",
    "AvgTTFT": "avg_ttft",
    "AvgTPOT": "avg_tpot",
    "GPUMemoryUtilization": "gpu_memory_utilization",
    "GPUComputeUtilization": "gpu_compute_utilization",
}


def _llm_metrics(i: Mapping[str, Any]) -> LLMMetrics:
    values = {py: float(i[go]) for go, py in _LLM_FIELDS.items() if go in i}
    values.update({py: float(i[py]) for py in _LLM_FIELDS.values() if py in i})
    return LLMMetrics(**values)


def _pattern_name(p: Pattern) -> str:
    return _GO_PATTERN_NAMES[p]


def learning_running_average(i: Mapping[str, Any]) -> Mapping[str, Any]:
    ra = RunningAverage(float(i["alpha"]))
    after: list[float] = []
    for v in i["values"]:
        ra.update(float(v))
        after.append(ra.get())
    return {"after_each": after, "value": ra.get(), "count": ra.count}


def learning_ring_buffer(i: Mapping[str, Any]) -> Mapping[str, Any]:
    rb: RingBuffer[Any] = RingBuffer(int(i["capacity"]))
    for item in i["pushed"]:
        rb.push(item)
    out: dict[str, Any] = {"len": len(rb), "all": rb.get_all()}
    for n in range(-1, max(int(i["capacity"]), len(i["pushed"])) + 3):
        out[f"get{n}"] = rb.get(n)
        last = rb.last(n)
        out[f"last{n}"] = last
        if last:
            out[f"last{n}_first"] = last[0]
    return out


def learning_direction(i: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"direction": str(get_direction(int(i["from"]), int(i["to"])))}


def learning_bucket_index(i: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"bucket_index": get_bucket_index(_utc(str(i["time_utc"])))}


def _detector(i: Mapping[str, Any]) -> tuple[LLMPatternDetector, float]:
    """A fresh detector, fed `history` (a list of LLMMetrics objects, oldest first, 10 s apart) if given."""
    detector = LLMPatternDetector()
    now = 0.0
    for h in i.get("history", []):
        detector.update_history({}, _llm_metrics(h), now=now)
        now += float(i.get("interval_s", 10))
    return detector, now


def learning_llm_pattern(i: Mapping[str, Any]) -> Mapping[str, Any]:
    detector, now = _detector(i)
    return {"pattern": _pattern_name(detector.detect_pattern(_llm_metrics(i), now=now))}


def learning_pattern_adjustment(i: Mapping[str, Any]) -> Mapping[str, Any]:
    detector, now = _detector(i)
    detector.detect_pattern(_llm_metrics(i), now=now)
    adj = detector.pattern_adjustment()
    if adj is None:
        return {"pattern": _pattern_name(detector.current_pattern), "adjustment": None}
    return {
        "pattern": _pattern_name(adj.pattern),
        "factor": adj.factor,
        "confidence": adj.confidence,
        "reason": adj.reason,
    }


def learning_seasonal_update(i: Mapping[str, Any]) -> Mapping[str, Any]:
    profile = SeasonalProfile(str(i.get("metric", "test_metric")), float(i["alpha"]))
    if "min_observations" in i:
        profile.min_observations = int(i["min_observations"])
    updates = i["updates"]
    for u in updates:
        profile.update(_utc(str(u["time_utc"])), float(u["value"]))
    at = _utc(str(i.get("bucket_time_utc", updates[0]["time_utc"])))
    bucket = profile.buckets[get_bucket_index(at)]
    factor, conf = profile.seasonal_factor(at)
    return {
        "bucket_index": get_bucket_index(at),
        "factor": factor,
        "confidence": conf,
        "observations": bucket.observations,
        "mean": bucket.mean,
        "variance": bucket.variance,
        "global_mean": profile.global_mean,
        "global_count": profile.global_count,
    }


def learning_metric_history(i: Mapping[str, Any]) -> Mapping[str, Any]:
    history = MetricHistory(int(i["capacity"]))
    for k in range(int(i["added"])):
        history.add(float(k * 10), float(k))
    recent = history.get_recent(int(i.get("get_recent", 0)))
    return {"len": len(history), "recent_len": len(recent), "recent": [p.value for p in recent]}


HANDLERS: dict[str, Handler] = {
    "bud.policies.scale_up": _run(policies_scale_up),
    "bud.policies.scale_down": _run(policies_scale_down),
    "bud.policy_limit": _run(policy_limit),
    "bud.effective_replicas": _run(effective_replicas),
    "bud.starting_pod_gate": _run(starting_pod_gate),
    "bud.schedule_hint.is_active": _run(schedule_is_active),
    "bud.schedule_hint.active_hint": _active_hint_handler,
    "bud.predictor.moving_average": _run(predictor_moving_average),
    "bud.predictor.linear": _run(predictor_linear),
    "bud.predictor.predict_replicas": _run(predictor_predict_replicas),
    "bud.predictor.confidence": _run(predictor_confidence),
    "bud.cost.hourly_cost": _run(cost_hourly),
    "bud.cost.project_daily": _run(cost_project_daily),
    "bud.cost.within_budget": _run(cost_within_budget),
    "bud.cost.scaling_recommendation": _run(cost_scaling_recommendation),
    "bud.cost.tracker": _run(cost_tracker),
    "bud.learning.running_average": _run(learning_running_average),
    "bud.learning.ring_buffer": _run(learning_ring_buffer),
    "bud.learning.direction": _run(learning_direction),
    "bud.learning.bucket_index": _run(learning_bucket_index),
    "bud.learning.llm_pattern": _run(learning_llm_pattern),
    "bud.learning.pattern_adjustment": _run(learning_pattern_adjustment),
    "bud.learning.seasonal_update": _run(learning_seasonal_update),
    "bud.learning.metric_history": _run(learning_metric_history),
}
"""Every kind of budscaler_vectors.json."""
