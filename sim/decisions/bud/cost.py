"""Cloud cost: upstream's price table, budget checks, and the BudScaler cost ceiling.

upstream: pkg/controller/budaiscaler/cost/calculator.go (Calculator, CostTracker) and
algorithm/budscaler.go applyCostConstraints; autoscaler.go collectCostMetrics for how the controller
fills CostMetrics (default provider "aws", fixed instance type "g5.xlarge").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sim.decisions.bud.algorithm import go_int32
from sim.decisions.bud.types import CostMetrics


class CloudProvider(StrEnum):
    """cost.CloudProvider: lower-case; `cloudProvider: AWS` in a spec matches none of them upstream."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


@dataclass(frozen=True)
class InstancePricing:
    on_demand_hourly: float
    spot_hourly: float
    gpu_count: int
    gpu_type: str


# upstream: cost/calculator.go initializePricing ($/hour)
PRICING: dict[CloudProvider, dict[str, InstancePricing]] = {
    CloudProvider.AWS: {
        "p4d.24xlarge": InstancePricing(32.77, 9.83, 8, "A100"),
        "p4de.24xlarge": InstancePricing(40.97, 12.29, 8, "A100"),
        "p3.2xlarge": InstancePricing(3.06, 0.92, 1, "V100"),
        "p3.8xlarge": InstancePricing(12.24, 3.67, 4, "V100"),
        "p3.16xlarge": InstancePricing(24.48, 7.34, 8, "V100"),
        "g5.xlarge": InstancePricing(1.02, 0.31, 1, "A10G"),
        "g5.2xlarge": InstancePricing(1.21, 0.36, 1, "A10G"),
        "g5.4xlarge": InstancePricing(1.62, 0.49, 1, "A10G"),
        "g5.12xlarge": InstancePricing(5.67, 1.70, 4, "A10G"),
        "g4dn.xlarge": InstancePricing(0.526, 0.16, 1, "T4"),
        "g4dn.12xlarge": InstancePricing(3.912, 1.17, 4, "T4"),
    },
    CloudProvider.GCP: {
        "a2-highgpu-1g": InstancePricing(3.67, 1.10, 1, "A100"),
        "a2-highgpu-2g": InstancePricing(7.35, 2.20, 2, "A100"),
        "a2-highgpu-4g": InstancePricing(14.69, 4.41, 4, "A100"),
        "a2-highgpu-8g": InstancePricing(29.39, 8.82, 8, "A100"),
        "n1-standard-4-t4": InstancePricing(0.55, 0.17, 1, "T4"),
    },
    CloudProvider.AZURE: {
        "Standard_NC6s_v3": InstancePricing(3.06, 0.92, 1, "V100"),
        "Standard_NC12s_v3": InstancePricing(6.12, 1.84, 2, "V100"),
        "Standard_NC24s_v3": InstancePricing(12.24, 3.67, 4, "V100"),
        "Standard_ND96asr_v4": InstancePricing(27.20, 8.16, 8, "A100"),
    },
}

DEFAULT_PROVIDER = CloudProvider.AWS
DEFAULT_INSTANCE_TYPE = "g5.xlarge"
"""autoscaler.go collectCostMetrics: "For now, use a default instance type"."""


class UnknownInstanceType(LookupError):
    """calculator.go CalculateHourlyCost: "unknown instance type: %s"."""


def provider_of(name: str, *, case_sensitive: bool = True) -> CloudProvider | None:
    """The calculator's provider; "" -> aws.

    upstream: autoscaler.go collectCostMetrics — an exact (case-sensitive) map lookup
    `costCalculators[CloudProvider(name)]`, so "AWS" finds nothing (Quirk.COST_PROVIDER_CASE_SENSITIVE,
    `case_sensitive=True`); corrected matches regardless of case.
    """
    if name == "":
        return DEFAULT_PROVIDER
    try:
        return CloudProvider(name if case_sensitive else name.lower())
    except ValueError:
        return None


def _pricing(provider: str) -> dict[str, InstancePricing]:
    """A Calculator for a provider outside aws/gcp/azure has an empty price table (NewCalculator)."""
    try:
        return PRICING[CloudProvider(provider)]
    except ValueError:
        return {}


def calculate_hourly_cost(provider: str, instance_type: str, count: int, is_spot: bool) -> float:
    """price x count. upstream: cost/calculator.go CalculateHourlyCost."""
    pricing = _pricing(provider).get(instance_type)
    if pricing is None:
        raise UnknownInstanceType(f"unknown instance type: {instance_type}")
    price = pricing.spot_hourly if is_spot else pricing.on_demand_hourly
    return price * float(count)


def project_daily_cost(hourly_cost: float) -> float:
    """upstream: cost/calculator.go ProjectDailyCost."""
    return hourly_cost * 24


@dataclass(frozen=True)
class Budget:
    hourly_limit: float = 0.0
    daily_limit: float = 0.0


def is_within_budget(current_hourly_cost: float, budget: Budget | None) -> bool:
    """upstream: cost/calculator.go IsWithinBudget (limits of 0 mean unset)."""
    if budget is None:
        return True
    if budget.hourly_limit > 0 and current_hourly_cost > budget.hourly_limit:
        return False
    return not (budget.daily_limit > 0 and project_daily_cost(current_hourly_cost) > budget.daily_limit)


@dataclass(frozen=True)
class CostRecommendation:
    recommended_replicas: int
    projected_hourly_cost: float
    projected_daily_cost: float
    reason: str
    budget_utilization: float = 0.0


