"""Knative KPA conformance: knative_kpa_vectors.json through sim.decisions.knative.

Each handler translates a vector's inputs (Go field names, seconds relative to a test start,
annotations with or without the `autoscaling.knative.dev/` prefix) into calls of the production
decision code and compares the outputs with `expected`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sim.conformance.types import Handler, Vector, VectorResult
from sim.decisions.knative.aggregation import MaxTimeWindow, TimedBuckets, compute_smoothing_coeff
from sim.decisions.knative.collector import CollectorState, Stat
from sim.decisions.knative.config import (
    GROUP,
    PROGRESS_DEADLINE_ANNOTATION,
    AutoscalerConfig,
    DeciderSpec,
    Reachability,
    config_with,
    resolve_metric_target,
    windows,
)
from sim.decisions.knative.decider import DeciderState, new_decider_state, scale
from sim.decisions.knative.scaler import Active, PAStatus
from sim.decisions.knative.scaler import scale as scaler_scale


class Mismatch(Exception):
    pass


def _close(want: Any, got: Any, tol: float | None = None) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return bool(want) == bool(got)
    if isinstance(want, int | float) and isinstance(got, int | float):
        if tol is None:
            tol = 1e-9 * max(1.0, abs(float(want)))
        return abs(float(want) - float(got)) <= tol
    return bool(want == got)


def _check(problems: list[str], what: str, want: Any, got: Any, tol: float | None = None) -> None:
    if not _close(want, got, tol):
        problems.append(f"{what}: expected {want!r}, got {got!r}")


def _run(body: Callable[[Vector, list[str]], None]) -> Handler:
    def handler(vector: Vector) -> VectorResult:
        problems: list[str] = []
        body(vector, problems)
        return VectorResult(not problems, "; ".join(problems))

    handler.__name__ = body.__name__
    return handler


def _annotations(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """Vector annotations may omit the `autoscaling.knative.dev/` prefix; values are strings in Go."""
    out: dict[str, str] = {}
    for key, value in (raw or {}).items():
        k = str(key)
        if "/" not in k:
            k = (
                PROGRESS_DEADLINE_ANNOTATION
                if k in ("progress-deadline", "progressDeadline")
                else f"{GROUP}/{k}"
            )
        out[k] = value if isinstance(value, str) else _go_str(value)
    return out


def _go_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_SPEC_FIELDS: dict[str, str] = {
    "TargetValue": "target_value",
    "TotalValue": "total_value",
    "TargetBurstCapacity": "target_burst_capacity",
    "PanicThreshold": "panic_threshold",
    "MaxScaleUpRate": "max_scale_up_rate",
    "MaxScaleDownRate": "max_scale_down_rate",
    "ActivatorCapacity": "activator_capacity",
    "StableWindow_s": "stable_window",
    "ScaleDownDelay_s": "scale_down_delay",
    "InitialScale": "initial_scale",
    "Reachable": "reachable",
    "ActivationScale": "activation_scale",
    "ScalingMetric": "scaling_metric",
}


def _spec(raw: Mapping[str, Any]) -> DeciderSpec:
    """A Go DeciderSpec literal: fields it omits are Go zero values."""
    kwargs: dict[str, Any] = {"target_value": 0.0}
    for key, value in raw.items():
        name = _SPEC_FIELDS.get(key)
        if name is None:
            continue
        if name in ("initial_scale", "activation_scale"):
            kwargs[name] = int(value)
        elif name == "reachable":
            kwargs[name] = bool(value)
        elif name == "scaling_metric":
            kwargs[name] = str(value or "concurrency")
        else:
            kwargs[name] = float(value)
    return DeciderSpec(**kwargs)


# ------------------------------------------------------------------------------------------ decider


def decider_sequence(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    spec = _spec(i.get("spec") or {})
    steps = list(i.get("steps") or [])
    t0 = float(i.get("construction_t_s", 0.0))
    # upstream newTestAutoscaler starts with one ready pod (meta: "initial ready pods": 1)
    ready0 = i.get("ready_pods_at_construction", 1)
    state = new_decider_state(spec, int(ready0 or 0), t0)
    prep = i.get("prep_state")
    if isinstance(prep, Mapping):
        pt = prep.get("panic_time_s", state.panic_time)
        state = DeciderState(
            None if pt is None else float(pt),
            int(prep.get("max_panic_pods", state.max_panic_pods)),
            state.delay_window,
        )
    for n, step in enumerate(steps):
        for key in ("update_spec", "spec_update", "new_spec", "update", "spec"):
            if isinstance(step.get(key), Mapping):
                spec = _spec(step[key])  # autoscaler.Update replaces the whole spec
        ready = step.get("ready_pods")
        if step.get("pod_count_error"):
            ready_in: int | None = None
        else:
            ready_in = 0 if ready is None else int(ready)
        stable, panic = step.get("observed_stable"), step.get("observed_panic")
        if step.get("metric_error") or stable is None or panic is None:
            s_in = p_in = None
        else:
            s_in, p_in = float(stable), float(panic)
        result, state = scale(
            spec,
            state,
            ready_pods=ready_in,
            observed_stable=s_in,
            observed_panic=p_in,
            now=float(step["t_s"]),
        )
        exp = step.get("expected") or {}
        where = f"step {n}"
        if "DesiredPodCount" in exp:
            _check(problems, f"{where} DesiredPodCount", exp["DesiredPodCount"], result.desired_pod_count, 0)
        if "ExcessBurstCapacity" in exp:
            _check(
                problems,
                f"{where} ExcessBurstCapacity",
                exp["ExcessBurstCapacity"],
                result.excess_burst_capacity,
                1,
            )
        if "ScaleValid" in exp:
            _check(problems, f"{where} ScaleValid", exp["ScaleValid"], result.scale_valid)
        if "expect_panic_time_s" in step:
            want = step["expect_panic_time_s"]
            if want is None:
                if state.panic_time is not None:
                    problems.append(f"{where} panic time: expected zero, got {state.panic_time}")
            elif state.panic_time is None or not _close(float(want), state.panic_time):
                problems.append(f"{where} panic time: expected {want}, got {state.panic_time}")
        for key in ("expect_in_panic", "in_panic"):
            if key in step:
                _check(problems, f"{where} in panic", step[key], state.in_panic)
        for key in ("expect_max_panic_pods", "max_panic_pods"):
            if key in step:
                _check(problems, f"{where} max panic pods", step[key], state.max_panic_pods, 0)


def decider_construction(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    spec = _spec(i.get("spec") or {})
    cases = vector.get("expected")
    if isinstance(cases, Mapping):
        cases = [dict(cases, ready_pods_at_construction=i.get("ready_pods_at_construction", 0))]
    for case in cases or []:
        ready = int(case.get("ready_pods_at_construction", 0))
        state = new_decider_state(spec, ready, 0.0)
        if "in_panic" in case:
            _check(problems, f"ready={ready} in_panic", case["in_panic"], state.in_panic)
        if "max_panic_pods" in case:
            _check(problems, f"ready={ready} max_panic_pods", case["max_panic_pods"], state.max_panic_pods, 0)


# ---------------------------------------------------------------------------------------- targets


def resolve_target(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    pa = dict(i.get("pa") or {})
    ann: dict[str, Any] = dict(pa.get("annotations") or {})
    if "target" in pa:
        ann["target"] = pa["target"]
    if "metric" in pa:
        ann["metric"] = pa["metric"]
    for key in ("targetUtilizationPercentage", "target-utilization-percentage"):
        if key in pa:
            ann["target-utilization-percentage"] = pa[key]
    for key in ("class",):
        if key in pa:
            ann[key] = pa[key]
    config = config_with(AutoscalerConfig(), i.get("config") or {})
    target, total = resolve_metric_target(
        _annotations(ann), int(pa.get("containerConcurrency", 0) or 0), config
    )
    exp = vector["expected"]
    _check(problems, "target", exp["target"], target)
    _check(problems, "total", exp["total"], total)


def make_windows(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    config = config_with(AutoscalerConfig(), i.get("config") or {})
    stable, panic = windows(_annotations(i.get("annotations")), config)
    exp = vector["expected"]
    _check(problems, "stable_window_s", exp["stable_window_s"], stable)
    _check(problems, "panic_window_s", exp["panic_window_s"], panic)


# ------------------------------------------------------------------------------------ aggregation


def window_average_sequence(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    weighted = "Weighted" in str(vector.get("function", "")) or bool(i.get("weighted"))
    b = TimedBuckets.new(float(i["window_s"]), float(i.get("granularity_s", 1)), weighted=weighted)
    last_t = 0.0
    for n, op in enumerate(i.get("ops") or []):
        name = str(op["op"])
        if name in ("resize", "resize_window"):
            # Go's ResizeWindow reads time.Now(): the test's start (t=0) unless the vector says when
            b = b.resize_window(float(op.get("window_s", op.get("value"))), float(op.get("t_s", 0.0)))
            continue
        t = float(op.get("t_s", last_t))
        last_t = t
        if name == "record":
            b = b.record(t, float(op["value"]))
            continue
        if name == "window_average":
            got: Any = b.window_average(t)
        elif name.startswith("window_average_round"):
            digits = int(name.removeprefix("window_average_round"))
            got = round(b.window_average(t), digits)
        elif name == "window_sum":
            got = b.window_sum(t)
        elif name == "is_empty":
            got = b.is_empty(t)
        elif name in ("num_buckets", "len_buckets", "bucket_count"):
            got = len(b.buckets)
        elif name in ("window", "window_s"):
            got = b.window
        elif name in ("smoothing_coeff", "decay_multiplier"):
            got = b.smoothing_coeff
        elif name in ("first_write", "first_write_s"):
            got = b.first_write
        elif name in ("last_write", "last_write_s"):
            got = b.last_write
        elif name == "first_write_is_zero":
            got = b.first_write is None
        else:
            problems.append(f"op {n}: unknown op {name!r}")
            continue
        if "expected" in op:
            tol = op.get("tolerance")
            _check(problems, f"op {n} {name}@{t}", op["expected"], got, None if tol is None else float(tol))


def smoothing_coeff(vector: Vector, problems: list[str]) -> None:
    nbs = vector["inputs"]["num_buckets"]
    want = vector["expected"]["coeff"]
    nbs = nbs if isinstance(nbs, list) else [nbs]
    want = want if isinstance(want, list) else [want]
    for nb, w in zip(nbs, want, strict=True):
        _check(problems, f"coeff({nb})", w, compute_smoothing_coeff(float(nb)), 5e-6)


def max_time_window(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    w = MaxTimeWindow.new(float(i["window_s"]), float(i.get("granularity_s", 1)))
    for r in i.get("records") or []:
        w = w.record(float(r["t_s"]), int(r["value"]))
    _check(problems, "current", vector["expected"]["current"], w.current(), 0)


_STAT_FIELDS = {
    "AverageConcurrentRequests": "average_concurrent_requests",
    "AverageProxiedConcurrentRequests": "average_proxied_concurrent_requests",
    "RequestCount": "request_count",
    "ProxiedRequestCount": "proxied_request_count",
}


def collector_record(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    c = CollectorState.new(
        float(i["stable_window_s"]), float(i["panic_window_s"]), weighted=bool(i.get("weighted"))
    )
    now = 0.0
    for r in i.get("records") or []:
        stat = Stat(
            **{_STAT_FIELDS[k]: float(v) for k, v in (r.get("stat") or {}).items() if k in _STAT_FIELDS}
        )
        now = float(r["t_s"])
        c = c.record(now, stat)
    now = float(i.get("now_s", now))
    exp = vector["expected"]
    tol = float(exp.get("tolerance", 1e-9))
    for metric, prefix in (("concurrency", "concurrency"), ("rps", "rps")):
        got = c.stable_and_panic(metric, now)
        keys = (f"stable_{prefix}", f"panic_{prefix}")
        if any(k in exp for k in keys):
            if got is None:
                problems.append(f"{metric}: no data")
                continue
            for k, v in zip(keys, got, strict=True):
                if k in exp:
                    _check(problems, k, exp[k], v, tol)


# ----------------------------------------------------------------------------------------- scaler

# upstream: pkg/reconciler/autoscaling/kpa/kpa_test.go defaultConfigMapData/defaultConfig: the
# config every TestScaler case starts from.
SCALER_TEST_CONFIG = AutoscalerConfig(
    max_scale_up_rate=12.0,
    stable_window=300.0,
    scale_to_zero_grace_period=60.0,
    min_scale=0,
    target_burst_capacity=200.0,
    progress_deadline=121.0,
)


def _active(raw: Any) -> Active:
    text = str(raw or "Unknown")
    if text.startswith("True"):
        return Active.TRUE
    if text.startswith("False"):
        return Active.FALSE
    return Active.UNKNOWN


def kpa_scaler(vector: Vector, problems: list[str]) -> None:
    i = vector["inputs"]
    now = 1000.0
    ann = dict(i.get("pa_annotations") or {})
    if int(i.get("min_scale") or 0) > 0:
        ann.setdefault("min-scale", str(int(i["min_scale"])))
    if int(i.get("max_scale") or 0) > 0:
        ann.setdefault("max-scale", str(int(i["max_scale"])))
    pa_state = i.get("pa_state")
    if isinstance(pa_state, Mapping):
        status = PAStatus(
            _active(pa_state.get("active")),
            now - float(pa_state.get("last_transition_age_s") or 0.0),
            bool(i.get("scale_target_initialized")),
        )
    else:
        status = PAStatus(Active.UNKNOWN, now, bool(i.get("scale_target_initialized")))
    reach_raw = i.get("reachability")
    reach = Reachability(reach_raw) if reach_raw in ("Reachable", "Unreachable") else Reachability.UNKNOWN
    overrides = dict(i.get("config_overrides") or {})
    config = config_with(SCALER_TEST_CONFIG, overrides)
    probe = str(i.get("activator_probe", "ok")).lower() in ("ok", "true")
    proxy_for = i.get("sks_proxy_for_s")
    start = i.get("start_replicas")
    d = scaler_scale(
        int(i["decider_desired_scale"]),
        annotations=_annotations(ann),
        reachability=reach,
        status=status,
        current_replicas=None if start is None else int(start),
        config=config,
        now=now,
        sks_proxy=str(i.get("sks_mode") or "") == "Proxy",
        sks_proxy_for=0.0 if proxy_for is None else float(proxy_for),
        activator_probe_ok=probe,
    )
    exp = vector["expected"]
    _check(problems, "returned_desired_scale", exp["returned_desired_scale"], d.desired, 0)
    if "scale_patch_applied" in exp:
        _check(problems, "scale_patch_applied", exp["scale_patch_applied"], d.apply)
    if "reenqueue_callbacks" in exp:
        _check(problems, "reenqueue_callbacks", exp["reenqueue_callbacks"], len(d.requeue_after), 0)
    if "async_probes" in exp:
        _check(problems, "async_probes", exp["async_probes"], int(d.async_probe), 0)


HANDLERS: dict[str, Handler] = {
    "kpa.decider_sequence": _run(decider_sequence),
    "kpa.decider_construction": _run(decider_construction),
    "kpa.resolve_metric_target": _run(resolve_target),
    "kpa.windows": _run(make_windows),
    "kpa.window_average_sequence": _run(window_average_sequence),
    "kpa.smoothing_coeff": _run(smoothing_coeff),
    "kpa.max_time_window": _run(max_time_window),
    "kpa.collector_record": _run(collector_record),
    "kpa.scaler": _run(kpa_scaler),
}
"""Every kind of knative_kpa_vectors.json."""
