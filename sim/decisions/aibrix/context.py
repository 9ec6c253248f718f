"""AIBrix's scaling context: defaults, annotation overrides, per-metric targets, bounds.

upstream: vllm-project/aibrix pkg/controller/podautoscaler/context/context.go NewBaseScalingContext,
annotationParsers, UpdateByPaTypes; pkg/controller/podautoscaler/types/annotations.go (keys);
pkg/utils/paschedules/schedules.go BaseBounds (minReplicas defaults to 1);
pkg/controller/podautoscaler/metrics/client.go DefaultStableWindowDuration/DefaultPanicWindowDuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sim.decisions.bud.goparse import parse_duration_seconds, parse_float

PREFIX = "autoscaling.aibrix.ai/"
MAX_SCALE_UP_RATE = PREFIX + "max-scale-up-rate"
MAX_SCALE_DOWN_RATE = PREFIX + "max-scale-down-rate"
SCALE_UP_TOLERANCE = PREFIX + "scale-up-tolerance"
SCALE_DOWN_TOLERANCE = PREFIX + "scale-down-tolerance"
PANIC_THRESHOLD = PREFIX + "panic-threshold"
SCALE_UP_COOLDOWN = PREFIX + "scale-up-cooldown-window"
SCALE_DOWN_COOLDOWN = PREFIX + "scale-down-cooldown-window"
SCALE_TO_ZERO = PREFIX + "scale-to-zero"
ANNOTATIONS: tuple[str, ...] = (
    MAX_SCALE_UP_RATE,
    MAX_SCALE_DOWN_RATE,
    SCALE_UP_TOLERANCE,
    SCALE_DOWN_TOLERANCE,
    PANIC_THRESHOLD,
    SCALE_UP_COOLDOWN,
    SCALE_DOWN_COOLDOWN,
    SCALE_TO_ZERO,
)

DEFAULT_STABLE_WINDOW = 180.0
"""upstream: metrics/client.go DefaultStableWindowDuration."""
DEFAULT_PANIC_WINDOW = 60.0
"""upstream: metrics/client.go DefaultPanicWindowDuration."""
RESYNC_INTERVAL = 10.0
"""upstream: podautoscaler_controller.go DefaultResyncInterval (every PA is enqueued this often)."""


def _parse_bool(text: str) -> bool | None:
    """strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


@dataclass(frozen=True)
class ScalingContext:
    """upstream: context.go baseScalingContext (durations in seconds)."""

    max_scale_up_rate: float = 2.0
    max_scale_down_rate: float = 2.0
    up_tolerance: float = 0.1
    down_tolerance: float = 0.1
    scale_up_cooldown: float = 0.0
    scale_down_cooldown: float = 300.0
    scale_to_zero: bool = False
    panic_threshold: float = 2.0
    min_replicas: int = 1
    max_replicas: int = 0
    metric_targets: Mapping[str, float] = field(default_factory=dict)

    def target_for(self, metric: str) -> float | None:
        """upstream: GetTargetValueForMetric."""
        return self.metric_targets.get(metric)


def context_for(pa: Mapping[str, Any]) -> tuple[ScalingContext, str | None]:
    """The context of one reconcile: defaults, the PA's metric targets and annotations, the bounds.
    upstream: podautoscaler_controller.go createScalingContextWithBounds (an UpdateByPaTypes error
    is logged and the context parsed so far is used). Returns (context, error text or None)."""
    spec = pa.get("spec") or {}
    meta = pa.get("metadata") or {}
    ctx = ScalingContext()
    error: str | None = None
    targets: dict[str, float] = {}
    for src in spec.get("metricsSources") or []:
        value = parse_float(str(src.get("targetValue", "")))
        name = str(src.get("targetMetric", ""))
        if value is None:
            error = f"invalid targetValue for metric {name!r}"
            break
        if value <= 0:
            error = f"targetValue for metric {name!r} must be greater than 0, got {value:f}"
            break
        targets[name] = value
    ctx = replace(ctx, metric_targets=targets)
    if error is None:
        # Go iterates the annotation map in random order and stops at the first bad value; sorted here.
        for key, raw in sorted((meta.get("annotations") or {}).items()):
            ctx, error = _apply_annotation(ctx, str(key), str(raw))
            if error is not None:
                break
    lo = spec.get("minReplicas")
    ctx = replace(
        ctx, min_replicas=1 if lo is None else int(lo), max_replicas=int(spec.get("maxReplicas", 0))
    )
    return ctx, error


def _field(name: str, value: object) -> dict[str, Any]:
    return {name: value}


def _apply_annotation(ctx: ScalingContext, key: str, raw: str) -> tuple[ScalingContext, str | None]:
    floats = {
        MAX_SCALE_UP_RATE: "max_scale_up_rate",
        MAX_SCALE_DOWN_RATE: "max_scale_down_rate",
        SCALE_UP_TOLERANCE: "up_tolerance",
        SCALE_DOWN_TOLERANCE: "down_tolerance",
        PANIC_THRESHOLD: "panic_threshold",
    }
    if key in floats:
        v = parse_float(raw)
        return (
            (ctx, f"{key}: invalid float {raw!r}")
            if v is None
            else (replace(ctx, **_field(floats[key], v)), None)
        )
    if key in (SCALE_UP_COOLDOWN, SCALE_DOWN_COOLDOWN):
        d = parse_duration_seconds(raw)
        name = "scale_up_cooldown" if key == SCALE_UP_COOLDOWN else "scale_down_cooldown"
        return (
            (ctx, f"{key}: invalid duration {raw!r}")
            if d is None
            else (replace(ctx, **_field(name, d)), None)
        )
    if key == SCALE_TO_ZERO:
        b = _parse_bool(raw)
        return (ctx, f"{key}: invalid bool {raw!r}") if b is None else (replace(ctx, scale_to_zero=b), None)
    return ctx, None


def metric_windows(pa: Mapping[str, Any]) -> tuple[float, float]:
    """(stable, panic) window seconds. upstream: autoscaler.go metricWindowDurations."""
    spec = pa.get("spec") or {}
    sw = spec.get("observeWindowSeconds")
    pw = spec.get("panicWindowSeconds")
    return (
        DEFAULT_STABLE_WINDOW if sw is None else float(sw),
        DEFAULT_PANIC_WINDOW if pw is None else float(pw),
    )
