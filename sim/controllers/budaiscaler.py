"""The BudAIScaler controller: a thin wrapper that feeds informer caches into the pure decisions of
`sim.decisions.bud_controller` and the KPA/BudScaler algorithms, and writes the results back.

One reconcile follows upstream's Reconcile step by step: deletion -> finalizer removed; no
finalizer -> add it and requeue; validation; conflict check; strategy routing; status. A write of a
DisaggregatedService role's replicas is an `update` of the DS object carrying the resourceVersion
the cache holds, so it Conflicts with the DS status writer and with other per-role scalers; the
Conflict fails the reconcile and the runtime retries it with backoff. Nothing is lost: the retry
re-reads the caches and decides again.

# upstream: pkg/controller/budaiscaler/budaiscaler_controller.go Reconcile, handleDeletion,
#           validateScaler, checkConflicts, reconcileCustomScaler, updateCondition
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from model.quirks import Quirk, QuirkSet
from sim.apiserver.errors import ApiError, NotFound
from sim.clock import Simulation
from sim.controllers.bud_learning import PredictionRuntime, learning_enabled, prediction_enabled
from sim.decisions.bud.schedule import ScheduleHint, add_schedule_hints
from sim.decisions.bud.types import Strategy
from sim.decisions.bud_controller.conflicts import DS_KIND, ScalerRef, check_conflict
from sim.decisions.bud_controller.pipeline import (
    MetricSnapshot,
    ScalingInputs,
    SourceCollector,
    apply_activation,
    build_scaling_inputs,
    hints_from_spec,
)
from sim.decisions.bud_controller.status import (
    CONDITION_READY,
    ReadyReason,
    record_scale_result,
    update_condition,
)
from sim.decisions.bud_controller.workload import ScaleView, TargetError, resolve_scale, scaled_object
from sim.decisions.hpa import build as hpa_build
from sim.runtime import Controller, InformerEvent, Request, Result, generation_changed

FINALIZER = "scaler.bud.studio/finalizer"
"""# upstream: budaiscaler_controller.go FinalizerName"""
REQUEUE_AFTER = 10.0
"""# upstream: budaiscaler_controller.go DefaultRequeueInterval"""
CONTROLLER_NAME = "budaiscaler-controller"


class MetricsProvider(Protocol):
    """docs/architecture.md contract: what autoscalers read (scraped, may be stale)."""

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> Any: ...


class ActivationSource(Protocol):
    """Corrected profile: how many requests wait in front of a role that has no pods."""

    def queued(self, namespace: str, ds: str, role: str, now: float) -> float: ...


class LoadSystemActivation:
    """ActivationSource over a `sim.load.system.LoadSystem`: requests waiting in front of a role."""

    def __init__(self, system: Any) -> None:
        self.system = system

    def queued(self, namespace: str, ds: str, role: str, now: float) -> float:
        stage = self.system.roles.get(role)
        return 0.0 if stage is None else float(stage.waiting())


class ReconcileFailed(ApiError):
    """A reconcile that upstream ends with `return ctrl.Result{}, err`: retried with backoff.

    An ApiError subclass because the runtime requeues with backoff only on ApiError (any other
    exception is treated as a bug); the reason stays InternalError."""


@dataclass(frozen=True)
class AlgorithmCall:
    """Everything an algorithm adapter gets for one decision."""

    scaler: Mapping[str, Any]
    strategy: str
    inputs: ScalingInputs
    last_scale_time: float | None
    """status.lastScaleTime in simulated seconds, None when unset."""
    now: float
    quirks: QuirkSet
    state: Any = None
    """What the previous decision of this scaler returned as its state (None the first time)."""
    prediction: Any = None
    """The time-series PredictionData (sim.decisions.bud.types) when predictionConfig.enabled and no
    schedule hint is active; None otherwise (a hint travels in `inputs.schedule_hint`)."""
    prediction_alternatives: Mapping[Quirk, Any] = field(default_factory=dict)
    """Quirk -> the PredictionData with that quirk off (only where it differs)."""


@dataclass(frozen=True)
class AlgorithmOutcome:
    desired: int
    reason: str
    state: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)


