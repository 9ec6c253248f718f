"""Knative's KPA decider: desired pods from the stable- and panic-window totals.

upstream: knative/serving pkg/autoscaler/scaling/autoscaler.go New/newAutoscaler (start in panic
when more than one pod is ready), autoscaler.Scale (rate limits, panic mode, activation scale,
scale-down delay, excess burst capacity).

The Go autoscaler keeps panicTime, maxPanicPods and the delay window in the struct; here they are
a frozen DeciderState passed in and returned, so `scale` is a pure function of its inputs and
`now`. Observed values are revision totals (sum over pods), as the collector provides them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.decisions.knative.aggregation import MaxTimeWindow
from sim.decisions.knative.config import TICK_INTERVAL, DeciderSpec

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def go_int32(x: float) -> int:
    """int32(float64) as on amd64: truncation; NaN, ±Inf and out-of-range give MinInt32."""
    if not math.isfinite(x) or x < _INT32_MIN or x >= _INT32_MAX + 1:
        return _INT32_MIN
    return int(x)


def _div(a: float, b: float) -> float:
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _go_max(a: float, b: float) -> float:
    """math.Max: NaN if either is NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return max(a, b)


def _go_min(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return min(a, b)


@dataclass(frozen=True)
class DeciderState:
    """upstream: autoscaler struct fields panicTime (None = zero time), maxPanicPods, delayWindow."""

    panic_time: float | None = None
    max_panic_pods: int = 0
    delay_window: MaxTimeWindow | None = None

    @property
    def in_panic(self) -> bool:
        return self.panic_time is not None


@dataclass(frozen=True)
class ScaleResult:
    """upstream: scaling.ScaleResult (+ whether the decider is panicking, for the decision log)."""

    desired_pod_count: int
    excess_burst_capacity: int
    scale_valid: bool
    in_panic: bool = False


INVALID = ScaleResult(0, 0, False)
"""upstream: autoscaler.go invalidSR."""


def new_decider_state(spec: DeciderSpec, ready_pods: int, now: float) -> DeciderState:
    """upstream: autoscaler.go New/newAutoscaler: panicking from the start iff more than one pod is
    ready (so a freshly created autoscaler never scales an existing revision down in its first
    stable window); a max window of ScaleDownDelay in decider ticks when a delay is set."""
    delay = MaxTimeWindow.new(spec.scale_down_delay, TICK_INTERVAL) if spec.scale_down_delay > 0 else None
    return DeciderState(now if ready_pods > 1 else None, ready_pods, delay)


def scale(
    spec: DeciderSpec,
    state: DeciderState,
    *,
    ready_pods: int | None,
    observed_stable: float | None,
    observed_panic: float | None,
    now: float,
) -> tuple[ScaleResult, DeciderState]:
    """One decision. upstream: autoscaler.go autoscaler.Scale.

    `ready_pods` None: the pod count could not be read (invalid result); a not-found endpoints
    object is 0. `observed_*` None: no metrics (ErrNoData or another collector error)."""
    if ready_pods is None:
        return INVALID, state
    original_ready = ready_pods
    ready = max(1.0, float(original_ready))
    if observed_stable is None or observed_panic is None:
        return INVALID, state
    max_up = (
        math.ceil(spec.max_scale_up_rate * ready)
        if math.isfinite(spec.max_scale_up_rate * ready)
        else spec.max_scale_up_rate * ready
    )
    max_down = 0.0
    if spec.reachable:
        q = _div(ready, spec.max_scale_down_rate)
        max_down = float(math.floor(q)) if math.isfinite(q) else q
    dspc_raw = _div(observed_stable, spec.target_value)
    dppc_raw = _div(observed_panic, spec.target_value)
    dspc = float(math.ceil(dspc_raw)) if math.isfinite(dspc_raw) else dspc_raw
    dppc = float(math.ceil(dppc_raw)) if math.isfinite(dppc_raw) else dppc_raw
    desired_stable = go_int32(_go_min(_go_max(dspc, max_down), float(max_up)))
    desired_panic = go_int32(_go_min(_go_max(dppc, max_down), float(max_up)))
    if spec.activation_scale > 1:
        if dspc > 0 and spec.activation_scale > desired_stable:
            desired_stable = spec.activation_scale
        if dppc > 0 and spec.activation_scale > desired_panic:
            desired_panic = spec.activation_scale
    over = _div(dppc, ready) >= spec.panic_threshold
    panic_time, max_panic = state.panic_time, state.max_panic_pods
    if over:
        panic_time = now  # begin panicking, or extend the panic window
    elif panic_time is not None and panic_time + spec.stable_window < now:
        panic_time = None  # the surge has made its way into the stable metric
        max_panic = 0
    desired = desired_stable
    if panic_time is not None:
        desired = max(desired, desired_panic)
        if desired > max_panic:
            max_panic = desired
        desired = max_panic  # never scale down while panicking
    delay = state.delay_window
    if spec.reachable and delay is not None:
        delay = delay.record(now, desired)
        desired = delay.current()
    if spec.target_burst_capacity == 0:
        ebc = 0.0
    elif spec.target_burst_capacity > 0:
        tot = float(original_ready) * spec.total_value
        raw = tot - spec.target_burst_capacity - observed_panic
        ebc = float(math.floor(raw)) if math.isfinite(raw) else raw
    else:
        ebc = -1.0
    result = ScaleResult(desired, go_int32(ebc), True, panic_time is not None)
    return result, DeciderState(panic_time, max_panic, delay)
