"""Named deviations between upstream behaviour and the corrected behaviour.

Profile `upstream` enables every quirk (reproduces the Go code, defects included); profile
`corrected` disables every quirk. A scenario may override single quirks. `docs/quirks.md` documents
each one: upstream file and function, effect, and the test or scenario that exposes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Profile(StrEnum):
    UPSTREAM = "upstream"
    CORRECTED = "corrected"


class Quirk(StrEnum):
    # DisaggregatedService controller (the pull request in shared/seeds)
    DS_READY_REQUIRES_NONZERO = "ds_ready_requires_nonzero"
    DS_OVERWRITES_AUTOSCALED_REPLICAS = "ds_overwrites_autoscaled_replicas"
    # BudAIScaler algorithm (algorithm/budscaler.go, algorithm/algorithm.go, algorithm/kpa.go, pkg/context)
    TOLERANCE_DIVIDED_BY_100 = "tolerance_divided_by_100"
    PANIC_THRESHOLD_DIVIDED_BY_100 = "panic_threshold_divided_by_100"
    POLICIES_IGNORE_PERIOD = "policies_ignore_period"
    SCALE_DOWN_FLOOR_ONE = "scale_down_floor_one"
    STABILIZATION_FROM_LAST_SCALE_TIME = "stabilization_from_last_scale_time"
    KV_CACHE_FRACTION_VS_PERCENT = "kv_cache_fraction_vs_percent"
    DOWN_TOLERANCE_IGNORED = "down_tolerance_ignored"
    KPA_WINDOWS_UNUSED = "kpa_windows_unused"
    PREDICTION_LOOKAHEAD_FIXED = "prediction_lookahead_fixed"
    COST_PROVIDER_CASE_SENSITIVE = "cost_provider_case_sensitive"
    # BudAIScaler controller (budaiscaler_controller.go, autoscaler.go, workload_scale.go, pkg/metrics)
    NO_SCALE_FROM_ZERO = "no_scale_from_zero"
    SYMMETRIC_CONFLICT = "symmetric_conflict"
    CONFLICT_BLIND_TO_GENERATED_DEPLOYMENT = "conflict_blind_to_generated_deployment"
    CONDITION_REASON_STICKY = "condition_reason_sticky"
    ACTUAL_SCALE_IS_DESIRED = "actual_scale_is_desired"
    SCHEDULE_HINTS_SHARED_ACROSS_SCALERS = "schedule_hints_shared_across_scalers"
    INFERENCE_ENGINE_MAPPING_UNUSED = "inference_engine_mapping_unused"
    CUSTOM_SOURCE_USES_RESOURCE_FETCHER = "custom_source_uses_resource_fetcher"
    # HPA strategy (algorithm/hpa.go BuildHPA)
    HPA_TARGETS_DS_DROPS_ROLE = "hpa_targets_ds_drops_role"
    # AIBrix PodAutoscaler reference port (vllm-project/aibrix pkg/controller/podautoscaler)
    AIBRIX_PANIC_STATELESS = "aibrix_panic_stateless"
    AIBRIX_COOLDOWN_PICKS_EXTREME = "aibrix_cooldown_picks_extreme"
    AIBRIX_KPA_AVERAGE_AS_TOTAL = "aibrix_kpa_average_as_total"
    # BudScaler prediction and learning (autoscaler.go, learning/system.go, learning/storage.go)
    PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS = "predictor_history_shared_across_scalers"
    LEARNING_NEVER_PERSISTED = "learning_never_persisted"
    LEARNING_UNUSED_BY_PREDICTION = "learning_unused_by_prediction"


@dataclass(frozen=True)
class QuirkInfo:
    """What a quirk is, for docs/quirks.md, reports and `dsim --help`."""

    area: str
    upstream: str
    """Upstream file and function."""
    summary: str
    """The defect in one line (what `upstream` does that `corrected` does not)."""


QUIRK_INFO: dict[Quirk, QuirkInfo] = {
    Quirk.DS_READY_REQUIRES_NONZERO: QuirkInfo(
        "DisaggregatedService",
        "PR pkg/controller/disaggregatedservice/controller.go: role status (+216-225) and the dependsOn readiness check",
        "Role Ready iff readyReplicas > 0 and == status.replicas: a 0-replica role never Ready, dependents never start",
    ),
    Quirk.DS_OVERWRITES_AUTOSCALED_REPLICAS: QuirkInfo(
        "DisaggregatedService",
        "PR pkg/controller/disaggregatedservice/controller.go: role Deployment create-or-update",
        "role.replicas is copied onto the role Deployment on every reconcile, reverting an HPA's writes",
    ),
    Quirk.TOLERANCE_DIVIDED_BY_100: QuirkInfo(
        "BudScaler/KPA",
        "algorithm/budscaler.go calculateDesiredForMetric, algorithm/kpa.go calculateDesiredReplicas",
        "tolerance divided by 100: effective 0.001 instead of 0.1",
    ),
    Quirk.PANIC_THRESHOLD_DIVIDED_BY_100: QuirkInfo(
        "KPA",
        "algorithm/kpa.go calculateDesiredReplicas",
        "panic threshold divided by 100: panic whenever ratio >= 0.02, skipping rate limits and scale-up policies",
    ),
    Quirk.POLICIES_IGNORE_PERIOD: QuirkInfo(
        "BudScaler/KPA",
        "algorithm/algorithm.go ApplyScaleUpPolicies / ApplyScaleDownPolicies",
        "scaling policies ignore periodSeconds (limits relative to current, no scale-event history)",
    ),
    Quirk.SCALE_DOWN_FLOOR_ONE: QuirkInfo(
        "BudScaler/KPA",
        "algorithm/budscaler.go calculateDesiredForMetric, algorithm/algorithm.go ApplyScaleDownPolicies",
        "scale-down floored at 1 whatever minReplicas says",
    ),
    Quirk.STABILIZATION_FROM_LAST_SCALE_TIME: QuirkInfo(
        "BudScaler",
        "algorithm/budscaler.go ComputeRecommendation (step 8)",
        "stabilization measured from lastScaleTime instead of a window over recommendations",
    ),
    Quirk.KV_CACHE_FRACTION_VS_PERCENT: QuirkInfo(
        "BudScaler/metrics",
        "pkg/metrics fetchers + algorithm/budscaler.go",
        "vLLM gpu_cache_usage_perc is a 0-1 fraction compared against targets written as percents ('70')",
    ),
    Quirk.DOWN_TOLERANCE_IGNORED: QuirkInfo(
        "BudScaler/KPA",
        "pkg/context/context.go GetTolerance",
        "only the scale-up tolerance is ever used; the scale-down tolerance never applies",
    ),
    Quirk.KPA_WINDOWS_UNUSED: QuirkInfo(
        "KPA",
        "algorithm/kpa.go ComputeRecommendation",
        "KPA reads only the instantaneous average; panic and stable windows change nothing",
    ),
    Quirk.PREDICTION_LOOKAHEAD_FIXED: QuirkInfo(
        "BudScaler",
        "autoscaler.go NewAutoScaler",
        "the predictor is built without options: always 15 min ahead, lookAheadMinutes ignored",
    ),
    Quirk.COST_PROVIDER_CASE_SENSITIVE: QuirkInfo(
        "BudScaler",
        "autoscaler.go collectCostMetrics",
        "cloudProvider matched case-sensitively ('AWS' gets no cost metrics); NaN per-replica cost at 0 replicas",
    ),
    Quirk.NO_SCALE_FROM_ZERO: QuirkInfo(
        "BudAIScaler controller",
        "autoscaler.go Scale (no pods -> no snapshot -> no change)",
        "a target at 0 replicas has no pods, hence no metrics, hence is never scaled up",
    ),
    Quirk.SYMMETRIC_CONFLICT: QuirkInfo(
        "BudAIScaler controller",
        "budaiscaler_controller.go checkConflicts (with the PR's roleName rule)",
        "both conflicting scalers go Ready=False ConflictDetected and neither scales",
    ),
    Quirk.CONFLICT_BLIND_TO_GENERATED_DEPLOYMENT: QuirkInfo(
        "BudAIScaler controller",
        "budaiscaler_controller.go checkConflicts",
        "a scaler on a DS role and one on the Deployment <ds>-<role> it generates are not seen as conflicting",
    ),
    Quirk.CONDITION_REASON_STICKY: QuirkInfo(
        "BudAIScaler controller",
        "budaiscaler_controller.go updateCondition",
        "a condition is replaced only when its status flips, so reason and message go stale",
    ),
    Quirk.ACTUAL_SCALE_IS_DESIRED: QuirkInfo(
        "BudAIScaler controller",
        "budaiscaler_controller.go reconcileCustomScaler",
        "status.actualScale is set to the recommendation, not the observed replicas",
    ),
    Quirk.SCHEDULE_HINTS_SHARED_ACROSS_SCALERS: QuirkInfo(
        "BudAIScaler controller",
        "autoscaler.go loadScheduleHints, prediction/predictor.go AddScheduleHint",
        "one predictor for all scalers: one scaler's hints floor the others; edited hints never apply",
    ),
    Quirk.INFERENCE_ENGINE_MAPPING_UNUSED: QuirkInfo(
        "metrics",
        "pkg/metrics/factory.go DefaultMetricFetcherFactory.For",
        "inferenceEngine sources get the plain pod fetcher; short names never map to vllm: metric names",
    ),
    Quirk.CUSTOM_SOURCE_USES_RESOURCE_FETCHER: QuirkInfo(
        "metrics",
        "pkg/metrics/factory.go DefaultMetricFetcherFactory.For",
        "custom sources get the metrics-server fetcher; anything but cpu/memory fails",
    ),
    Quirk.HPA_TARGETS_DS_DROPS_ROLE: QuirkInfo(
        "HPA strategy",
        "algorithm/hpa.go BuildHPA",
        "an HPA built for a DS role targets the DS itself (role dropped): no scale subresource, FailedGetScale",
    ),
    Quirk.AIBRIX_PANIC_STATELESS: QuirkInfo(
        "AIBrix KPA",
        "algorithm/kpa.go ComputeRecommendation/computeTargetReplicas, context/context.go GetMaxPanicPods",
        "panic re-decided every reconcile (panic/stable > threshold, or stable <= 0) and maxPanicPods is always 0: panic never holds a scale",
    ),
    Quirk.AIBRIX_KPA_AVERAGE_AS_TOTAL: QuirkInfo(
        "AIBrix KPA",
        "metrics/client.go UpdateMetrics + algorithm/kpa.go computeTargetReplicas",
        "KPA divides the per-pod AVERAGE by the per-pod target as if it were Knative's revision total: desired pods stop growing with the pod count",
    ),
    Quirk.AIBRIX_COOLDOWN_PICKS_EXTREME: QuirkInfo(
        "AIBrix controller",
        "podautoscaler_controller.go stabilizeRecommendation",
        "the scale-down cooldown takes the minimum recommendation of its window (the scale-up one the maximum): no cooldown at all",
    ),
    Quirk.PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS: QuirkInfo(
        "prediction",
        "autoscaler.go NewAutoScaler, getPredictionData",
        "one predictor history per metric name for all scalers: scalers reading the same metric name predict from each other's samples",
    ),
    Quirk.LEARNING_NEVER_PERSISTED: QuirkInfo(
        "learning",
        "autoscaler.go PersistLearningData (never called)",
        "learning data is never saved to its ConfigMap: a controller restart loses everything learned",
    ),
    Quirk.LEARNING_UNUSED_BY_PREDICTION: QuirkInfo(
        "learning",
        "autoscaler.go GetSeasonalAdjustment / GetPatternAdjustment (never called)",
        "seasonal profiles are learned and calibrated but never read: the prediction is the linear trend alone",
    ),
}


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