AlgorithmFn = Callable[[AlgorithmCall], AlgorithmOutcome]

_CONTEXTS: dict[tuple[str, str, str], tuple[str, str, Any]] = {}
"""(namespace, name, uid) -> (repr of spec, repr of annotations, parsed ScalingContext): a scaler's
context is parsed again whenever its spec or annotations read differently."""
_CONTEXTS_MAX = 512


def _scaling_context(scaler: Mapping[str, Any]) -> Any:
    """`scaling_context_from_scaler`, cached per scaler while spec and annotations are unchanged
    (the context reads nothing else; a status write does not re-parse it)."""
    from sim.decisions.bud.context import scaling_context_from_scaler

    meta = scaler.get("metadata")
    spec = scaler.get("spec")
    if not isinstance(meta, dict) or not isinstance(spec, dict):
        return scaling_context_from_scaler(scaler)
    # repr, not ==: 4 == 4.0 == True, but the context keeps e.g. an unparsable value's text
    spec_text, annotations_text = repr(spec), repr(meta.get("annotations"))
    key = (str(meta.get("namespace", "")), str(meta.get("name", "")), str(meta.get("uid", "")))
    hit = _CONTEXTS.get(key)
    if hit is not None and hit[0] == spec_text and hit[1] == annotations_text:
        return hit[2]
    ctx = scaling_context_from_scaler(scaler)
    if len(_CONTEXTS) >= _CONTEXTS_MAX:
        _CONTEXTS.clear()
    _CONTEXTS[key] = (spec_text, annotations_text, ctx)
    return ctx


EventSink = Callable[[dict[str, Any]], None]
HpaHook = Callable[[Mapping[str, Any], float], None]


def _cost_alternative(call: AlgorithmCall, request: Any) -> dict[Quirk, Any]:
    """The request with the cost metrics Quirk.COST_PROVIDER_CASE_SENSITIVE off would give, when they
    differ, so the algorithm can report the quirk if it changed the decision."""
    if Quirk.COST_PROVIDER_CASE_SENSITIVE not in call.quirks:
        return {}
    from sim.decisions.bud import types as bt
    from sim.decisions.bud_controller.pipeline import collect_cost_metrics

    config = (call.scaler.get("spec") or {}).get("costConfig")
    alt = collect_cost_metrics(config, call.inputs.current_replicas, cost_provider_case_sensitive=False)
    if alt == call.inputs.cost_metrics:
        return {}
    cost = None
    if alt is not None:
        cost = bt.CostMetrics(
            current_cost_per_hour=alt.current_cost_per_hour,
            budget_per_hour=alt.budget_per_hour,
            per_replica_cost_per_hour=alt.per_replica_cost_per_hour,
        )
    return {Quirk.COST_PROVIDER_CASE_SENSITIVE: replace(request, cost_metrics=cost)}


