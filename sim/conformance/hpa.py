"""Kubernetes HPA conformance: k8s_hpa_vectors.json through the production HPA decision functions.

Each adapter only translates a vector's inputs (test-harness vocabulary: pod start "hot"/"cool"/"unset",
ages in seconds, milli-values) into calls of `sim.decisions.hpa`, then compares the outputs with the
vector's expectations. Conventions are those of the file's `meta` section."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.conformance.types import Handler, Vector, VectorResult
from sim.decisions.hpa.controller import ControllerConfig, HPAState, ReconcileDecision, Scale, reconcile
from sim.decisions.hpa.normalization import (
    Behavior,
    Recommendation,
    ScaleEvent,
    behavior_from_wire,
    calculate_scale_down_limit_with_behaviors,
    calculate_scale_up_limit,
    calculate_scale_up_limit_with_scaling_rules,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
    default_scale_down_rules,
    default_scale_up_rules,
    replicas_change_per_period,
    rules_from_wire,
    stabilize_recommendation,
    stabilize_recommendation_with_behaviors,
    store_scale_event,
)
from sim.decisions.hpa.quantity import milli_quantity
from sim.decisions.hpa.replica_calculator import (
    CPU,
    GO_ZERO_TIME,
    Container,
    MetricError,
    PodInfo,
    PodMetric,
    RawPodMetrics,
    ReadyCondition,
    Tolerances,
    get_external_metric_replicas,
    get_external_per_pod_metric_replicas,
    get_object_metric_replicas,
    get_object_per_pod_metric_replicas,
    get_plain_metric_replicas,
    get_resource_replicas,
    group_pods,
    resource_pod_metrics,
)

NOW = 100_000.0
"""The instant every vector is evaluated at (ages and relative times are measured back from it)."""

TEST_SCALE_UP_LIMIT_FACTOR = 8.0
"""horizontal_test.go init() sets scaleUpLimitFactor = 8 (production 2.0)."""

_DEFAULT_CPU_INIT = 120.0
_DEFAULT_READINESS_DELAY = 10.0
_DEFAULT_DOWNSCALE_WINDOW = 300.0


class _Mismatch(Exception):
    pass


def _check(label: str, expected: Any, actual: Any) -> None:
    if expected != actual:
        raise _Mismatch(f"{label}: expected {expected!r}, got {actual!r}")


def _run(body: Callable[[Mapping[str, Any], Mapping[str, Any]], None]) -> Handler:
    def handler(vector: Vector) -> VectorResult:
        try:
            body(vector["inputs"], vector["expected"])
        except _Mismatch as exc:
            return VectorResult(False, str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            return VectorResult(False, f"adapter could not evaluate the vector: {type(exc).__name__}: {exc}")
        return VectorResult(True)

    return handler


# --- input translation --------------------------------------------------------------------------


def _start_time(start: Any) -> float | None:
    if start is None or start == "unset":
        return GO_ZERO_TIME
    if start == "hot":
        return NOW
    if start == "cool":
        return NOW - 180.0
    if start == "nil":
        return None
    return NOW + float(start)


def _tolerances(inputs: Mapping[str, Any]) -> Tolerances:
    tol = inputs.get("tolerance")
    if tol is None:
        return Tolerances()
    if isinstance(tol, int | float):
        return Tolerances(float(tol), float(tol))
    return Tolerances(float(tol.get("scale_down", 0.1)), float(tol.get("scale_up", 0.1)))


def _calc_pod(p: Mapping[str, Any], transition_at_start: bool = False, resource: str = CPU) -> PodInfo:
    """A pod of replica_calculator_test.go: Ready condition transitioned at Go zero time (or at start)."""
    start = _start_time(p.get("start", "unset"))
    ready = p.get("ready")
    condition = None
    if ready is not None:
        transition = start if (transition_at_start and start is not None) else GO_ZERO_TIME
        condition = ReadyCondition("True" if ready else "False", transition)
    containers: tuple[Container, ...] = ()
    if "containers" in p:
        containers = tuple(
            Container(
                c["name"], {} if c.get("cpu_request_milli") is None else {CPU: int(c["cpu_request_milli"])}
            )
            for c in p["containers"]
        )
    elif "cpu_request_milli_per_container" in p:
        containers = tuple(
            Container(f"container{i + 1}", {} if r is None else {CPU: int(r)})
            for i, r in enumerate(p["cpu_request_milli_per_container"])
        )
    return PodInfo(
        name=str(p["name"]),
        phase=str(p.get("phase", "Running")),
        deleted=bool(p.get("deleted", False) or p.get("deletion_timestamp", False)),
        start_time=start,
        ready=condition,
        containers=containers,
    )


def _request(container: Mapping[str, Any], resource: str) -> Any:
    for key in (f"{resource}_request_milli", "request_milli", "cpu_request_milli"):
        if key in container:
            return container[key]
    return None


_REQUEST_KEYS = ("requests_milli", "reported_cpu_requests_milli", "cpu_requests_milli", "requests")


def _pod_dicts(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Explicit `pods`, or the compact harness form (meta.conventions): test-pod-0..N-1 with
    N = len(requests) if given, else max(current/status replicas, len(phase list)); per-pod lists
    `pod_phases`, `pod_ready`, `pod_start`, `pod_deleted`; requests are per-pod totals split over 2
    containers (1000m when absent)."""
    if inputs.get("pods") is not None:
        return list(inputs["pods"])
    requests = next((inputs[k] for k in _REQUEST_KEYS if inputs.get(k) is not None), None)
    phases = list(inputs.get("pod_phases") or [])
    if requests is not None:
        n = len(requests)
    else:
        n = max(int(inputs.get("status_replicas", inputs.get("current_replicas", 0)) or 0), len(phases))
    ready = list(inputs.get("pod_ready") or [])
    start = list(inputs.get("pod_start") or [])
    deleted = list(inputs.get("pod_deleted") or [])
    out: list[Mapping[str, Any]] = []
    for i in range(n):
        req = int(requests[i]) if requests is not None else 1000
        out.append(
            {
                "name": f"test-pod-{i}",
                "phase": phases[i] if i < len(phases) else "Running",
                "ready": bool(ready[i]) if i < len(ready) else True,
                "start": start[i] if i < len(start) else "unset",
                "deleted": bool(deleted[i]) if i < len(deleted) else False,
                "cpu_request_milli_per_container": [req // 2, req // 2],
            }
        )
    return out


def _age(entry: Mapping[str, Any]) -> float:
    if entry.get("age_s") is not None:
        return float(entry["age_s"])
    if entry.get("timestamp_rel_s") is not None:
        return -float(entry["timestamp_rel_s"])
    return 0.0


def _events(raw: Sequence[Mapping[str, Any]] | None) -> tuple[ScaleEvent, ...]:
    return tuple(
        ScaleEvent(int(e["change"]), NOW - _age(e), bool(e.get("outdated", False))) for e in (raw or [])
    )


def _recommendations(raw: Sequence[Mapping[str, Any]]) -> tuple[Recommendation, ...]:
    return tuple(Recommendation(int(r["replicas"]), NOW - _age(r)) for r in raw)


# --- replica calculator -------------------------------------------------------------------------


def _resource_utilization(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    resource = str(inputs.get("resource") or CPU)
    pods = [_calc_pod(p, resource=resource) for p in _pod_dicts(inputs)]
    by_name = {p.name: p for p in pods}
    window = float(inputs.get("metric_window_s", 60))
    ts = inputs.get("metric_timestamp", "unset")
    stamp = GO_ZERO_TIME if ts in (None, "unset", "zero") else NOW if ts == "now" else NOW + float(ts)
    raw: list[RawPodMetrics] = []
    for m in inputs.get("pod_metrics") or []:
        usage: Mapping[str, Any] = (
            m.get(f"container_{resource}_usage_milli")
            or m.get("container_usage_milli")
            or m.get("container_cpu_usage_milli")
            or {}
        )
        spec_pod = by_name.get(m["pod"])
        # containers the pod declares but the sample lacks are present without a cpu reading
        names = [c.name for c in spec_pod.containers] if spec_pod else []
        names += [n for n in usage if n not in names]
        containers = tuple((n, {resource: int(usage[n])} if usage.get(n) is not None else {}) for n in names)
        raw.append(RawPodMetrics(m["pod"], containers, stamp, window))
    container = inputs.get("container") or None
    try:
        metrics = resource_pod_metrics(raw, resource, container)
        result = get_resource_replicas(
            int(inputs["current_replicas"]),
            int(inputs["target_utilization_pct"]),
            resource,
            _tolerances(inputs),
            pods,
            metrics,
            container,
            float(inputs.get("cpu_initialization_period_s", _DEFAULT_CPU_INIT)),
            float(inputs.get("delay_of_initial_readiness_status_s", _DEFAULT_READINESS_DELAY)),
            NOW,
        )
    except MetricError as exc:
        if "error_contains" not in expected:
            raise _Mismatch(f"unexpected error: {exc}") from exc
        if str(expected["error_contains"]) not in str(exc):
            raise _Mismatch(f"error: expected to contain {expected['error_contains']!r}, got {exc}") from exc
        return
    if "error_contains" in expected:
        raise _Mismatch(f"expected error containing {expected['error_contains']!r}, got {result}")
    _check("replicas", expected["replicas"], result.replicas)
    if "utilization_pct" in expected:
        _check("utilization_pct", expected["utilization_pct"], result.utilization)
    if "raw_value_milli" in expected:
        _check("raw_value_milli", expected["raw_value_milli"], result.raw_value)


def _expect_usage(expected: Mapping[str, Any], compute: Callable[[], Any]) -> None:
    try:
        result = compute()
    except MetricError as exc:
        if "error_contains" in expected and str(expected["error_contains"]) in str(exc):
            return
        raise _Mismatch(f"unexpected error: {exc}") from exc
    if "error_contains" in expected:
        raise _Mismatch(f"expected error containing {expected['error_contains']!r}, got {result}")
    _check("replicas", expected["replicas"], result.replicas)
    if "usage_milli" in expected:
        _check("usage_milli", expected["usage_milli"], result.usage)


def _pods_metric(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    pods = [_calc_pod(p) for p in _pod_dicts(inputs)]
    values = {
        str(k): PodMetric(int(v), GO_ZERO_TIME, 60.0)
        for k, v in (inputs["per_pod_metric_milli"] or {}).items()
    }

    def compute() -> Any:
        if not values:
            raise MetricError("no metrics returned from custom metrics API")
        return get_plain_metric_replicas(
            int(inputs["current_replicas"]),
            int(inputs["target_value_milli"]),
            str(inputs.get("resource", "")),
            _tolerances(inputs),
            pods,
            values,
            float(inputs.get("cpu_initialization_period_s", _DEFAULT_CPU_INIT)),
            float(inputs.get("delay_of_initial_readiness_status_s", _DEFAULT_READINESS_DELAY)),
            NOW,
        )

    _expect_usage(expected, compute)


def _object_metric(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    pods = [_calc_pod(p) for p in _pod_dicts(inputs)]
    _expect_usage(
        expected,
        lambda: get_object_metric_replicas(
            int(inputs["current_replicas"]),
            int(inputs["target_value_milli"]),
            int(inputs["object_metric_value_milli"]),
            _tolerances(inputs),
            pods,
        ),
    )


def _object_per_pod_metric(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    _expect_usage(
        expected,
        lambda: get_object_per_pod_metric_replicas(
            int(inputs["current_replicas"]),
            int(inputs["target_average_value_milli"]),
            int(inputs["object_metric_value_milli"]),
            _tolerances(inputs),
        ),
    )


def _external_values(inputs: Mapping[str, Any]) -> list[int]:
    values = [int(v) for v in inputs.get("external_metric_values_milli") or []]
    if not values:
        raise MetricError("no metrics returned from external metrics API")
    return values


def _external_metric(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    pods = [_calc_pod(p) for p in _pod_dicts(inputs)]
    _expect_usage(
        expected,
        lambda: get_external_metric_replicas(
            int(inputs["current_replicas"]),
            int(inputs["target_value_milli"]),
            _external_values(inputs),
            _tolerances(inputs),
            pods,
        ),
    )


def _external_per_pod_metric(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    _expect_usage(
        expected,
        lambda: get_external_per_pod_metric_replicas(
            int(inputs["current_replicas"]),
            int(inputs["target_average_value_milli"]),
            _external_values(inputs),
            _tolerances(inputs),
        ),
    )


def _group_pods(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    pods: list[PodInfo] = []
    for p in inputs["pods"]:
        rel = p.get("start_time_rel_s")
        cond = p.get("ready_condition")
        ready = None
        if cond is not None:
            rel_t = cond.get("last_transition_rel_s")
            ready = ReadyCondition(str(cond["status"]), GO_ZERO_TIME if rel_t is None else NOW + float(rel_t))
        pods.append(
            PodInfo(
                name=str(p["name"]),
                phase=str(p.get("phase", "Running")),
                deleted=bool(p.get("deletion_timestamp", False) or p.get("deleted", False)),
                start_time=None if rel is None else NOW + float(rel),
                ready=ready,
            )
        )
    metrics: dict[str, PodMetric] = {}
    for name, m in (inputs.get("metrics") or {}).items():
        ts = m.get("timestamp_rel_s")
        metrics[str(name)] = PodMetric(
            int(m.get("value", 0)),
            GO_ZERO_TIME if ts is None else NOW + float(ts),
            float(m.get("window_s", 0)),
        )
    groups = group_pods(
        pods,
        metrics,
        str(inputs.get("resource", CPU)),
        float(inputs.get("cpu_initialization_period_s", _DEFAULT_CPU_INIT)),
        float(inputs.get("delay_of_initial_readiness_status_s", _DEFAULT_READINESS_DELAY)),
        NOW,
    )
    _check("ready_pod_count", expected["ready_pod_count"], groups.ready_pod_count)
    _check("unready", sorted(expected["unready"]), sorted(groups.unready))
    _check("missing", sorted(expected["missing"]), sorted(groups.missing))
    _check("ignored", sorted(expected["ignored"]), sorted(groups.ignored))


# --- normalization ------------------------------------------------------------------------------


def _downscale_window(inputs: Mapping[str, Any]) -> float:
    harness = inputs.get("test_harness") or {}
    return float(harness.get("downscale_stabilization_window_s", _DEFAULT_DOWNSCALE_WINDOW))


def _rate_limit(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    behavior = behavior_from_wire(
        {"scaleUp": inputs.get("scale_up_rules"), "scaleDown": inputs.get("scale_down_rules")},
        _downscale_window(inputs),
    )
    if behavior is None:  # pragma: no cover - behavior_from_wire returns None only for None
        raise _Mismatch("behavior could not be built")
    result = convert_desired_replicas_with_behavior_rate(
        int(inputs["current_replicas"]),
        int(inputs["prenormalized_desired_replicas"]),
        int(inputs["min_replicas"]),
        int(inputs["max_replicas"]),
        behavior,
        _events(inputs.get("scale_up_events")),
        _events(inputs.get("scale_down_events")),
        NOW,
    )
    _check("replicas", expected["replicas"], result.replicas)
    if "condition_reason" in expected:
        _check("condition_reason", expected["condition_reason"], result.reason)


def _behavior_stabilize(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    down = inputs.get("scale_down_stabilization_window_s")
    replicas, _, _, log = stabilize_recommendation_with_behaviors(
        _recommendations(inputs.get("recommendations") or []),
        int(inputs["current_replicas"]),
        int(inputs["prenormalized_desired_replicas"]),
        float(inputs.get("scale_up_stabilization_window_s") or 0),
        _downscale_window(inputs) if down is None else float(down),
        NOW,
    )
    _check("replicas", expected["replicas"], replicas)
    if expected.get("stored_recommendations") is not None:
        _check("stored_recommendations", list(expected["stored_recommendations"]), [r.replicas for r in log])


def _store_scale_event(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    rules = inputs.get("rules")
    up_rules = inputs.get("scale_up_rules", rules)
    down_rules = inputs.get("scale_down_rules", rules)
    behavior: Behavior | None = None
    if rules is not None or up_rules is not None or down_rules is not None:
        behavior = Behavior(
            rules_from_wire(up_rules, default_scale_up_rules()),
            rules_from_wire(down_rules, default_scale_down_rules()),
        )
    prev = _events(inputs.get("prev_events"))
    if "replicas_change_last_60s_before_store" in expected:
        _check(
            "replicas_change_last_60s_before_store",
            expected["replicas_change_last_60s_before_store"],
            replicas_change_per_period(60, prev, NOW),
        )
    change = int(inputs.get("replica_change", 5))
    base = int(inputs.get("prev_replicas", 10))
    want = [
        {"change": int(e["change"]), "outdated": bool(e["outdated"])} for e in expected["events_after_store"]
    ]
    applied = str(inputs.get("applied_to") or "both").lower()
    both = "both" in applied or ("up" in applied) == ("down" in applied)
    if both or "up" in applied:
        up, _ = store_scale_event(behavior, prev, (), base, base + change, NOW)
        got_up = [{"change": e.replica_change, "outdated": e.outdated} for e in up]
        _check("scale-up events after store", want, got_up)
    if both or "down" in applied:
        _, down = store_scale_event(behavior, (), prev, base, base - change, NOW)
        got_down = [{"change": e.replica_change, "outdated": e.outdated} for e in down]
        _check("scale-down events after store", want, got_down)


def _limit_inputs(
    inputs: Mapping[str, Any], direction: str
) -> tuple[Any, tuple[ScaleEvent, ...], tuple[ScaleEvent, ...]]:
    rules = None
    for key in (f"scale_{direction}_rules", "rules", "scaling_rules", "behavior"):
        if inputs.get(key) is not None:
            rules = inputs[key]
            break
    up = inputs.get("scale_up_events")
    down = inputs.get("scale_down_events")
    generic = inputs.get("events", inputs.get("prev_events"))
    if generic is not None:
        if direction == "up" and up is None:
            up = generic
        if direction == "down" and down is None:
            down = generic
    return rules, _events(up), _events(down)


def _expected_int(expected: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        if expected.get(key) is not None:
            value = expected[key]
            if isinstance(value, Mapping):
                value = value.get("with_test_factor_8", value.get("value"))
            return int(value)
    ints = [v for v in expected.values() if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) == 1:
        return ints[0]
    raise KeyError(f"none of {keys} in expected")


def _scale_up_limit(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    rules, up, down = _limit_inputs(inputs, "up")
    current = int(inputs["current_replicas"])
    if rules is None and "select_policy" not in inputs and "policies" not in inputs:
        harness = inputs.get("test_harness") or {}
        actual = calculate_scale_up_limit(
            current,
            float(harness.get("scaleUpLimitFactor", TEST_SCALE_UP_LIMIT_FACTOR)),
            float(harness.get("scaleUpLimitMinimum", 4.0)),
        )
    else:
        if rules is None:
            rules = {"selectPolicy": inputs.get("select_policy"), "policies": inputs.get("policies")}
        actual = calculate_scale_up_limit_with_scaling_rules(
            current, up, down, rules_from_wire(rules, default_scale_up_rules()), NOW
        )
    _check("limit", _expected_int(expected, "limit", "scale_up_limit", "replicas", "result"), actual)


def _scale_down_limit(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    rules, up, down = _limit_inputs(inputs, "down")
    if rules is None:
        rules = {"selectPolicy": inputs.get("select_policy"), "policies": inputs.get("policies")}
    actual = calculate_scale_down_limit_with_behaviors(
        int(inputs["current_replicas"]), up, down, rules_from_wire(rules, default_scale_down_rules()), NOW
    )
    _check("limit", _expected_int(expected, "limit", "scale_down_limit", "replicas", "result"), actual)


def _legacy_stabilize(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    replicas, log = stabilize_recommendation(
        _recommendations(inputs.get("recommendations") or []),
        int(inputs["prenormalized_desired_replicas"]),
        float(inputs.get("downscale_stabilization_window_s", _DEFAULT_DOWNSCALE_WINDOW)),
        NOW,
    )
    _check("replicas", expected["replicas"], replicas)
    if "recommendation_log_length" in expected:
        _check("recommendation_log_length", expected["recommendation_log_length"], len(log))


def _legacy_convert(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    harness = inputs.get("test_harness") or {}
    factor = float(harness.get("scaleUpLimitFactor", TEST_SCALE_UP_LIMIT_FACTOR))
    result = convert_desired_replicas_with_rules(
        int(inputs["current_replicas"]),
        int(inputs["prenormalized_desired_replicas"]),
        int(inputs["min_replicas"]),
        int(inputs["max_replicas"]),
        factor,
        float(harness.get("scaleUpLimitMinimum", 4.0)),
    )
    want = expected["replicas"]
    if isinstance(want, Mapping):
        want = want["with_test_factor_8"] if factor == 8.0 else want.get("with_production_factor_2")
    _check("replicas", want, result.replicas)
    if "condition_reason" in expected:
        _check("condition_reason", expected["condition_reason"], result.reason)


# --- controller -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VectorMetrics:
    """The fake metrics APIs of horizontal_test.go: levels per pod, one object value, external list."""

    levels: tuple[int, ...]
    external_error: bool

    def resource_metrics(self, resource: str) -> Sequence[RawPodMetrics]:
        return [
            RawPodMetrics(
                f"test-pod-{i}",
                (("container1", {resource: lv // 2}), ("container2", {resource: lv // 2})),
                NOW,
                60.0,
            )
            for i, lv in enumerate(self.levels)
        ]

    def pods_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Mapping[str, PodMetric]:
        return {f"test-pod-{i}": PodMetric(lv, NOW, 60.0) for i, lv in enumerate(self.levels)}

    def object_metric(
        self, metric: str, described_object: Mapping[str, Any], selector: Mapping[str, Any] | None
    ) -> int:
        if not self.levels:
            raise MetricError("no object metric value")
        return self.levels[0]

    def external_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Sequence[int]:
        if self.external_error:
            raise MetricError("fake external metrics API error")
        return list(self.levels)


def _wire_target(target: Mapping[str, Any] | None) -> dict[str, Any]:
    if not target:
        return {}
    out: dict[str, Any] = {}
    if target.get("averageUtilization") is not None:
        out = {"type": "Utilization", "averageUtilization": int(target["averageUtilization"])}
    if target.get("value_milli") is not None:
        out = {"type": "Value", "value": milli_quantity(int(target["value_milli"]))}
    if target.get("averageValue_milli") is not None:
        out = {"type": "AverageValue", "averageValue": milli_quantity(int(target["averageValue_milli"]))}
    for key in ("type", "value", "averageValue"):
        if key in target and key not in out:
            out[key] = target[key]
    return out


def _wire_metric(m: Mapping[str, Any]) -> dict[str, Any]:
    mtype = str(m.get("type", ""))
    target = _wire_target(m.get("target"))
    ident: dict[str, Any] = {"name": m.get("metric", "")}
    if "selector" in m:
        ident["selector"] = m["selector"]
    if mtype == "Resource":
        return {"type": mtype, "resource": {"name": m.get("resource", CPU), "target": target}}
    if mtype == "ContainerResource":
        return {
            "type": mtype,
            "containerResource": {
                "name": m.get("resource", CPU),
                "container": m.get("container", ""),
                "target": target,
            },
        }
    if mtype == "Pods":
        return {"type": mtype, "pods": {"metric": ident, "target": target}}
    if mtype == "Object":
        described = m.get("describedObject") or ""
        parts = str(described).split()
        obj = (
            {"apiVersion": parts[0], "kind": parts[1], "name": parts[2]}
            if len(parts) == 3
            else dict(described)
            if isinstance(described, Mapping)
            else {}
        )
        return {"type": mtype, "object": {"describedObject": obj, "metric": ident, "target": target}}
    if mtype == "External":
        return {"type": mtype, "external": {"metric": ident, "target": target}}
    return {"type": mtype}


def _reconcile(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    harness = inputs.get("test_harness") or {}
    config = ControllerConfig(
        tolerance=float(harness.get("tolerance", 0.1)),
        cpu_initialization_period=float(harness.get("cpu_initialization_period_s", _DEFAULT_CPU_INIT)),
        delay_of_initial_readiness_status=float(
            harness.get("delay_of_initial_readiness_status_s", _DEFAULT_READINESS_DELAY)
        ),
        downscale_stabilization_window=float(
            harness.get("downscale_stabilization_window_s", _DEFAULT_DOWNSCALE_WINDOW)
        ),
        scale_up_limit_factor=float(harness.get("scaleUpLimitFactor", TEST_SCALE_UP_LIMIT_FACTOR)),
        scale_up_limit_minimum=float(harness.get("scaleUpLimitMinimum", 4.0)),
    )
    behavior = inputs.get("behavior")
    if isinstance(behavior, Mapping):
        behavior = {k: v for k, v in behavior.items() if k in ("scaleUp", "scaleDown")}
    spec_replicas = int(inputs["spec_replicas"])
    status: dict[str, Any] = {"currentReplicas": spec_replicas, "desiredReplicas": spec_replicas}
    if inputs.get("last_scale_time") is not None:
        status["lastScaleTime"] = "2026-01-01T00:00:00Z"
    hpa: dict[str, Any] = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "test-hpa", "namespace": "test-namespace"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "test-rc"},
            "minReplicas": inputs.get("min_replicas"),
            "maxReplicas": int(inputs["max_replicas"]),
            "metrics": [_wire_metric(m) for m in inputs.get("metrics") or []],
            "behavior": behavior,
        },
        "status": status,
    }
    pods = [_calc_pod(p, transition_at_start=True) for p in _pod_dicts(inputs)]
    recs = inputs.get("recommendations")
    state = HPAState(
        recommendations=None if recs in (None, "nil") else _recommendations(recs),
        scale_up_events=_events(inputs.get("scale_up_events")),
        scale_down_events=_events(inputs.get("scale_down_events")),
    )
    metrics = _VectorMetrics(
        tuple(int(v) for v in inputs.get("reported_levels_milli") or []),
        bool(inputs.get("external_metrics_api_error", False)),
    )
    scale = Scale(spec_replicas, int(inputs.get("status_replicas", spec_replicas)), "name=test-pod")
    decision: ReconcileDecision = reconcile(hpa, scale, pods, metrics, state, NOW, config)
    _check("desired_replicas", expected["desired_replicas"], decision.desired_replicas)
    if "conditions" in expected:
        want = [(c["type"], c["status"], c["reason"]) for c in expected["conditions"]]
        got = [(c["type"], c["status"], c["reason"]) for c in decision.status.get("conditions", [])]
        _check("conditions", want, got)
    if expected.get("current_cpu_utilization_pct") is not None:
        utilizations = [
            m["resource"]["current"].get("averageUtilization")
            for m in decision.status.get("currentMetrics", [])
            if m.get("type") == "Resource" and m["resource"].get("name") == CPU
        ]
        _check(
            "current_cpu_utilization_pct",
            expected["current_cpu_utilization_pct"],
            utilizations[0] if utilizations else None,
        )


HANDLERS: dict[str, Handler] = {
    "replica_calc.resource_utilization": _run(_resource_utilization),
    "replica_calc.pods_metric": _run(_pods_metric),
    "replica_calc.object_metric": _run(_object_metric),
    "replica_calc.object_per_pod_metric": _run(_object_per_pod_metric),
    "replica_calc.external_metric": _run(_external_metric),
    "replica_calc.external_per_pod_metric": _run(_external_per_pod_metric),
    "replica_calc.group_pods": _run(_group_pods),
    "hpa_controller.reconcile": _run(_reconcile),
    "hpa_behavior.rate_limit": _run(_rate_limit),
    "hpa_behavior.stabilize": _run(_behavior_stabilize),
    "hpa_behavior.store_scale_event": _run(_store_scale_event),
    "hpa_behavior.scale_up_limit": _run(_scale_up_limit),
    "hpa_behavior.scale_down_limit": _run(_scale_down_limit),
    "hpa_legacy.stabilize": _run(_legacy_stabilize),
    "hpa_legacy.convert": _run(_legacy_convert),
}
