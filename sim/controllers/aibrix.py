"""AIBrix's PodAutoscaler controller (KPA/APA strategies) as a thin wrapper.

Every PodAutoscaler (`autoscaling.aibrix.ai/v1alpha1`) is reconciled when it changes and every 10 s
(upstream's resync): resolve the target (a Deployment, or a DisaggregatedService role through
`subTargetSelector.roleName` as for StormService roles upstream), read the named metric from each
pod's /metrics endpoint, run `sim.decisions.aibrix.autoscaler.compute_scale_decision`, write the
replicas and the status.

# upstream: vllm-project/aibrix pkg/controller/podautoscaler/podautoscaler_controller.go
#           Reconcile, reconcileCustomPA, computeScaleDecision, setStatus; Run (DefaultResyncInterval)
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from typing import Any

from model.quirks import QuirkSet
from sim.apiserver.errors import ApiError
from sim.clock import Simulation
from sim.controllers.refscalers_common import EventSink, TargetAccess, pod_ready, sample_value
from sim.decisions.aibrix.autoscaler import AutoscalerState, compute_scale_decision
from sim.decisions.aibrix.context import RESYNC_INTERVAL, context_for
from sim.decisions.bud_controller.workload import TargetError
from sim.load.metrics import VLLM_NAME_MAP
from sim.runtime import Controller, Request, Result, generation_changed

API_VERSION = "autoscaling.aibrix.ai/v1alpha1"
CONTROLLER_NAME = "aibrix-podautoscaler-controller"
MAX_HISTORY = 5
"""upstream: podautoscaler_controller.go maxScalingHistorySize."""


def _condition(status: dict[str, Any], ctype: str, value: str, reason: str, message: str, ts: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != ctype]
    old = next((c for c in status.get("conditions") or [] if c.get("type") == ctype), None)
    ltt = old["lastTransitionTime"] if old is not None and old.get("status") == value else ts
    conds.append(
        {"type": ctype, "status": value, "reason": reason, "message": message, "lastTransitionTime": ltt}
    )
    status["conditions"] = sorted(conds, key=lambda c: str(c["type"]))


class AIBrixPodAutoscalerReconciler:
    name = CONTROLLER_NAME

    def __init__(
        self,
        sim: Simulation,
        api: Any,
        informers: Any,
        metrics: Any,
        quirks: QuirkSet,
        events: EventSink | None,
    ) -> None:
        self.sim = sim
        self.api = api
        self.informers = informers
        self.metrics = metrics
        self.quirks = quirks
        self.events = events or (lambda e: None)
        self.access = TargetAccess(api, informers, CONTROLLER_NAME)
        self._state: dict[tuple[str, str], AutoscalerState] = {}

    def _read(self, ns: str, pod: str, metric: str, now: float) -> float | None:
        value = sample_value(self.metrics.pod_metric(ns, pod, metric, now))
        if value is None and metric in VLLM_NAME_MAP:
            value = sample_value(self.metrics.pod_metric(ns, pod, VLLM_NAME_MAP[metric], now))
        return value

    def reconcile(self, req: Request, now: float) -> Result:
        cached = self.access.get("PodAutoscaler", req.namespace, req.name)
        if cached is None or cached.get("apiVersion") != API_VERSION:
            self._state.pop((req.namespace, req.name), None)
            return Result()
        pa = copy.deepcopy(cached)
        status: dict[str, Any] = dict(pa.get("status") or {})
        ts = self.sim.timestamp(now)
        view = self.access.resolve(pa)
        if isinstance(view, TargetError):
            _condition(
                status,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"unable to get target scale: {view.message}",
                ts,
            )
            self._write_status(pa, status)
            self._emit(now, pa, "target-error", message=view.message)
            return Result(requeue_after=RESYNC_INTERVAL)
        _condition(
            status, "AbleToScale", "True", "SucceededGetScale", "successfully retrieved target scale", ts
        )
        ctx, ctx_error = context_for(pa)
        pods = self.access.pods(view)
        samples: dict[str, list[float] | None] = {}
        for src in (pa.get("spec") or {}).get("metricsSources") or []:
            metric = str(src.get("targetMetric", ""))
            values = [
                v
                for p in pods
                if pod_ready(p)
                for v in [self._read(view.namespace, str(p["metadata"]["name"]), metric, now)]
                if v is not None
            ]
            # upstream collectFromPods: an error only when every listed pod failed
            samples[metric] = None if pods and not values else values
        key = (req.namespace, req.name)
        decision, self._state[key] = compute_scale_decision(
            pa, ctx, view.spec_replicas, samples, self._state.get(key, AutoscalerState()), now, self.quirks
        )
        write = "none"
        if decision.should_scale:
            try:
                write = "ok" if self.access.set_scale(view, decision.desired) else "noop"
            except ApiError as err:
                write = err.reason.value
        if decision.valid:
            status["desiredScale"] = decision.desired
            status["actualScale"] = view.spec_replicas
            _condition(status, "ScalingActive", "True", "ValidMetricFound", decision.reason, ts)
        else:
            _condition(status, "ScalingActive", "False", "FailedComputeScale", decision.reason, ts)
        if decision.should_scale and write == "ok":
            status["lastScaleTime"] = ts
            history = list(status.get("scalingHistory") or [])
            history.append(
                {
                    "timestamp": ts,
                    "previousScale": view.spec_replicas,
                    "newScale": decision.desired,
                    "reason": decision.reason,
                    "success": True,
                }
            )
            status["scalingHistory"] = history[-MAX_HISTORY:]
        self._write_status(pa, status)
        self._emit(
            now,
            pa,
            "decision",
            target=f"{view.kind}/{view.namespace}/{view.name}"
            + (f"/{view.role_name}" if view.role_name else ""),
            current=view.spec_replicas,
            desired=decision.desired,
            reason=decision.reason,
            algorithm=decision.algorithm,
            scaled=decision.should_scale,
            write=write,
            quirksTriggered=list(decision.quirks_triggered),
            details={
                "contextError": ctx_error,
                "metrics": [
                    {
                        "metric": m.metric,
                        "stable": m.stable,
                        "panic": m.panic,
                        "replicas": m.replicas,
                        "panicMode": m.in_panic,
                    }
                    for m in decision.per_metric
                ],
            },
        )
        return Result(requeue_after=RESYNC_INTERVAL)

    def _write_status(self, pa: dict[str, Any], status: dict[str, Any]) -> None:
        if status == (pa.get("status") or {}):
            return
        pa["status"] = status
        # upstream logs a failed status update; the next resync writes again
        with contextlib.suppress(ApiError):
            self.api.update_status(pa, actor=CONTROLLER_NAME)

    def _emit(self, now: float, pa: Mapping[str, Any], event: str, **fields: Any) -> None:
        meta = pa.get("metadata") or {}
        self.events(
            {
                "t": now,
                "actor": CONTROLLER_NAME,
                "event": event,
                "scaler": f"{meta.get('namespace', '')}/{meta.get('name', '')}",
                "scalerKind": "AIBrixPodAutoscaler",
                **fields,
            }
        )


def start_aibrix_controller(
    sim: Simulation,
    api: Any,
    informers: Any,
    metrics: Any,
    quirks: QuirkSet,
    *,
    events: EventSink | None = None,
) -> AIBrixPodAutoscalerReconciler:
    reconciler = AIBrixPodAutoscalerReconciler(sim, api, informers, metrics, quirks, events)
    # status writes do not trigger a reconcile (each one would record into the metric windows)
    Controller(
        sim, reconciler, informers, for_kind="PodAutoscaler", for_predicates=(generation_changed,)
    ).start()
    return reconciler


__all__ = ["AIBrixPodAutoscalerReconciler", "start_aibrix_controller"]