def bud_algorithm(call: AlgorithmCall) -> AlgorithmOutcome:
    """Adapter onto sim/decisions/bud (KPA and BudScaler): the one place that knows its API.

    # upstream: autoscaler.go Scale (building algorithm.ScalingRequest, algo.ComputeRecommendation)
    """
    from sim.decisions.bud import types as bt
    from sim.decisions.bud.recommend import compute_recommendation

    x = call.inputs
    hint = x.schedule_hint
    prediction = call.prediction if hint is None else None
    request = bt.ScalingRequest(
        current_replicas=x.current_replicas,
        ready_pod_count=x.ready_pod_count,
        starting_pod_count=x.starting_pod_count,
        metric_snapshots={
            m: bt.MetricSnapshot(average=s.average, count=s.count, timestamp=call.now)
            for m, s in x.metric_snapshots.items()
        },
        gpu_metrics=None
        if x.gpu_metrics is None
        else bt.GPUMetrics(
            memory_utilization=x.gpu_metrics.memory_utilization,
            compute_utilization=x.gpu_metrics.compute_utilization,
            gpu_count=x.gpu_metrics.gpu_count,
        ),
        cost_metrics=None
        if x.cost_metrics is None
        else bt.CostMetrics(
            current_cost_per_hour=x.cost_metrics.current_cost_per_hour,
            budget_per_hour=x.cost_metrics.budget_per_hour,
            per_replica_cost_per_hour=x.cost_metrics.per_replica_cost_per_hour,
        ),
        prediction_data=prediction
        if hint is None
        else bt.PredictionData(
            predicted_replicas=hint.target_replicas,
            confidence=1.0,
            is_schedule_hint=True,
            schedule_hint_name=hint.name,
            source="schedule",
            reason=hint.reason,
        ),
        last_scale_time=call.last_scale_time,
    )
    alternatives = _cost_alternative(call, request)
    if prediction is not None:
        for quirk, alt in call.prediction_alternatives.items():
            alternatives[quirk] = replace(request, prediction_data=alt)
    try:
        rec = compute_recommendation(
            _scaling_context(call.scaler),
            request,
            now=call.now,
            quirks=call.quirks,
            state=call.state,
            input_alternatives=alternatives,
        )
    except bt.RecommendationError as err:
        raise ReconcileFailed(f"scaling failed: failed to compute recommendation: {err}") from err
    return AlgorithmOutcome(
        desired=int(rec.desired_replicas),
        reason=rec.message,
        state=rec.state,
        details={
            "reasonCode": str(rec.reason),
            "direction": str(rec.direction),
            "inPanicMode": rec.in_panic_mode,
            "metricUsed": rec.metric_used,
            "currentMetricValue": rec.current_metric_value,
            "targetMetricValue": rec.target_metric_value,
            "quirksTriggered": [str(q) for q in rec.quirks_triggered],
            "steps": [[st.name, st.replicas] for st in rec.steps],
        },
    )


def validate_scaler(spec: Mapping[str, Any]) -> str | None:
    """The validation message, or None. # upstream: budaiscaler_controller.go validateScaler"""
    if not (spec.get("scaleTargetRef") or {}).get("name"):
        return "scaleTargetRef.name is required"
    if not spec.get("metricsSources"):
        return "at least one metric source is required"
    max_r = int(spec.get("maxReplicas") or 0)
    if max_r < 1:
        return "maxReplicas must be at least 1"
    min_r = spec.get("minReplicas")
    min_r = 1 if min_r is None else int(min_r)
    if min_r > max_r:
        return f"minReplicas ({min_r}) cannot be greater than maxReplicas ({max_r})"
    return None


def _sample_value(sample: Any) -> float | None:
    if sample is None:
        return None
    if isinstance(sample, int | float):
        return float(sample)
    return float(sample.value)


