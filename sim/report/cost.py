"""What a run cost (docs/cost.md): GPU-hours per role, idle GPU-hours, money, the oracle lower
bound and the efficiency. Pure: recorded series in, summary.json's `cost` block out.

- GPU-hours of a role: pod-seconds of its Starting and Ready pods (left Riemann sum over the
  samples, `analysis.pod_seconds`) x GPUs per pod (the pod template's `nvidia.com/gpu` requests,
  else the service model's resource profile).
- Idle GPU-hours: pod-seconds of Ready pods holding no request at the sample instant x GPUs per pod.
- Money: GPU-hours x the price per GPU-hour of the role's GPU type (node label
  `nvidia.com/gpu.product` of the pool its pods ran on) or of that node pool's name.
- Lower bound: `analysis.windowed_lower_bound`, the fewest replicas per role and window that keep
  up with the same arrivals at one pod's peak throughput; efficiency = lower bound / used."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from model.slo import Cost
from sim.report.analysis import RoleCostModel, WindowedBound, pod_seconds
from sim.report.timeseries import TimeSeries

GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


def _r(x: float, digits: int = 6) -> float:
    return round(float(x), digits)


def idle_pod_seconds(
    pod_samples: Sequence[tuple[float, Mapping[str, Mapping[str, int]]]], role: str
) -> float:
    """Left Riemann sum of the role's idle Ready pods over the load samples."""
    total = 0.0
    for (t0, snap), (t1, _) in itertools.pairwise(pod_samples):
        total += float((snap.get(role) or {}).get("idle", 0)) * (t1 - t0)
    return total


def price_for(
    role_pools: Mapping[str, int], pools: Mapping[str, Mapping[str, str]], cost: Cost
) -> float | None:
    """Price per GPU-hour for a role: its most used pool's GPU type, else the pool's name."""
    if not cost.prices or not role_pools:
        return None
    pool = sorted(role_pools.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    product = (pools.get(pool) or {}).get(GPU_PRODUCT_LABEL)
    if product is not None and product in cost.prices:
        return cost.prices[product]
    return cost.prices.get(pool)


def compute_cost(
    ts: TimeSeries,
    roles: Sequence[str],
    models: Mapping[str, RoleCostModel],
    *,
    pod_samples: Sequence[tuple[float, Mapping[str, Mapping[str, int]]]] = (),
    bound: WindowedBound | None = None,
    cost: Cost | None = None,
    role_pools: Mapping[str, Mapping[str, int]] | None = None,
    pools: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """summary.json's `cost` block."""
    gpu_hours: dict[str, float] = {}
    idle: dict[str, float] = {}
    pod_hours: dict[str, float] = {}
    gpus_per_pod: dict[str, float] = {}
    for role in roles:
        gpus = models[role].gpus_per_pod if role in models else 0.0
        secs = pod_seconds(ts, role)
        gpus_per_pod[role] = gpus
        pod_hours[role] = _r(secs / 3600.0)
        gpu_hours[role] = _r(secs / 3600.0 * gpus)
        idle[role] = _r(idle_pod_seconds(pod_samples, role) / 3600.0 * gpus)
    total = sum(gpu_hours.values())
    out: dict[str, Any] = {
        "gpu_hours": gpu_hours,
        "total_gpu_hours": _r(total),
        "idle_gpu_hours": idle,
        "pod_hours": pod_hours,
        "gpus_per_pod": gpus_per_pod,
        "lower_bound_gpu_hours": None,
        "efficiency": None,
    }
    if bound is not None:
        lb = bound.total_gpu_hours
        out["lower_bound_gpu_hours"] = _r(lb)
        out["lower_bound"] = {
            "window_s": bound.window_s,
            "gpu_hours": {r: _r(bound.gpu_hours(r)) for r in roles if r in bound.replicas},
            "replicas_max": {r: max(bound.replicas[r], default=0) for r in roles if r in bound.replicas},
        }
        out["efficiency"] = _r(lb / total) if total > 0 else None
    if cost is not None and cost.prices:
        amount = 0.0
        priced = False
        by_role: dict[str, float | None] = {}
        for role in roles:
            price = price_for((role_pools or {}).get(role, {}), pools or {}, cost)
            if price is None:
                by_role[role] = None
                continue
            priced = True
            by_role[role] = _r(gpu_hours[role] * price, 4)
            amount += gpu_hours[role] * price
        out["currency"] = cost.currency
        out["amount"] = _r(amount, 4) if priced else None
        out["amount_by_role"] = by_role
    return out