def get_scaling_recommendation(
    provider: str,
    current_replicas: int,
    desired_replicas: int,
    instance_type: str,
    is_spot: bool,
    budget: Budget | None,
) -> CostRecommendation:
    """Budget-limited replicas for a scale-up; scale-down always allowed.

    upstream: cost/calculator.go GetScalingRecommendation (999 = "no limit" sentinel per budget kind).
    """
    pricing = _pricing(provider).get(instance_type)
    if desired_replicas <= current_replicas:
        cost = 0.0  # an unknown instance type costs 0 here (the Go code drops the error)
        if pricing is not None:
            cost = (pricing.spot_hourly if is_spot else pricing.on_demand_hourly) * float(desired_replicas)
        return CostRecommendation(
            desired_replicas, cost, project_daily_cost(cost), "scale down always allowed"
        )
    if pricing is None:
        return CostRecommendation(desired_replicas, 0.0, 0.0, "unknown instance type, allowing scaling")
    price = pricing.spot_hourly if is_spot else pricing.on_demand_hourly
    if budget is None or (budget.hourly_limit == 0 and budget.daily_limit == 0):
        cost = price * float(desired_replicas)
        return CostRecommendation(
            desired_replicas, cost, project_daily_cost(cost), "within budget (no budget set)"
        )
    by_hourly = 999
    by_daily = 999
    if budget.hourly_limit > 0:
        by_hourly = go_int32(budget.hourly_limit / price)
    if budget.daily_limit > 0:
        by_daily = go_int32((budget.daily_limit / 24) / price)
    max_replicas = min(by_hourly, by_daily)
    recommended = min(desired_replicas, max_replicas)
    if recommended < current_replicas:
        recommended = current_replicas
    cost = price * float(recommended)
    util = (cost / budget.hourly_limit) * 100 if budget.hourly_limit > 0 else 0.0
    reason = "within budget"
    if recommended < desired_replicas:
        reason = f"limited by budget (max {max_replicas} replicas)"
    return CostRecommendation(recommended, cost, project_daily_cost(cost), reason, util)


@dataclass(frozen=True)
class CostRecord:
    t: float
    cost: float


def cost_tracker_record(
    records: Sequence[CostRecord], cost: float, t: float, *, now: float
) -> tuple[CostRecord, ...]:
    """Append a record and drop those older than 24 h. upstream: cost/calculator.go CostTracker.RecordUsage."""
    cutoff = now - 24 * 3600
    return tuple(r for r in (*records, CostRecord(t, cost)) if r.t > cutoff)


def cost_tracker_hourly_usage(records: Sequence[CostRecord], *, now: float) -> float:
    """Sum of costs recorded in the last hour (strictly after the cutoff). upstream: GetHourlyUsage."""
    return sum((r.cost for r in records if r.t > now - 3600), 0.0)


def cost_tracker_daily_usage(records: Sequence[CostRecord], *, now: float) -> float:
    """upstream: cost/calculator.go GetDailyUsage."""
    return sum((r.cost for r in records if r.t > now - 24 * 3600), 0.0)


def _div(a: float, b: float) -> float:
    """Go float64 division: x/0 is ±Inf or NaN, never an exception."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def collect_cost_metrics(
    cloud_provider: str,
    budget_per_hour: float | None,
    prefer_spot: bool,
    current_replicas: int,
    *,
    cost_provider_case_sensitive: bool = True,
) -> CostMetrics | None:
    """What the controller passes as CostMetrics for an enabled costConfig.

    upstream: autoscaler.go collectCostMetrics — provider "" means aws; an unknown provider string
    (including "AWS") yields no cost metrics; instance type is always g5.xlarge; the per-replica cost
    is hourly / currentReplicas (NaN at zero replicas, as Go's float division, and a NaN per-replica
    cost switches the cost ceiling off). `cost_provider_case_sensitive` is
    Quirk.COST_PROVIDER_CASE_SENSITIVE (default: as upstream); off, the provider matches in any case
    and the per-replica cost at zero replicas is the price of one instance.
    """
    provider = provider_of(cloud_provider, case_sensitive=cost_provider_case_sensitive)
    if provider is None:
        return None
    try:
        hourly = calculate_hourly_cost(provider, DEFAULT_INSTANCE_TYPE, current_replicas, prefer_spot)
    except UnknownInstanceType:
        return None
    per_replica = _div(hourly, float(current_replicas))
    if current_replicas == 0 and not cost_provider_case_sensitive:
        per_replica = calculate_hourly_cost(provider, DEFAULT_INSTANCE_TYPE, 1, prefer_spot)
    return CostMetrics(
        current_cost_per_hour=hourly,
        budget_per_hour=budget_per_hour if budget_per_hour is not None else 0.0,
        per_replica_cost_per_hour=per_replica,
    )


def apply_cost_constraints(desired: int, current_replicas: int, cost: CostMetrics) -> int:
    """The cost ceiling. upstream: algorithm/budscaler.go applyCostConstraints.

    Over budget: cap at int(budget/perReplica) (at least 1). Scale-up that would exceed the budget:
    current + int(remaining/perReplica), or current when nothing remains.
    """
    if cost.current_cost_per_hour > cost.budget_per_hour and cost.per_replica_cost_per_hour > 0:
        affordable = go_int32(cost.budget_per_hour / cost.per_replica_cost_per_hour)
        affordable = max(affordable, 1)
        if affordable < desired:
            return affordable
    if desired > current_replicas:
        additional_cost = float(desired - current_replicas) * cost.per_replica_cost_per_hour
        if cost.current_cost_per_hour + additional_cost > cost.budget_per_hour:
            available = cost.budget_per_hour - cost.current_cost_per_hour
            if available > 0 and cost.per_replica_cost_per_hour > 0:
                constrained = current_replicas + go_int32(available / cost.per_replica_cost_per_hour)
                if constrained < desired:
                    return constrained
            else:
                return current_replicas
    return desired