class BudAIScalerReconciler:
    """Reconciles BudAIScalers. Reads only from informer caches, writes only through the API server."""

    name = CONTROLLER_NAME

    def __init__(
        self,
        sim: Simulation,
        api: Any,
        informers: Any,
        metrics: MetricsProvider,
        quirks: QuirkSet,
        *,
        events: EventSink | None = None,
        algorithm: AlgorithmFn | None = None,
        activation: ActivationSource | None = None,
        hpa_hook: HpaHook | None = None,
    ) -> None:
        self.sim = sim
        self.api = api
        self.informers = informers
        self.metrics = metrics
        self.quirks = quirks
        self.events: EventSink = events or (lambda _e: None)
        self.algorithm: AlgorithmFn = algorithm or bud_algorithm
        self.activation = activation
        self.hpa_hook = hpa_hook
        self._state: dict[tuple[str, str], Any] = {}
        self._hint_book: tuple[ScheduleHint, ...] = ()
        self._seconds_cache: dict[str, float] = {}
        self._refs: dict[str, ScalerRef] = {}
        self._verdicts: dict[tuple[Any, ...], Any] = {}
        """upstream: one Predictor per AutoScaler, shared by every scaler; hints deduplicated by name."""
        self.prediction = PredictionRuntime(api, informers, quirks, sim.wall_time)
        """The predictor book and learning systems of this controller process (sim/controllers/bud_learning.py)."""

    def restart(self) -> None:
        """What a restart of the controller process loses: everything held in memory (algorithm
        states, the schedule-hint book, caches, the predictor's histories, the learning systems).
        What survives is what the API server holds: the scalers' status (learningStatus included)
        and, where it was saved, each scaler's learning ConfigMap, read back on first use."""
        self._state.clear()
        self._hint_book = ()
        self._seconds_cache.clear()
        self._refs.clear()
        self._verdicts.clear()
        self.prediction = PredictionRuntime(self.api, self.informers, self.quirks, self.sim.wall_time)

    # --- helpers ---------------------------------------------------------------------------

    def _cache_get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The cached snapshot, read-only (callers deep-copy before changing anything)."""
        obj: dict[str, Any] | None = self.informers.informer(kind).peek(namespace, name)
        return obj

    def _emit(self, now: float, event: str, scaler: Mapping[str, Any], **fields: Any) -> None:
        meta = scaler.get("metadata") or {}
        self.events(
            {
                "t": now,
                "actor": self.name,
                "event": event,
                "scaler": f"{meta.get('namespace', '')}/{meta.get('name', '')}",
                **fields,
            }
        )

    def _set_ready(
        self, scaler: dict[str, Any], now: float, status: str, reason: ReadyReason, message: str
    ) -> dict[str, Any]:
        """upstream updateCondition: compute, then Status().Update; a failed status write is ignored."""
        new_status = update_condition(
            scaler.get("status") or {},
            CONDITION_READY,
            status,
            reason.value,
            message,
            self.sim.timestamp(now),
            sticky_reason=(Quirk.CONDITION_REASON_STICKY in self.quirks),
        )
        return self._write_status(scaler, new_status)

    def _write_status(self, scaler: dict[str, Any], new_status: dict[str, Any]) -> dict[str, Any]:
        if new_status == (scaler.get("status") or {}):
            return scaler  # nothing changed: a real API server would not bump the resourceVersion
        # a shallow copy is enough for the request: the API server copies what it is given
        obj = {**scaler, "status": new_status}
        try:
            written: dict[str, Any] = self.api.update_status(obj, actor=self.name)
        except ApiError:
            # upstream logs at V(4) and carries on with its in-memory copy
            return copy.deepcopy(obj)
        return written

    def _seconds(self, rfc3339: str | None) -> float | None:
        if not rfc3339:
            return None
        secs = self._seconds_cache.get(rfc3339)
        if secs is None:
            t = datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=self.sim.epoch.tzinfo)
            secs = (t - self.sim.epoch).total_seconds()
            if len(self._seconds_cache) >= 1024:
                self._seconds_cache.clear()
            self._seconds_cache[rfc3339] = secs
        return secs

    # --- reconcile -------------------------------------------------------------------------

    def reconcile(self, req: Request, now: float) -> Result:
        cached = self._cache_get("BudAIScaler", req.namespace, req.name)
        if cached is None:
            self._state.pop((req.namespace, req.name), None)
            return Result()
        # The cached snapshot is read-only: every path below that changes the scaler copies it
        # first (finalizers, deletion, the HPA hook) and status writes build a new object.
        scaler = cached
        meta = scaler.get("metadata") or {}
        spec = scaler.get("spec") or {}

        if meta.get("deletionTimestamp"):
            return self._handle_deletion(copy.deepcopy(scaler), now)

        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER not in finalizers:
            scaler = copy.deepcopy(cached)
            scaler.setdefault("metadata", {})["finalizers"] = [*finalizers, FINALIZER]
            self.api.update(scaler, actor=self.name)  # Conflict -> backoff, as upstream
            self._emit(now, "finalizer-added", scaler)
            return Result(requeue=True)

        problem = validate_scaler(spec)
        if problem is not None:
            self._emit(now, "validation-failed", scaler, message=problem)
            self._set_ready(scaler, now, "False", ReadyReason.VALIDATION_FAILED, problem)
            return Result(requeue_after=REQUEUE_AFTER)

        verdict = self._check_conflicts(scaler)
        if verdict is not None:
            self._emit(
                now,
                "conflict",
                scaler,
                message=verdict.message,
                winner=verdict.winner,
                peers=list(verdict.peers),
            )
            self._set_ready(scaler, now, "False", ReadyReason.CONFLICT_DETECTED, verdict.message)
            return Result(requeue_after=REQUEUE_AFTER)

        strategy = str(spec.get("scalingStrategy", ""))
        try:
            if strategy == Strategy.HPA:
                scaler = self._reconcile_hpa(scaler, now)
            elif strategy in (Strategy.KPA, Strategy.BUD_SCALER):
                scaler = self._reconcile_custom(scaler, now)
            else:
                raise ReconcileFailed(f"unknown scaling strategy: {strategy}")
        except ApiError as err:
            message = str(err)
            self._emit(now, "reconcile-failed", scaler, message=message, error=type(err).__name__)
            self._set_ready(scaler, now, "False", ReadyReason.RECONCILIATION_FAILED, message)
            raise

        self._set_ready(scaler, now, "True", ReadyReason.SCALER_READY, "BudAIScaler is ready and operating")
        return Result(requeue_after=REQUEUE_AFTER)

    def _handle_deletion(self, scaler: dict[str, Any], now: float) -> Result:
        """# upstream: budaiscaler_controller.go handleDeletion"""
        meta = scaler["metadata"]
        if (scaler.get("spec") or {}).get("scalingStrategy") == Strategy.HPA:
            hpa_name = hpa_build.hpa_name(str(meta.get("name", "")))
            if (
                self._cache_get("HorizontalPodAutoscaler", str(meta.get("namespace", "")), hpa_name)
                is not None
            ):
                with contextlib.suppress(NotFound):
                    self.api.delete(
                        "HorizontalPodAutoscaler", meta.get("namespace", ""), hpa_name, actor=self.name
                    )
                self._emit(now, "hpa-deleted", scaler, hpa=hpa_name)
        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER in finalizers:
            meta["finalizers"] = [f for f in finalizers if f != FINALIZER]
            self.api.update(scaler, actor=self.name)
            self._emit(now, "finalizer-removed", scaler)
        self._state.pop((meta.get("namespace", ""), meta.get("name", "")), None)
        return Result()

    def _ref(self, obj: Mapping[str, Any]) -> tuple[str, ScalerRef]:
        """(identity text, ScalerRef): the ref is rebuilt only when a field it reads changes (a
        status write, the common case, changes none of them)."""
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        sub = spec.get("subTargetSelector") or {}
        text = repr(
            (
                meta.get("namespace", ""),
                meta.get("name", ""),
                meta.get("creationTimestamp", ""),
                ref.get("kind", ""),
                ref.get("name", ""),
                sub.get("roleName"),
            )
        )
        hit = self._refs.get(text)
        if hit is None:
            if len(self._refs) >= 4096:
                self._refs.clear()
            hit = self._refs[text] = ScalerRef.from_object(obj)
        return text, hit

    def _check_conflicts(self, scaler: Mapping[str, Any]) -> Any:
        me_text, me = self._ref(scaler)
        others = [self._ref(o) for o in self.informers.informer("BudAIScaler").peek_list(me.namespace)]
        ds_roles: dict[tuple[str, str], list[str]] = {}
        for ds in self.informers.informer(DS_KIND).peek_list(me.namespace):
            m = ds.get("metadata") or {}
            ds_roles[(str(m.get("namespace", "")), str(m.get("name", "")))] = [
                str(r.get("name")) for r in (ds.get("spec") or {}).get("roles") or []
            ]
        symmetric = Quirk.SYMMETRIC_CONFLICT in self.quirks
        blind = Quirk.CONFLICT_BLIND_TO_GENERATED_DEPLOYMENT in self.quirks
        # check_conflict is a pure function of these: decide again only when one of them differs
        key = (me_text, tuple(t for t, _ in others), repr(ds_roles), symmetric, blind)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = check_conflict(
                me,
                [r for _, r in others],
                symmetric=symmetric,
                blind_to_generated_deployment=blind,
                ds_roles=ds_roles,
            )
            if len(self._verdicts) >= 1024:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict if verdict.conflicted else None

    def _reconcile_hpa(self, scaler: dict[str, Any], now: float) -> dict[str, Any]:
        """Create or update the `<name>-hpa` HorizontalPodAutoscaler, then copy its scale back.

        The native HPA controller (sim/controllers/hpa.py) does the scaling. A `hpa_hook` replaces
        this whole step when given.
        # upstream: budaiscaler_controller.go reconcileHPA, updateStatusFromHPA
        """
        if self.hpa_hook is not None:
            # The hook copies the HPA's status into the dict it is given; write what it changed.
            scaler = copy.deepcopy(scaler)  # never the informer's snapshot
            before = copy.deepcopy(scaler.get("status") or {})
            self.hpa_hook(scaler, now)
            after = copy.deepcopy(scaler.get("status") or {})
            scaler["status"] = before
            return self._write_status(scaler, after)
        drops_role = Quirk.HPA_TARGETS_DS_DROPS_ROLE in self.quirks
        try:
            desired = hpa_build.build_hpa(scaler, drops_role)
        except hpa_build.BuildError as err:
            raise ReconcileFailed(f"failed to build HPA: {err}") from err
        hpa_meta = desired["metadata"]
        existing = self._cache_get("HorizontalPodAutoscaler", hpa_meta["namespace"], hpa_meta["name"])
        try:
            if existing is None:
                self.api.create(desired, actor=self.name)
                self._emit(now, "hpa-created", scaler, hpa=hpa_meta["name"])
            else:
                updated = hpa_build.update_hpa_spec(existing, scaler, drops_role)
                if updated != existing:
                    self.api.update(updated, actor=self.name)
        except ApiError as err:
            verb = "create" if existing is None else "update"
            raise ReconcileFailed(f"failed to {verb} HPA: {err}") from err
        hpa = self._cache_get("HorizontalPodAutoscaler", hpa_meta["namespace"], hpa_meta["name"])
        if hpa is None:
            return scaler  # upstream: Get fails -> status left as is
        new_status = hpa_build.scaler_status_from_hpa(scaler.get("status") or {}, hpa.get("status") or {})
        return self._write_status(scaler, new_status)

    def _schedule_hints(self, spec: Mapping[str, Any]) -> tuple[ScheduleHint, ...] | None:
        """upstream loadScheduleHints: every scaler's hints go into one shared predictor book (first
        name wins, never updated or removed). None: each scaler sees only its own current hints."""
        if Quirk.SCHEDULE_HINTS_SHARED_ACROSS_SCALERS not in self.quirks:
            return None
        self._hint_book = add_schedule_hints(
            self._hint_book, hints_from_spec(list(spec.get("scheduleHints") or []))
        )
        return self._hint_book

    def _reconcile_custom(self, scaler: dict[str, Any], now: float) -> dict[str, Any]:
        """# upstream: budaiscaler_controller.go reconcileCustomScaler + autoscaler.go Scale"""
        meta = scaler["metadata"]
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        spec = scaler.get("spec") or {}
        view = resolve_scale(scaler, self._cache_get)
        if isinstance(view, TargetError):
            raise ReconcileFailed(f"scaling failed: {view.message}")

        pods = self.informers.informer("Pod").peek_list(ns, {"matchLabels": dict(view.selector)})

        def read(pod: str, metric: str) -> float | None:
            return _sample_value(self.metrics.pod_metric(ns, pod, metric, now))

        collect = self._source_collector(ns, now)
        queued: float | None = None
        if self.activation is not None and view.kind == DS_KIND and view.role_name:
            queued = self.activation.queued(ns, view.name, view.role_name, now)
        inputs = build_scaling_inputs(
            spec=spec,
            current_replicas=view.spec_replicas,
            pods=pods,
            read=read,
            wall_now=self.sim.wall_time(now),
            schedule_hints=self._schedule_hints(spec),
            no_scale_from_zero=Quirk.NO_SCALE_FROM_ZERO in self.quirks,
            activation_queue=queued,
            collect=collect,
            cost_provider_case_sensitive=Quirk.COST_PROVIDER_CASE_SENSITIVE in self.quirks,
        )
        status = scaler.get("status") or {}
        key = (ns, name)
        averages = {m: inputs.metric_snapshots[m].average for m in sorted(inputs.metric_snapshots)}
        predicted = None
        if prediction_enabled(spec):
            predicted = self.prediction.predict(scaler, averages, now)
        outcome = self.algorithm(
            AlgorithmCall(
                scaler=scaler,
                strategy=str(spec.get("scalingStrategy")),
                inputs=inputs,
                last_scale_time=self._seconds(status.get("lastScaleTime")),
                now=now,
                quirks=self.quirks,
                state=self._state.get(key),
                prediction=None if predicted is None else predicted.data,
                prediction_alternatives={} if predicted is None else predicted.without,
            )
        )
        desired, reason = outcome.desired, outcome.reason
        woke, why = apply_activation(desired, inputs, int(spec.get("maxReplicas") or 0))
        if why is not None:
            desired, reason = woke, why

        decision: dict[str, Any] = {
            "target": self._describe(view),
            "current": view.spec_replicas,
            "desired": desired,
            "reason": reason,
            "inputs": inputs.model_dump(by_alias=True, mode="json"),
            "details": dict(outcome.details),
        }
        scaled = False
        write = "none"
        if desired != view.spec_replicas:
            try:
                write = "ok" if self._set_scale(view, desired) else "noop"
            except ApiError as err:
                # The decision is not lost: the retry re-reads the caches and decides again.
                self._emit(now, "decision", scaler, **decision, scaled=False, write=err.reason.value)
                raise ReconcileFailed(f"scaling failed: failed to set scale: {err}") from err
            scaled = (
                True  # upstream: Scaled = true once SetScale returns nil (even if it found nothing to do)
            )
        self._state[key] = outcome.state
        if predicted is not None:
            decision["prediction"] = prediction_facts(predicted, inputs, outcome)
        if learning_enabled(spec):
            # upstream: request.PredictionData (a hint's floor, the time series, or none)
            hint_data = inputs.schedule_hint
            data_replicas: int | None = None
            if hint_data is not None and (predicted is not None or spec.get("scheduleHints")):
                data_replicas = hint_data.target_replicas
            elif predicted is not None and predicted.data is not None:
                data_replicas = predicted.data.predicted_replicas

            def emit(event: str, **fields: Any) -> None:
                self._emit(now, event, scaler, **fields)

            decision["learning"] = self.prediction.feedback(
                scaler,
                averages=averages,
                current=view.spec_replicas,
                desired=desired,
                predicted=data_replicas,
                now=now,
                emit=emit,
            )
        self._emit(now, "decision", scaler, **decision, scaled=scaled, write=write)

        new_status = record_scale_result(
            status,
            timestamp=self.sim.timestamp(now),
            current=view.spec_replicas,
            desired=desired,
            scaled=scaled,
            reason=reason,
            algorithm=str(spec.get("scalingStrategy")),
            actual_scale_is_desired=(Quirk.ACTUAL_SCALE_IS_DESIRED in self.quirks),
            observed_replicas=view.status_replicas,
        )
        if learning_enabled(spec):
            learning_status = self.prediction.learning_status(scaler)
            if learning_status is not None:
                new_status = {**new_status, "learningStatus": learning_status}
        return self._write_status(scaler, new_status)

    def _source_collector(self, namespace: str, now: float) -> SourceCollector | None:
        """The load model's per-source-type collector, when the metrics provider has one."""
        collect_fn = getattr(self.metrics, "collect", None)
        if collect_fn is None:
            return None
        engine_unused = Quirk.INFERENCE_ENGINE_MAPPING_UNUSED in self.quirks
        custom_resource = Quirk.CUSTOM_SOURCE_USES_RESOURCE_FETCHER in self.quirks

        def collect(source: Mapping[str, Any], running: Sequence[Mapping[str, Any]]) -> MetricSnapshot | None:
            snap = collect_fn(
                source,
                list(running),
                now,
                engine_mapping_unused=engine_unused,
                custom_uses_resource_fetcher=custom_resource,
            )
            if getattr(snap, "error", None):
                return None
            values = {str(k): float(v.value) for k, v in sorted(snap.values.items())}
            return MetricSnapshot(
                values=values,
                average=float(snap.average),
                sum=float(snap.total),
                min=float(snap.minimum),
                max=float(snap.maximum),
                count=int(snap.count),
            )

        return collect

    @staticmethod
    def _describe(view: ScaleView) -> str:
        base = f"{view.kind}/{view.namespace}/{view.name}"
        return f"{base}/{view.role_name}" if view.role_name else base

    def _set_scale(self, view: ScaleView, replicas: int) -> bool:
        """Update the target with the cached object's resourceVersion. # upstream: workload_scale.go SetScale"""
        cached = self._cache_get(view.kind, view.namespace, view.name)
        if cached is None:
            raise ReconcileFailed(f"failed to set scale: {view.kind} {view.namespace}/{view.name} not found")
        obj = scaled_object(cached, view.role_name, replicas)
        if obj is None:
            return False
        self.api.update(obj, actor=self.name)
        return True


