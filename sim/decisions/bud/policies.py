"""Scaling policies: how far one decision may move replicas.

upstream: pkg/controller/budaiscaler/algorithm/algorithm.go ApplyScaleUpPolicies, ApplyScaleDownPolicies,
calculatePolicyLimit. Upstream limits each step relative to the *current* replicas and keeps no scale
history, so `periodSeconds` is carried but never used (Quirk.POLICIES_IGNORE_PERIOD), and scale-down
never goes below 1 whatever minReplicas says (Quirk.SCALE_DOWN_FLOOR_ONE). The corrected paths measure
each policy from the replica count at the start of its period (as Kubernetes HPA does), using the scale
events recorded in AlgorithmState, and floor scale-down at minReplicas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from model.quirks import Quirk, QuirkSet
from sim.decisions.bud.algorithm import should_gate_scale_up
from sim.decisions.bud.context import ScalingContext
from sim.decisions.bud.types import PolicyType, QuirkName, Reason, ScaleEvent, ScalingPolicy, SelectPolicy


def calculate_policy_limit(current_replicas: int, policy: ScalingPolicy, is_scale_up: bool = True) -> int:
    """Allowed replica change for one policy: Pods -> value; Percent -> int(current*value/100), at least 1.

    upstream: algorithm.go calculatePolicyLimit (isScaleUp is accepted and unused, as upstream).
    """
    del is_scale_up
    if policy.type == PolicyType.PODS:
        return policy.value
    if policy.type == PolicyType.PERCENT:
        limit = int(float(current_replicas) * float(policy.value) / 100.0)
        if limit < 1 and policy.value > 0:
            limit = 1
        return limit
    return 0  # an unknown type contributes 0, as the Go switch leaves `limit` at its zero value


def select_change(changes: Sequence[int], select_policy: str, *, scale_up: bool) -> int:
    """Pick among per-policy allowed changes. Scale-up: Min picks the minimum, anything else the
    maximum. Scale-down: Max picks the maximum, anything else the minimum (most conservative).

    upstream: algorithm.go ApplyScaleUpPolicies / ApplyScaleDownPolicies (selection), minInt32Slice, maxInt32Slice.
    """
    if not changes:
        return 0
    if scale_up:
        return min(changes) if select_policy == SelectPolicy.MIN else max(changes)
    return max(changes) if select_policy == SelectPolicy.MAX else min(changes)


@dataclass(frozen=True)
class PolicyResult:
    replicas: int
    quirks_triggered: tuple[QuirkName, ...] = ()


def _changes_in_period(events: Sequence[ScaleEvent], period_s: int, now: float) -> tuple[int, int]:
    """(replicas added, replicas removed) by events within the last `period_s` seconds."""
    cutoff = now - period_s
    added = sum(e.change for e in events if e.t > cutoff and e.change > 0)
    removed = sum(-e.change for e in events if e.t > cutoff and e.change < 0)
    return added, removed


def _period_limit_up(
    current: int, policies: Sequence[ScalingPolicy], select: str, events: Sequence[ScaleEvent], now: float
) -> int:
    limits: list[int] = []
    for p in policies:
        added, removed = _changes_in_period(events, p.period_seconds, now)
        start = current - added + removed
        limits.append(start + calculate_policy_limit(start, p, True))
    limit = select_change(limits, select, scale_up=True)
    # Already moved as far as the period allows: hold (never force a scale-down), as Kubernetes does.
    return max(limit, current)


def _period_limit_down(
    current: int, policies: Sequence[ScalingPolicy], select: str, events: Sequence[ScaleEvent], now: float
) -> int:
    limits: list[int] = []
    for p in policies:
        added, removed = _changes_in_period(events, p.period_seconds, now)
        start = current - added + removed
        limits.append(start - calculate_policy_limit(start, p, False))
    # Selecting the smallest *change* means the largest floor and vice versa.
    floor = max(limits) if select != SelectPolicy.MAX else min(limits)
    return min(floor, current)


def apply_scale_up_policies(
    current_replicas: int,
    desired_replicas: int,
    policies: Sequence[ScalingPolicy],
    select_policy: str = SelectPolicy.MAX,
    *,
    quirks: QuirkSet | None = None,
    events: Sequence[ScaleEvent] = (),
    now: float = 0.0,
) -> PolicyResult:
    """Limit a scale-up. upstream: algorithm.go ApplyScaleUpPolicies.

    `quirks=None` means upstream behaviour (all quirks on), which is what the conformance vectors test.
    """
    if desired_replicas <= current_replicas or not policies:
        return PolicyResult(desired_replicas)
    if select_policy == SelectPolicy.DISABLED:
        return PolicyResult(current_replicas)
    upstream_max = current_replicas + select_change(
        [calculate_policy_limit(current_replicas, p, True) for p in policies], select_policy, scale_up=True
    )
    upstream = min(desired_replicas, upstream_max)
    if quirks is None or Quirk.POLICIES_IGNORE_PERIOD in quirks:
        corrected = min(
            desired_replicas, _period_limit_up(current_replicas, policies, select_policy, events, now)
        )
        fired: tuple[QuirkName, ...] = (
            (Quirk.POLICIES_IGNORE_PERIOD,) if corrected != upstream and events else ()
        )
        return PolicyResult(upstream, fired)
    return PolicyResult(
        min(desired_replicas, _period_limit_up(current_replicas, policies, select_policy, events, now))
    )


def apply_scale_down_policies(
    current_replicas: int,
    desired_replicas: int,
    policies: Sequence[ScalingPolicy],
    select_policy: str = SelectPolicy.MIN,
    *,
    min_replicas: int = 1,
    quirks: QuirkSet | None = None,
    events: Sequence[ScaleEvent] = (),
    now: float = 0.0,
) -> PolicyResult:
    """Limit a scale-down. upstream: algorithm.go ApplyScaleDownPolicies.

    Upstream floors the result at 1 (Quirk.SCALE_DOWN_FLOOR_ONE); corrected floors at `min_replicas`.
    """
    if desired_replicas >= current_replicas or not policies:
        return PolicyResult(desired_replicas)
    if select_policy == SelectPolicy.DISABLED:
        return PolicyResult(current_replicas)
    period_quirk = quirks is None or Quirk.POLICIES_IGNORE_PERIOD in quirks
    floor_quirk = quirks is None or Quirk.SCALE_DOWN_FLOOR_ONE in quirks
    fired: list[QuirkName] = []

    upstream_floor = current_replicas - select_change(
        [calculate_policy_limit(current_replicas, p, False) for p in policies], select_policy, scale_up=False
    )
    period_floor = _period_limit_down(current_replicas, policies, select_policy, events, now)
    floor = upstream_floor if period_quirk else period_floor
    if (
        period_quirk
        and events
        and max(desired_replicas, upstream_floor, 1) != max(desired_replicas, period_floor, 1)
    ):
        fired.append(Quirk.POLICIES_IGNORE_PERIOD)

    result = max(desired_replicas, floor, 1 if floor_quirk else min_replicas)
    if floor_quirk and result != max(desired_replicas, floor, min_replicas):
        fired.append(Quirk.SCALE_DOWN_FLOOR_ONE)
    return PolicyResult(result, tuple(fired))


def apply_policies(
    ctx: ScalingContext,
    current_replicas: int,
    desired_replicas: int,
    *,
    quirks: QuirkSet,
    events: Sequence[ScaleEvent],
    now: float,
) -> tuple[int, Reason]:
    """Step 7 of both algorithms: the scale-up or scale-down policies of the scaler's behavior,
    whichever direction the proposal moves. upstream: algorithm/budscaler.go and algorithm/kpa.go
    ComputeRecommendation, both calling algorithm.go ApplyScaleUp/DownPolicies."""
    if desired_replicas > current_replicas:
        up = apply_scale_up_policies(
            current_replicas,
            desired_replicas,
            ctx.scale_up_policies,
            ctx.scale_up_select_policy,
            quirks=quirks,
            events=events,
            now=now,
        )
        return up.replicas, Reason.SCALE_UP_POLICY
    down = apply_scale_down_policies(
        current_replicas,
        desired_replicas,
        ctx.scale_down_policies,
        ctx.scale_down_select_policy,
        min_replicas=ctx.min_replicas,
        quirks=quirks,
        events=events,
        now=now,
    )
    return down.replicas, Reason.SCALE_DOWN_POLICY


def starting_pod_gate_holds(
    ctx: ScalingContext, ready: int, starting: int, current: int, desired: int, *, in_panic: bool
) -> bool:
    """Step 7.5 of both algorithms: whether too many pods are still starting to scale up further
    (bypassed only in panic with bypassGateOnPanic). upstream: algorithm/budscaler.go and
    algorithm/kpa.go ComputeRecommendation, both calling algorithm.go ShouldGateScaleUp."""
    if desired <= current or (ctx.bypass_gate_on_panic and in_panic):
        return False
    return should_gate_scale_up(ready, starting, ctx.max_starting_pods, ctx.max_starting_pod_percent)
