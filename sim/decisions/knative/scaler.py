"""Knative's KPA scaler (reconciler side): bounds, initial scale and scale to zero.

upstream: knative/serving pkg/reconciler/autoscaling/kpa/scaler.go scaler.scale (no-op on an
unknown desired scale unless activating, min/max bounds, initial scale until the target is
initialized) and handleScaleToZero (the activator's role: an Active PA first goes Inactive once it
has been idle a stable window, traffic then flows through the activator (SKS proxy mode), and only
after the scale-to-zero grace period — and the last-pod retention period — is the Deployment
scaled to 0; an Activating PA that never became ready is scaled down after the progress deadline
plus 30s); kpa/kpa.go computeActiveCondition and activeThreshold (the PA's Active condition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sim.decisions.knative.config import (
    AutoscalerConfig,
    Reachability,
    initial_scale,
    progress_deadline,
    retention_period,
    scale_bounds,
    stable_window,
    target_burst_capacity,
)

SCALE_UNKNOWN = -1
"""upstream: scaler.go scaleUnknown."""
ACTIVATION_TIMEOUT_BUFFER = 30.0
"""upstream: scaler.go activationTimeoutBuffer."""
PROXY_REQUEUE = 3.0
"""upstream: scaler.go handleScaleToZero (re-enqueue while the SKS is already in proxy mode)."""


class Active(StrEnum):
    """The PodAutoscaler's Active condition status."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class PAStatus:
    """What the scaler reads of a PodAutoscaler's status (InitializeConditions: Active Unknown)."""

    active: Active = Active.UNKNOWN
    last_transition: float = 0.0
    scale_target_initialized: bool = False

    def in_status_for(self, status: Active, now: float) -> float:
        """upstream: pa_lifecycle.go inStatusFor (-1 when in another status)."""
        return now - self.last_transition if self.active == status else -1.0


@dataclass(frozen=True)
class ScalerDecision:
    desired: int
    """What scale() returns (the PA's desired scale; -1 unknown)."""
    apply: bool
    """Whether the Deployment is patched to `desired` (it differs from the current replicas)."""
    requeue_after: tuple[float, ...] = ()
    """Re-enqueue callbacks asked for (seconds)."""
    async_probe: bool = False
    """An asynchronous activator probe was offered (the PA is not yet backed by the activator)."""
    reason: str = ""


def _apply_bounds(lo: int, hi: int, x: int) -> int:
    """upstream: scaler.go applyBounds (max 0 = unbounded)."""
    if x < lo:
        return lo
    if hi != 0 and x > hi:
        return hi
    return x


def scale(
    desired: int,
    *,
    annotations: Mapping[str, str],
    reachability: Reachability,
    status: PAStatus,
    current_replicas: int | None,
    config: AutoscalerConfig,
    now: float,
    sks_proxy: bool = False,
    sks_proxy_for: float = 0.0,
    activator_probe_ok: bool = True,
) -> ScalerDecision:
    """upstream: scaler.go scaler.scale (+ handleScaleToZero). `current_replicas` None: the
    Deployment's spec.replicas is unset (counts as 1)."""
    activating = status.active == Active.UNKNOWN
    if desired < 0 and not activating:
        return ScalerDecision(desired, False, reason="metrics are not yet being collected")
    lo, hi = scale_bounds(annotations, reachability, config)
    init = initial_scale(annotations, config)
    if init > 1 and not status.scale_target_initialized and reachability != Reachability.UNREACHABLE:
        lo = max(init, lo)
    desired = _apply_bounds(lo, hi, desired)
    requeue: list[float] = []
    probe = False
    reason = "scale"
    apply = True
    if desired == 0:
        desired, apply, reason, probe = _scale_to_zero(
            desired,
            annotations,
            reachability,
            status,
            config,
            now,
            sks_proxy,
            sks_proxy_for,
            activator_probe_ok,
            requeue,
        )
    if not apply:
        return ScalerDecision(desired, False, tuple(requeue), probe, reason)
    current = 1 if current_replicas is None else current_replicas
    return ScalerDecision(desired, desired != current, tuple(requeue), probe, reason)


def _scale_to_zero(
    desired: int,
    annotations: Mapping[str, str],
    reachability: Reachability,
    status: PAStatus,
    config: AutoscalerConfig,
    now: float,
    sks_proxy: bool,
    sks_proxy_for: float,
    probe_ok: bool,
    requeue: list[float],
) -> tuple[int, bool, str, bool]:
    """upstream: scaler.go handleScaleToZero -> (desired, apply, reason, async probe offered)."""
    if not config.enable_scale_to_zero:
        return 1, True, "scale to zero disabled", False
    activation_timeout = progress_deadline(annotations, config) + ACTIVATION_TIMEOUT_BUFFER
    if status.active == Active.UNKNOWN:
        if status.in_status_for(Active.UNKNOWN, now) > activation_timeout:
            return desired, True, "activation timed out", False
        requeue.append(activation_timeout)
        return SCALE_UNKNOWN, False, "activating", False
    if status.active == Active.TRUE:
        sw = stable_window(annotations, config)
        af = status.in_status_for(Active.TRUE, now)
        if af >= sw:
            if sks_proxy:
                requeue.append(PROXY_REQUEUE)
            return desired, False, "idle for a stable window: deactivate", False
        requeue.append(sw - af)
        return 1, True, "waiting a stable window before deactivating", False
    # Active=False: traffic must be backed by the activator before the last pod goes.
    ok = True
    if target_burst_capacity(annotations, config) != -1:
        ok = probe_ok
    if not ok:
        return desired, False, "not yet backed by the activator", True
    retention = retention_period(annotations, reachability, config)
    max_timeout = max(config.scale_to_zero_grace_period, retention)
    inactive_for = status.in_status_for(Active.FALSE, now)
    if inactive_for >= max_timeout:
        return desired, True, "grace period over", False
    if retention > 0 and inactive_for < retention:
        requeue.append(retention - inactive_for)
        return desired, False, "last pod retention", False
    to = config.scale_to_zero_grace_period - sks_proxy_for
    if to <= 0:
        return desired, True, "in proxy mode for the grace period", False
    requeue.append(to)
    return desired, False, "waiting for the grace period", False


def active_threshold(
    annotations: Mapping[str, str], reachability: Reachability, status: PAStatus, config: AutoscalerConfig
) -> int:
    """upstream: kpa/kpa.go activeThreshold."""
    lo, _ = scale_bounds(annotations, reachability, config)
    if not status.scale_target_initialized:
        return max(lo, initial_scale(annotations, config))
    return max(lo, 1)


def next_status(
    status: PAStatus,
    *,
    want: int,
    ready: int,
    annotations: Mapping[str, str],
    reachability: Reachability,
    config: AutoscalerConfig,
    now: float,
) -> PAStatus:
    """The Active condition after a reconcile. upstream: kpa/kpa.go computeActiveCondition (the SKS
    is taken as ready and the service name as set)."""
    min_ready = active_threshold(annotations, reachability, status, config)
    initialized = status.scale_target_initialized or ready >= min_ready
    active = status.active
    if want == 0 or min_ready == 0:
        active = Active.FALSE
    elif ready < min_ready:
        active = Active.UNKNOWN if (want > 0 or status.active != Active.FALSE) else Active.FALSE
    elif want > 0 or status.active != Active.FALSE:
        active = Active.TRUE
    ltt = now if active != status.active else status.last_transition
    return PAStatus(active, ltt, initialized)