def prediction_facts(predicted: Any, inputs: ScalingInputs, outcome: AlgorithmOutcome) -> dict[str, Any]:
    """What the decision event records about the prediction (summary.json and the report's plot read it).

    `used`: the prediction passed budscaler.go applyPredictionAdjustment's gate (confidence >= 0.7,
    predicted replicas > 0) and was blended in; `changed`: the blend changed the replica count."""
    from sim.decisions.bud.budscaler import PREDICTION_MIN_CONFIDENCE

    series = predicted.series
    data = predicted.data
    steps = [tuple(s) for s in (outcome.details or {}).get("steps") or []]
    changed = False
    for i, (step, value) in enumerate(steps):
        if step == "prediction" and i > 0:
            changed = value != steps[i - 1][1]
    hint = inputs.schedule_hint is not None
    used = (
        data is not None
        and not hint
        and data.confidence >= PREDICTION_MIN_CONFIDENCE
        and data.predicted_replicas > 0
    )
    return {
        "metric": None if series is None else series.metric,
        "observed": predicted.observed,
        "predictedValue": None if series is None else series.predicted_value,
        "predictedReplicas": None if data is None else data.predicted_replicas,
        "confidence": None if data is None else data.confidence,
        "historySize": None if series is None else series.history_size,
        "seasonalRatio": None if series is None else series.seasonal_ratio,
        "scheduleHint": hint,
        "used": bool(used),
        "changed": bool(changed),
    }


