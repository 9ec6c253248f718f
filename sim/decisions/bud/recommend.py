"""The entry point the BudAIScaler controller calls: one decision for one scaler.

upstream: algorithm/algorithm.go DefaultAlgorithmFactory.Create — KPA gets the KPA algorithm and
every other strategy (BudScaler, and also HPA or "" if they ever reach it) gets BudScaler.
Quirk attribution: a quirk is reported as triggered when switching just that quirk off would change
the decision (replicas or panic mode). That costs one extra evaluation per enabled quirk; each is
microseconds. Quirks of the controller that only change the algorithm's *inputs* (cost metrics,
prediction data) are attributed the same way when the caller passes `input_alternatives`: the
request as it would have been with that quirk off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

from model.quirks import ALL_QUIRKS, Profile, Quirk, QuirkSet
from sim.decisions.bud.budscaler import budscaler_pipeline
from sim.decisions.bud.context import ScalingContext
from sim.decisions.bud.kpa import kpa_pipeline
from sim.decisions.bud.types import AlgorithmState, QuirkName, Recommendation, ScalingRequest, Strategy

ALGORITHM_QUIRKS: tuple[Quirk, ...] = (
    Quirk.TOLERANCE_DIVIDED_BY_100,
    Quirk.PANIC_THRESHOLD_DIVIDED_BY_100,
    Quirk.POLICIES_IGNORE_PERIOD,
    Quirk.SCALE_DOWN_FLOOR_ONE,
    Quirk.STABILIZATION_FROM_LAST_SCALE_TIME,
    Quirk.KV_CACHE_FRACTION_VS_PERCENT,
    Quirk.DOWN_TOLERANCE_IGNORED,
    Quirk.KPA_WINDOWS_UNUSED,
)
"""The quirks these algorithms read; the others belong to the controller."""

INPUT_QUIRKS: tuple[Quirk, ...] = (
    Quirk.COST_PROVIDER_CASE_SENSITIVE,
    Quirk.PREDICTION_LOOKAHEAD_FIXED,
    Quirk.PREDICTOR_HISTORY_SHARED_ACROSS_SCALERS,
    Quirk.LEARNING_UNUSED_BY_PREDICTION,
)
"""Controller quirks that change only the request; attributed through `input_alternatives`."""

_KPA_ONLY = frozenset({Quirk.PANIC_THRESHOLD_DIVIDED_BY_100, Quirk.KPA_WINDOWS_UNUSED})
BUDSCALER_QUIRKS: tuple[Quirk, ...] = tuple(q for q in ALGORITHM_QUIRKS if q not in _KPA_ONLY)
"""BudScaler never evaluates panic mode nor metric windows, so those quirks cannot change its decisions."""

InputAlternatives = Mapping[Quirk, ScalingRequest]
"""Quirk -> the request the controller would have built with that quirk off (only when it differs)."""

Pipeline = Callable[..., Recommendation]


@lru_cache(maxsize=256)
def _without_cached(profile: str, enabled: frozenset[Quirk], quirk: Quirk) -> QuirkSet:
    return QuirkSet(profile, {q.value: (q in enabled and q is not quirk) for q in ALL_QUIRKS})


def _without(quirks: QuirkSet, quirk: Quirk) -> QuirkSet:
    """The same quirk set with one quirk switched off (cached: decisions run thousands of times)."""
    return _without_cached(quirks.profile.value, frozenset(quirks.enabled()), quirk)


class _Consulted(QuirkSet):
    """The caller's quirk set, recording which quirks a pipeline asked about (`q in quirks`). Any other
    read (the profile, the enabled list) marks the run opaque: then nothing can be skipped."""

    __slots__ = ("_inner", "asked", "opaque")

    def __init__(self, inner: QuirkSet) -> None:  # no super().__init__: reads go to `inner`
        self._inner = inner
        self.asked: set[Quirk] = set()
        self.opaque = False

    def __contains__(self, quirk: object) -> bool:
        if isinstance(quirk, Quirk):
            self.asked.add(quirk)
        return quirk in self._inner

    @property
    def profile(self) -> Profile:  # type: ignore[override]  # read-only here; a read makes the run opaque
        self.opaque = True
        return self._inner.profile

    def enabled(self) -> list[Quirk]:
        self.opaque = True
        return self._inner.enabled()

    def as_dict(self) -> dict[str, bool]:
        self.opaque = True
        return self._inner.as_dict()


def _attributed(
    pipeline: Pipeline,
    relevant: tuple[Quirk, ...],
    ctx: ScalingContext,
    request: ScalingRequest,
    now: float,
    quirks: QuirkSet,
    state: AlgorithmState,
    input_alternatives: InputAlternatives | None = None,
) -> Recommendation:
    # A quirk the decision never asked about cannot change it: with it off, every branch the pipeline
    # (pure, deterministic, same inputs) takes reads the same answers, so the alternative is the same
    # decision and is not evaluated (exact; saves most of the extra evaluations).
    consulted = _Consulted(quirks)
    rec = pipeline(ctx, request, now=now, quirks=consulted, state=state)
    asked = None if consulted.opaque else consulted.asked
    fired: list[QuirkName] = []
    alternatives = input_alternatives or {}
    for quirk in (*relevant, *INPUT_QUIRKS):
        if quirk not in quirks:
            continue
        if quirk in relevant:
            if asked is not None and quirk not in asked:
                continue
            alt_request = request
        elif quirk in alternatives:
            alt_request = alternatives[quirk]
        else:
            continue
        alt = pipeline(ctx, alt_request, now=now, quirks=_without(quirks, quirk), state=state)
        if alt.desired_replicas != rec.desired_replicas or alt.in_panic_mode != rec.in_panic_mode:
            fired.append(quirk)
    if not fired:
        return rec
    return Recommendation(
        desired_replicas=rec.desired_replicas,
        direction=rec.direction,
        reason=rec.reason,
        message=rec.message,
        in_panic_mode=rec.in_panic_mode,
        metric_used=rec.metric_used,
        current_metric_value=rec.current_metric_value,
        target_metric_value=rec.target_metric_value,
        confidence=rec.confidence,
        quirks_triggered=tuple(fired),
        steps=rec.steps,
        state=rec.state,
    )


def compute_budscaler_recommendation(
    ctx: ScalingContext,
    request: ScalingRequest,
    *,
    now: float,
    quirks: QuirkSet,
    state: AlgorithmState | None = None,
    input_alternatives: InputAlternatives | None = None,
) -> Recommendation:
    """upstream: algorithm/budscaler.go BudScalerAlgorithm.ComputeRecommendation."""
    return _attributed(
        budscaler_pipeline,
        BUDSCALER_QUIRKS,
        ctx,
        request,
        now,
        quirks,
        state or AlgorithmState(),
        input_alternatives,
    )


def compute_kpa_recommendation(
    ctx: ScalingContext,
    request: ScalingRequest,
    *,
    now: float,
    quirks: QuirkSet,
    state: AlgorithmState | None = None,
    input_alternatives: InputAlternatives | None = None,
) -> Recommendation:
    """upstream: algorithm/kpa.go KPAAlgorithm.ComputeRecommendation."""
    return _attributed(
        kpa_pipeline,
        ALGORITHM_QUIRKS,
        ctx,
        request,
        now,
        quirks,
        state or AlgorithmState(),
        input_alternatives,
    )


def compute_recommendation(
    ctx: ScalingContext,
    request: ScalingRequest,
    *,
    now: float,
    quirks: QuirkSet,
    state: AlgorithmState | None = None,
    input_alternatives: InputAlternatives | None = None,
) -> Recommendation:
    """Dispatch on `ctx.strategy` as upstream's factory does (KPA, else BudScaler).

    Raises RecommendationError where upstream returns an error (no metric sources). `now` is the
    simulated time in seconds; `request.last_scale_time` must be on the same clock. Pass the previous
    `Recommendation.state` of the same scaler as `state` (None for the first decision).
    `input_alternatives` maps a controller quirk (INPUT_QUIRKS) to the request built with it off,
    so that quirk is reported in `quirks_triggered` when it changed the decision.
    """
    if ctx.strategy == Strategy.KPA:
        return compute_kpa_recommendation(
            ctx, request, now=now, quirks=quirks, state=state, input_alternatives=input_alternatives
        )
    return compute_budscaler_recommendation(
        ctx, request, now=now, quirks=quirks, state=state, input_alternatives=input_alternatives
    )
