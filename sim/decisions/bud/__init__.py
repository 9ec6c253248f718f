"""BudAIScaler algorithms (KPA, BudScaler) and their helpers, ported from BudEcosystem/scaler.

Public API for the controller (sim/decisions/bud_controller, sim/controllers/budaiscaler.py):

    ctx = scaling_context_from_scaler(scaler_dict)            # defaults + spec + annotations
    ctx.ignored                                               # settings upstream silently ignores
    rec = compute_recommendation(ctx, ScalingRequest(...), now=t, quirks=quirk_set, state=prev_state,
                                 input_alternatives={quirk: request_with_that_quirk_off})  # optional
    rec.desired_replicas, rec.reason, rec.message, rec.quirks_triggered, rec.state (keep per scaler)

plus cost (collect_cost_metrics), schedule hints (schedule_hint_prediction), prediction
(prediction.predict_for_scaler, prediction.prediction_data_of).
"""

from sim.decisions.bud.algorithm import (
    calculate_effective_replicas,
    is_kv_cache_fraction,
    should_gate_scale_up,
)
from sim.decisions.bud.context import IgnoredSetting, IgnoredWhy, ScalingContext, scaling_context_from_scaler
from sim.decisions.bud.cost import CloudProvider, apply_cost_constraints, collect_cost_metrics
from sim.decisions.bud.policies import (
    apply_scale_down_policies,
    apply_scale_up_policies,
    calculate_policy_limit,
)
from sim.decisions.bud.recommend import (
    ALGORITHM_QUIRKS,
    compute_budscaler_recommendation,
    compute_kpa_recommendation,
    compute_recommendation,
)
from sim.decisions.bud.schedule import ScheduleHint, add_schedule_hints, is_active, schedule_hint_prediction
from sim.decisions.bud.types import (
    AlgorithmState,
    CostMetrics,
    GPUMetrics,
    MetricSnapshot,
    MetricSourceSpec,
    PredictionData,
    Reason,
    Recommendation,
    RecommendationError,
    ScaleDirection,
    ScalingPolicy,
    ScalingRequest,
    Strategy,
)

__all__ = [
    "ALGORITHM_QUIRKS",
    "AlgorithmState",
    "CloudProvider",
    "CostMetrics",
    "GPUMetrics",
    "IgnoredSetting",
    "IgnoredWhy",
    "MetricSnapshot",
    "MetricSourceSpec",
    "PredictionData",
    "Reason",
    "Recommendation",
    "RecommendationError",
    "ScaleDirection",
    "ScalingContext",
    "ScalingPolicy",
    "ScalingRequest",
    "ScheduleHint",
    "Strategy",
    "add_schedule_hints",
    "apply_cost_constraints",
    "apply_scale_down_policies",
    "apply_scale_up_policies",
    "calculate_effective_replicas",
    "calculate_policy_limit",
    "collect_cost_metrics",
    "compute_budscaler_recommendation",
    "compute_kpa_recommendation",
    "compute_recommendation",
    "is_active",
    "is_kv_cache_fraction",
    "scaling_context_from_scaler",
    "schedule_hint_prediction",
    "should_gate_scale_up",
]