def generation_or_deletion_changed(event: InformerEvent) -> bool:
    """GenerationChangedPredicate as a real API server makes it behave: marking an object with
    finalizers for deletion bumps metadata.generation there (k8s apiserver registry/rest/delete.go
    BeforeDelete), so the deletion passes the filter; the fake API server does not bump it, so the
    newly set deletionTimestamp is checked explicitly."""
    if generation_changed(event):
        return True
    old = event.old or {}
    return bool(event.obj["metadata"].get("deletionTimestamp")) and not (old.get("metadata") or {}).get(
        "deletionTimestamp"
    )


def start_budaiscaler_controller(
    sim: Simulation,
    api: Any,
    informers: Any,
    metrics: MetricsProvider,
    quirks: QuirkSet,
    *,
    events: EventSink | None = None,
    algorithm: AlgorithmFn | None = None,
    activation: ActivationSource | None = None,
    hpa_hook: HpaHook | None = None,
    reconcile_cost: float = 0.0,
) -> BudAIScalerReconciler:
    """Wire the reconciler into the controller runtime and start it."""
    reconciler = BudAIScalerReconciler(
        sim,
        api,
        informers,
        metrics,
        quirks,
        events=events,
        algorithm=algorithm,
        activation=activation,
        hpa_hook=hpa_hook,
    )
    Controller(
        sim,
        reconciler,
        informers,
        for_kind="BudAIScaler",
        owns=("HorizontalPodAutoscaler",),
        reconcile_cost=reconcile_cost,
        # upstream: SetupWithManager ... WithEventFilter(predicate.GenerationChangedPredicate{})
        for_predicates=(generation_or_deletion_changed,),
        owns_predicates=(generation_changed,),
    ).start()
    return reconciler


__all__: Sequence[str] = (
    "FINALIZER",
    "REQUEUE_AFTER",
    "AlgorithmCall",
    "AlgorithmFn",
    "AlgorithmOutcome",
    "BudAIScalerReconciler",
    "ReconcileFailed",
    "start_budaiscaler_controller",
    "validate_scaler",
)
