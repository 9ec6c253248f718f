"""AIBrix conformance: aibrix_vectors.json through sim.decisions.aibrix.

`compute_target_replicas` vectors call the algorithms with the vector's (mock) context values, as
the Go tests do; `compute_desired_replicas` runs DefaultAutoScaler.ComputeDesiredReplicas on one
snapshot in which every pod reports the fetched value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from model.quirks import QuirkSet
from sim.conformance.types import Handler, Vector, VectorResult
from sim.decisions.aibrix.algorithms import apa_compute_target_replicas, kpa_compute_target_replicas
from sim.decisions.aibrix.autoscaler import AutoscalerState, compute_desired_replicas
from sim.decisions.aibrix.context import context_for

UPSTREAM = QuirkSet.upstream()


def _first(i: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    for n in names:
        if n in i and i[n] is not None:
            return i[n]
    return default


def _run(body: Callable[[Mapping[str, Any], str], int]) -> Handler:
    def handler(vector: Vector) -> VectorResult:
        exp = vector.get("expected")
        want = exp.get("replicas", exp.get("desired_replicas")) if isinstance(exp, Mapping) else exp
        got = body(vector.get("inputs") or {}, str(vector.get("function", "")))
        if int(str(want)) != got:
            return VectorResult(False, f"replicas: expected {want}, got {got}")
        return VectorResult(True)

    handler.__name__ = body.__name__
    return handler


def _f(i: Mapping[str, Any], *names: str, default: float = 0.0) -> float:
    return float(_first(i, *names, default=default))


def kpa_target(i: Mapping[str, Any], _: str) -> int:
    replicas, _max_panic = kpa_compute_target_replicas(
        _f(i, "current_pod_count", "current_replicas"),
        stable=_f(i, "stable_value", "stable"),
        panic=_f(i, "panic_value", "panic"),
        target=_f(i, "target_value"),
        max_scale_up_rate=_f(i, "max_scale_up_rate", default=2.0),
        max_scale_down_rate=_f(i, "max_scale_down_rate", default=2.0),
        up_tolerance=_f(i, "up_tolerance", "up_fluctuation_tolerance"),
        down_tolerance=_f(i, "down_tolerance", "down_fluctuation_tolerance"),
        in_panic=bool(_first(i, "in_panic_mode", default=False)),
        max_panic_pods=int(_first(i, "max_panic_pods", default=0)),
        activation_scale=int(_first(i, "activation_scale", default=1)),
    )
    return replicas


def apa_target(i: Mapping[str, Any], _: str) -> int:
    return apa_compute_target_replicas(
        _f(i, "current_pod_count", "current_replicas"),
        target=_f(i, "target_value"),
        use_per_pod=_f(i, "current_use_per_pod", "use_per_pod", "current_value", "stable_value"),
        up_tolerance=_f(i, "up_tolerance", default=0.1),
        down_tolerance=_f(i, "down_tolerance", default=0.1),
        max_scale_up_rate=_f(i, "max_scale_up_rate", default=2.0),
        max_scale_down_rate=_f(i, "max_scale_down_rate", default=2.0),
    )


def desired_replicas(i: Mapping[str, Any], function: str) -> int:
    strategy = str(_first(i, "strategy", "scaling_strategy", default="")) or (
        "KPA" if "KPA" in function else ("HPA" if "strategy HPA" in function else "APA")
    )
    sources = []
    for s in i.get("metrics_sources") or []:
        sources.append(
            {
                "metricSourceType": str(_first(s, "type", "metricSourceType", default="pod")).lower(),
                "targetMetric": str(_first(s, "metric", "targetMetric")),
                "targetValue": _go_str(_first(s, "target", "targetValue")),
            }
        )
    pa: dict[str, Any] = {
        "metadata": {
            "namespace": "default",
            "name": "test-llm",
            "annotations": dict(i.get("annotations") or {}),
        },
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "test-llm"},
            "scalingStrategy": strategy,
            "maxReplicas": int(_first(i, "max_replicas", default=0)),
            "metricsSources": sources,
        },
    }
    for key, field in (
        ("observe_window_s", "observeWindowSeconds"),
        ("panic_window_s", "panicWindowSeconds"),
    ):
        if key in i:
            pa["spec"][field] = int(i[key])
    ctx, _err = context_for(pa)
    # The Go test builds NewBaseScalingContext (MinReplicas 0), sets MaxReplicas and the rates, then
    # UpdateByPaTypes: bounds do not go through BaseBounds.
    ctx = replace(
        ctx,
        min_replicas=int(_first(i, "min_replicas", default=0)),
        max_replicas=int(_first(i, "max_replicas", default=0)),
    )
    for key, attr in (
        ("max_scale_up_rate", "max_scale_up_rate"),
        ("max_scale_down_rate", "max_scale_down_rate"),
        ("up_tolerance", "up_tolerance"),
        ("down_tolerance", "down_tolerance"),
        ("panic_threshold", "panic_threshold"),
    ):
        if i.get(key) is not None:
            ctx = replace(ctx, **{attr: float(i[key])})  # type: ignore[arg-type]
    pods = int(_first(i, "pods", default=1))
    per_pod = i.get("fetched_metric_value_per_pod")
    per_metric = i.get("fetched_metric_values") or {}
    samples: dict[str, list[float]] = {}
    for s in sources:
        value = per_metric.get(s["targetMetric"], per_pod) if isinstance(per_metric, Mapping) else per_pod
        samples[s["targetMetric"]] = [float(str(value))] * pods
    result, _state = compute_desired_replicas(
        pa, ctx, int(_first(i, "current_replicas", default=1)), samples, AutoscalerState(), 0.0, UPSTREAM
    )
    if not result.valid:
        raise ValueError(result.reason)
    return result.desired


def _go_str(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


HANDLERS: dict[str, Handler] = {
    "aibrix.kpa.compute_target_replicas": _run(kpa_target),
    "aibrix.apa.compute_target_replicas": _run(apa_target),
    "aibrix.autoscaler.compute_desired_replicas": _run(desired_replicas),
}
"""Every kind of aibrix_vectors.json."""
