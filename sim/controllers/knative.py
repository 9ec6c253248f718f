"""Knative Serving's KPA driving one role: collector, decider and scaler on the simulated clock.

A Knative `autoscaling.internal.knative.dev/v1alpha1` PodAutoscaler (class kpa.autoscaling.knative.dev)
names the role's Deployment as its scaleTargetRef — or the DisaggregatedService, with the role in the
annotation `scaler.bud.studio/role` (writes then go to the role's replicas, as BudAIScaler and AIBrix
do with subTargetSelector, so the DisaggregatedService controller never reverts them). Every second
the collector records the revision's total concurrency (in-flight requests, running + waiting, summed
over the ready pods, plus the requests buffered in front of the role: the activator's share) and
requests per second; every two seconds the decider decides and the scaler applies it, as Knative's
multiscaler tick and reconciler do.

# upstream: knative/serving pkg/autoscaler/metrics/collector.go (scrape every 1s),
#           pkg/autoscaler/scaling/multiscaler.go (decider tick 2s), pkg/reconciler/autoscaling/kpa/kpa.go
#           ReconcileKind (scaler.scale, SKS mode, computeActiveCondition)
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.apiserver.errors import ApiError
from sim.clock import Simulation
from sim.controllers.refscalers_common import EventSink, TargetAccess, pod_ready, sample_value
from sim.decisions.bud_controller.workload import TargetError
from sim.decisions.knative.collector import CollectorState, Stat
from sim.decisions.knative.config import (
    SCRAPE_INTERVAL,
    TICK_INTERVAL,
    AutoscalerConfig,
    Metric,
    Reachability,
    aggregation_weighted,
    config_with,
    make_decider_spec,
    windows,
)
from sim.decisions.knative.decider import DeciderState, new_decider_state, scale
from sim.decisions.knative.scaler import SCALE_UNKNOWN, Active, PAStatus, next_status
from sim.decisions.knative.scaler import scale as scaler_scale
from sim.load.metrics import RPS, TGI_BATCH_SIZE, TGI_QUEUE_SIZE, VLLM_RUNNING, VLLM_WAITING

ROLE_ANNOTATION = "scaler.bud.studio/role"
"""Simulator extension: with a DisaggregatedService scaleTargetRef, the role to scale."""
CONTROLLER_NAME = "knative-kpa"


@dataclass
class KnativeState:
    collector: CollectorState
    decider: DeciderState | None = None
    desired: int = SCALE_UNKNOWN
    ebc: int = 0
    want: int = SCALE_UNKNOWN
    status: PAStatus = field(default_factory=PAStatus)
    proxy_since: float | None = 0.0
    """SKS in proxy mode since (None: serve mode). A new SKS starts in proxy mode."""


class KnativeKPA:
    """One Knative PodAutoscaler."""

    def __init__(
        self,
        sim: Simulation,
        api: Any,
        informers: Any,
        metrics: Any,
        pa: Mapping[str, Any],
        *,
        activation: Any = None,
        events: EventSink | None = None,
        config: AutoscalerConfig | None = None,
    ) -> None:
        self.sim = sim
        self.metrics = metrics
        self.activation = activation
        self.events = events or (lambda e: None)
        self.pa = dict(pa)
        meta = self.pa.get("metadata") or {}
        self.config = config_overrides(config or AutoscalerConfig(), meta.get("annotations") or {})
        self.namespace = str(meta.get("namespace") or "default")
        self.name = str(meta.get("name"))
        self.annotations: dict[str, str] = {
            str(k): str(v) for k, v in (meta.get("annotations") or {}).items()
        }
        spec = self.pa.get("spec") or {}
        self.reachability = Reachability(spec.get("reachability") or "")
        self.container_concurrency = int(spec.get("containerConcurrency") or 0)
        self.decider_spec = make_decider_spec(
            self.annotations,
            self.config,
            container_concurrency=self.container_concurrency,
            reachability=self.reachability,
        )
        stable, panic = windows(self.annotations, self.config)
        self.state = KnativeState(
            CollectorState.new(stable, panic, weighted=aggregation_weighted(self.annotations))
        )
        self.access = TargetAccess(api, informers, CONTROLLER_NAME)
        role = self.annotations.get(ROLE_ANNOTATION)
        ref = dict(spec.get("scaleTargetRef") or {})
        self._scaler_view: dict[str, Any] = {
            "metadata": {"namespace": self.namespace, "name": self.name},
            "spec": {"scaleTargetRef": ref, **({"subTargetSelector": {"roleName": role}} if role else {})},
        }
        self.last_error: str | None = None
        self._last_key: tuple[Any, ...] = ()

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        self.sim.env.process(self._run())

    def _run(self) -> Generator[Any, Any, None]:
        ticks = 0
        while True:
            yield self.sim.env.timeout(SCRAPE_INTERVAL)
            ticks += 1
            now = self.sim.now
            view = self.access.resolve(self._scaler_view)
            if isinstance(view, TargetError):
                if self.last_error != view.message:
                    self.last_error = view.message
                    self._emit(now, "target-error", message=view.message)
                continue
            pods = [p for p in self.access.pods(view) if pod_ready(p)]
            self._scrape(view, pods, now)
            if ticks % int(TICK_INTERVAL / SCRAPE_INTERVAL) == 0:
                self._reconcile(view, pods, now)

    def _pod_value(self, pod: str, metric: str, now: float) -> float | None:
        return sample_value(self.metrics.pod_metric(self.namespace, pod, metric, now))

    def _scrape(self, view: Any, pods: list[dict[str, Any]], now: float) -> None:
        """The revision-total stat of one scrape. upstream: stats scraper + collection.record."""
        concurrency = rps = 0.0
        for pod in pods:
            name = str(pod["metadata"]["name"])
            running = self._pod_value(name, VLLM_RUNNING, now)
            if running is not None:
                concurrency += running + (self._pod_value(name, VLLM_WAITING, now) or 0.0)
            else:
                concurrency += (self._pod_value(name, TGI_BATCH_SIZE, now) or 0.0) + (
                    self._pod_value(name, TGI_QUEUE_SIZE, now) or 0.0
                )
            rps += self._pod_value(name, RPS, now) or 0.0
        role = self.access.role_of(view)
        if self.activation is not None and role is not None:
            # the activator buffers requests no pod has taken yet and reports them as concurrency
            concurrency += float(self.activation.queued(view.namespace, role[0], role[1], now))
        self.state.collector = self.state.collector.record(
            now, Stat(average_concurrent_requests=concurrency, request_count=rps)
        )

    def _reconcile(self, view: Any, pods: list[dict[str, Any]], now: float) -> None:
        st = self.state
        ready = len(pods)
        if st.decider is None:
            st.decider = new_decider_state(self.decider_spec, ready, now)
        observed = st.collector.stable_and_panic(self.decider_spec.scaling_metric, now)
        result, st.decider = scale(
            self.decider_spec,
            st.decider,
            ready_pods=ready,
            observed_stable=None if observed is None else observed[0],
            observed_panic=None if observed is None else observed[1],
            now=now,
        )
        if result.scale_valid:
            st.desired, st.ebc = result.desired_pod_count, result.excess_burst_capacity
        proxy = st.proxy_since is not None
        decision = scaler_scale(
            st.desired,
            annotations=self.annotations,
            reachability=self.reachability,
            status=st.status,
            current_replicas=view.spec_replicas,
            config=self.config,
            now=now,
            sks_proxy=proxy,
            sks_proxy_for=(now - st.proxy_since) if st.proxy_since is not None else 0.0,
            activator_probe_ok=True,
        )
        write = "none"
        if decision.apply:
            try:
                write = "ok" if self.access.set_scale(view, decision.desired) else "noop"
            except ApiError as err:
                write = err.reason.value  # the next tick decides again
        st.want = decision.desired
        before = st.status.active
        st.status = next_status(
            st.status,
            want=st.want,
            ready=ready,
            annotations=self.annotations,
            reachability=self.reachability,
            config=self.config,
            now=now,
        )
        # upstream: kpa.go ReconcileKind: proxy while unknown and inactive, serve once the pods can
        # absorb a burst (EBC >= 0), otherwise keep the activator in the path.
        if st.want == SCALE_UNKNOWN and st.status.active == Active.FALSE:
            serve = False
        else:
            serve = st.want > 0 and st.ebc >= 0
        if serve:
            st.proxy_since = None
        elif st.proxy_since is None:
            st.proxy_since = now
        key = (
            st.desired,
            decision.desired,
            st.status.active.value,
            "Serve" if serve else "Proxy",
            result.in_panic,
        )
        if decision.apply or key != self._last_key or before != st.status.active:
            self._last_key = key
            self._emit(
                now,
                "decision",
                target=f"{view.kind}/{view.namespace}/{view.name}"
                + (f"/{view.role_name}" if view.role_name else ""),
                current=view.spec_replicas,
                ready=ready,
                desired=decision.desired,
                reason=decision.reason,
                scaled=decision.apply,
                write=write,
                details={
                    "observedStable": None if observed is None else observed[0],
                    "observedPanic": None if observed is None else observed[1],
                    "deciderDesired": result.desired_pod_count,
                    "excessBurstCapacity": st.ebc,
                    "panic": result.in_panic,
                    "active": st.status.active.value,
                    "sksMode": "Serve" if serve else "Proxy",
                },
            )

    def _emit(self, now: float, event: str, **fields: Any) -> None:
        self.events(
            {
                "t": now,
                "actor": CONTROLLER_NAME,
                "event": event,
                "scaler": f"{self.namespace}/{self.name}",
                "scalerKind": "KnativeKPA",
                **fields,
            }
        )

    def summary(self) -> dict[str, Any]:
        st = self.state
        return {
            "kind": "PodAutoscaler (Knative)",
            "strategy": "Knative KPA",
            "target": str(
                ((self._scaler_view.get("spec") or {}).get("scaleTargetRef") or {}).get("name", "?")
            )
            + (f"/{self.annotations[ROLE_ANNOTATION]}" if ROLE_ANNOTATION in self.annotations else ""),
            "desired": st.desired,
            "actual": st.want,
            "conditions": [{"type": "Active", "status": st.status.active.value}],
            "decider": {
                "targetValue": self.decider_spec.target_value,
                "totalValue": self.decider_spec.total_value,
                "panicThreshold": self.decider_spec.panic_threshold,
                "stableWindow": self.decider_spec.stable_window,
                "scalingMetric": self.decider_spec.scaling_metric,
            },
        }


def config_overrides(base: AutoscalerConfig, annotations: Mapping[str, Any]) -> AutoscalerConfig:
    """Simulator extension: `autoscaling.knative.dev/max-scale-up-rate` and `max-scale-down-rate` on the
    PodAutoscaler override config-autoscaler's cluster-wide values for it (validated at admission)."""
    changes: dict[str, float] = {}
    for key, field_name in (
        ("max-scale-up-rate", "MaxScaleUpRate"),
        ("max-scale-down-rate", "MaxScaleDownRate"),
    ):
        raw = annotations.get(f"autoscaling.knative.dev/{key}")
        if raw is not None:
            changes[field_name] = float(str(raw))
    return config_with(base, changes) if changes else base


def start_knative_controllers(
    sim: Simulation,
    api: Any,
    informers: Any,
    metrics: Any,
    pas: Sequence[Mapping[str, Any]],
    *,
    activation: Any = None,
    events: EventSink | None = None,
) -> list[KnativeKPA]:
    """One KnativeKPA per Knative PodAutoscaler manifest, started."""
    out = []
    for pa in pas:
        k = KnativeKPA(sim, api, informers, metrics, pa, activation=activation, events=events)
        k.start()
        out.append(k)
    return out


__all__ = ["KnativeKPA", "Metric", "start_knative_controllers"]
