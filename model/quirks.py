"""Named deviations between upstream behaviour and the corrected behaviour.

Profile `upstream` enables every quirk (reproduces the Go code, defects included); profile
`corrected` disables every quirk. A scenario may override single quirks. `docs/quirks.md` documents
each one: upstream file and function, effect, and the test or scenario that exposes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Profile(StrEnum):
    UPSTREAM = "upstream"
    CORRECTED = "corrected"


class Quirk(StrEnum):
    # DisaggregatedService controller (the pull request in shared/seeds)
    DS_READY_REQUIRES_NONZERO = "ds_ready_requires_nonzero"
    """Role Ready iff readyReplicas > 0 and readyReplicas == status.replicas (PR controller.go)."""
    DS_OVERWRITES_AUTOSCALED_REPLICAS = "ds_overwrites_autoscaled_replicas"
    """The PR's reconcile copies role.replicas onto the role Deployment every time, reverting an HPA's writes."""
    # BudAIScaler algorithm (algorithm/budscaler.go, algorithm/algorithm.go, pkg/context)
    TOLERANCE_DIVIDED_BY_100 = "tolerance_divided_by_100"
    PANIC_THRESHOLD_DIVIDED_BY_100 = "panic_threshold_divided_by_100"
    POLICIES_IGNORE_PERIOD = "policies_ignore_period"
    SCALE_DOWN_FLOOR_ONE = "scale_down_floor_one"
    STABILIZATION_FROM_LAST_SCALE_TIME = "stabilization_from_last_scale_time"
    KV_CACHE_FRACTION_VS_PERCENT = "kv_cache_fraction_vs_percent"
    NO_SCALE_FROM_ZERO = "no_scale_from_zero"
    # BudAIScaler controller (budaiscaler_controller.go, workload_scale.go)
    SYMMETRIC_CONFLICT = "symmetric_conflict"
    CONFLICT_BLIND_TO_GENERATED_DEPLOYMENT = "conflict_blind_to_generated_deployment"
    CONDITION_REASON_STICKY = "condition_reason_sticky"
    """updateCondition replaces a condition only when its status flips: reason/message go stale."""
    ACTUAL_SCALE_IS_DESIRED = "actual_scale_is_desired"
    """reconcileCustomScaler sets status.actualScale to the recommendation, not observed replicas."""
    SCHEDULE_HINTS_SHARED_ACROSS_SCALERS = "schedule_hints_shared_across_scalers"
    """One shared predictor: one scaler's schedule hints floor the others; edited hints never apply."""
    DOWN_TOLERANCE_IGNORED = "down_tolerance_ignored"
    """pkg/context GetTolerance returns only the scale-up tolerance; scale-down tolerance never applies."""
    KPA_WINDOWS_UNUSED = "kpa_windows_unused"
    """algorithm/kpa.go reads only the instantaneous average; panic/stable windows change nothing."""
    PREDICTION_LOOKAHEAD_FIXED = "prediction_lookahead_fixed"
    """autoscaler.go builds the predictor without options: always 15 min ahead, lookAheadMinutes ignored."""
    COST_PROVIDER_CASE_SENSITIVE = "cost_provider_case_sensitive"
    """collectCostMetrics matches cloudProvider case-sensitively; 'AWS' gets no cost metrics."""
    INFERENCE_ENGINE_MAPPING_UNUSED = "inference_engine_mapping_unused"
    """pkg/metrics/factory.go For: inferenceEngine sources get the plain pod fetcher; vllm: names never map."""
    CUSTOM_SOURCE_USES_RESOURCE_FETCHER = "custom_source_uses_resource_fetcher"
    """pkg/metrics/factory.go For: custom sources get the metrics-server fetcher; non cpu/memory fails."""
    # HPA strategy (algorithm/hpa.go BuildHPA)
    HPA_TARGETS_DS_DROPS_ROLE = "hpa_targets_ds_drops_role"


ALL_QUIRKS: tuple[Quirk, ...] = tuple(Quirk)


class QuirkSet:
    """The resolved set of enabled quirks for one run: a profile plus per-quirk overrides."""

    __slots__ = ("_enabled", "profile")

    def __init__(self, profile: Profile | str, overrides: Mapping[str, bool] | None = None) -> None:
        self.profile = Profile(profile)
        enabled = {q: self.profile is Profile.UPSTREAM for q in ALL_QUIRKS}
        for name, value in (overrides or {}).items():
            enabled[Quirk(name)] = bool(value)
        self._enabled = enabled

    def __contains__(self, quirk: object) -> bool:
        return isinstance(quirk, Quirk) and self._enabled[quirk]

    def enabled(self) -> list[Quirk]:
        return [q for q in ALL_QUIRKS if self._enabled[q]]

    def as_dict(self) -> dict[str, bool]:
        return {q.value: self._enabled[q] for q in ALL_QUIRKS}

    @classmethod
    def upstream(cls) -> QuirkSet:
        return cls(Profile.UPSTREAM)

    @classmethod
    def corrected(cls) -> QuirkSet:
        return cls(Profile.CORRECTED)
