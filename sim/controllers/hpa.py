"""The Kubernetes HorizontalPodAutoscaler controller as a thin SimPy wrapper, plus the BudAIScaler
HPA-strategy hook that maintains `<name>-hpa`.

Each HPA is synced every `sync_period` (15 s) from its creation on, as kube-controller-manager's
work queue with a fixed-interval rate limiter does: read the HPA from the informer, GET the target's
scale (a DisaggregatedService has none: FailedGetScale), list its pods from the informer, read the
metrics, call the pure `sim.decisions.hpa.controller.reconcile`, then PUT the scale and the status.
# upstream: kubernetes pkg/controller/podautoscaler/horizontal.go (Run, enqueueHPA, processNextWorkItem)"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from model.quirks import Quirk, QuirkSet
from sim.apiserver.errors import ApiError, NotFound, Unsupported
from sim.apiserver.selectors import selector_matches
from sim.clock import Simulation
from sim.decisions.hpa.build import (
    BuildError,
    build_hpa,
    hpa_failure_condition,
    hpa_name,
    scaler_status_from_hpa,
    update_hpa_spec,
)
from sim.decisions.hpa.controller import (
    ControllerConfig,
    HPAState,
    ReconcileDecision,
    Scale,
    reconcile,
    rescale_failed,
)
from sim.decisions.hpa.quantity import QuantityError, milli_value
from sim.decisions.hpa.replica_calculator import (
    Container,
    MetricError,
    PodInfo,
    PodMetric,
    RawPodMetrics,
    ReadyCondition,
)

HPA_KIND = "HorizontalPodAutoscaler"
ACTOR = "horizontal-pod-autoscaler"
HOOK_ACTOR = "budaiscaler-controller"

EventSink = Callable[[dict[str, Any]], None]


class HPAMetricsProvider(Protocol):
    """What the HPA reads, as metrics-server and a custom-metrics adapter would serve it. The load
    layer's EngineMetrics (sim/load/metrics.py) provides these; `external_metric` is optional."""

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> Any: ...
    def resource_usage(self, namespace: str, pod: str, resource: str, now: float) -> Any: ...


# --------------------------------------------------------------------------------- conversions


def parse_selector(text: str) -> dict[str, Any]:
    """A label-selector string (scale status.selector) as a LabelSelector dict."""
    # upstream: k8s.io/apimachinery/pkg/labels/selector.go Parse (the subset selector_string emits)
    match_labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    for part in re.findall(r"[^,(]+(?:\([^)]*\))?", text):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if m:
            values = sorted(v.strip() for v in m.group(3).split(",") if v.strip())
            exprs.append(
                {"key": m.group(1), "operator": "In" if m.group(2) == "in" else "NotIn", "values": values}
            )
        elif "!=" in part:
            key, value = part.split("!=", 1)
            exprs.append({"key": key.strip(), "operator": "NotIn", "values": [value.strip()]})
        elif "=" in part:
            key, value = part.replace("==", "=").split("=", 1)
            match_labels[key.strip()] = value.strip()
        elif part.startswith("!"):
            exprs.append({"key": part[1:].strip(), "operator": "DoesNotExist"})
        else:
            exprs.append({"key": part, "operator": "Exists"})
    out: dict[str, Any] = {}
    if match_labels:
        out["matchLabels"] = match_labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _seconds(sim: Simulation, stamp: Any) -> float | None:
    if not stamp:
        return None
    try:
        t = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (t - sim.epoch).total_seconds()


def pod_info(sim: Simulation, pod: Mapping[str, Any]) -> PodInfo:
    """The replica calculator's view of a wire-form Pod."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    ready = None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            transition = _seconds(sim, cond.get("lastTransitionTime"))
            ready = ReadyCondition(
                str(cond.get("status", "Unknown")), -1.0e15 if transition is None else transition
            )
            break
    containers = list(spec.get("containers") or [])
    containers += [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    infos = []
    for c in containers:
        requests: dict[str, int] = {}
        for res, qty in ((c.get("resources") or {}).get("requests") or {}).items():
            try:
                requests[str(res)] = milli_value(qty)
            except QuantityError:
                continue
        infos.append(Container(str(c.get("name", "")), requests))
    return PodInfo(
        name=str(meta.get("name", "")),
        phase=str(status.get("phase", "Pending")),
        deleted=bool(meta.get("deletionTimestamp")),
        start_time=_seconds(sim, status.get("startTime")),
        ready=ready,
        containers=tuple(infos),
    )


@dataclass
class ProviderMetrics:
    """`sim.decisions.hpa.controller.MetricsSource` over the simulation's metrics provider."""

    provider: Any
    namespace: str
    pods: Sequence[PodInfo]
    now: float

    def resource_metrics(self, resource: str) -> Sequence[RawPodMetrics]:
        fetch = getattr(self.provider, "resource_usage", None)
        if fetch is None:
            raise MetricError("the server could not find the requested resource (get pods.metrics.k8s.io)")
        out = []
        for pod in self.pods:
            sample = fetch(self.namespace, pod.name, resource, self.now)
            if sample is None:
                continue
            # metrics-server reports cpu in cores (milli-value = millicores) and memory in bytes
            milli = round(sample.value) if resource == "cpu" else round(sample.value * 1000)
            names = [c.name for c in pod.containers] or ["main"]
            containers = ((names[0], {resource: milli}), *((n, {resource: 0}) for n in names[1:]))
            out.append(
                RawPodMetrics(
                    pod.name,
                    containers,
                    float(sample.timestamp),
                    float(getattr(sample, "window", 0.0) or 15.0),
                )
            )
        return out

    def pods_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Mapping[str, PodMetric]:
        out: dict[str, PodMetric] = {}
        for pod in self.pods:
            sample = self.provider.pod_metric(self.namespace, pod.name, metric, self.now)
            if sample is not None:
                out[pod.name] = PodMetric(round(sample.value * 1000), float(sample.timestamp), 60.0)
        return out

    def object_metric(
        self, metric: str, described_object: Mapping[str, Any], selector: Mapping[str, Any] | None
    ) -> int:
        fetch = getattr(self.provider, "object_metric", None)
        if fetch is None:
            raise MetricError(
                f"the server could not find the metric {metric} for {described_object.get('kind', '')}"
            )
        return round(float(fetch(self.namespace, described_object, metric, self.now)) * 1000)

    def external_metric(self, metric: str, selector: Mapping[str, Any] | None) -> Sequence[int]:
        fetch = getattr(self.provider, "external_metric", None)
        if fetch is None:
            raise MetricError(
                f"the server could not find the requested resource (get {metric}.external.metrics.k8s.io)"
            )
        return [round(float(v) * 1000) for v in fetch(self.namespace, metric, selector, self.now)]


# --------------------------------------------------------------------------------- controller


class HPAController:
    """Per-HPA sync loops on the simulated clock; state (recommendations, scale events) per key."""

    name = ACTOR

    def __init__(
        self,
        sim: Simulation,
        api: Any,
        informers: Any,
        metrics: Any,
        *,
        config: ControllerConfig | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.sim = sim
        self.api = api
        self.informers = informers
        self.metrics = metrics
        self.config = config or ControllerConfig()
        self.events: EventSink = events or (lambda _e: None)
        self.states: dict[tuple[str, str], HPAState] = {}
        self.decisions: list[tuple[float, str, ReconcileDecision]] = []
        """Every sync's decision (t, "ns/name", decision), for reports and tests."""
        self._loops: set[tuple[str, str]] = set()
        self.selectors: dict[tuple[str, str], dict[str, Any] | None] = {}
        """hpaSelectors: each HPA's last parsed scale selector (None = matches nothing until synced)."""

    def start(self) -> HPAController:
        informer = self.informers.informer(HPA_KIND)
        informer.add_handler(self._on_event)
        for obj in informer.peek_list():
            self._ensure_loop(obj)
        return self

    def _on_event(self, event: Any) -> None:
        etype = str(getattr(event.type, "value", event.type))
        if etype == "DELETED":
            meta = event.obj.get("metadata") or {}
            key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
            # upstream: horizontal.go reconcileKey (NotFound: drop recommendations and scale events)
            self.states.pop(key, None)
            self.selectors.pop(key, None)
            return
        self._ensure_loop(event.obj)

    def _ensure_loop(self, obj: Mapping[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        self.selectors.setdefault(key, None)  # upstream: enqueueHPA registers labels.Nothing()
        if key not in self._loops:
            self._loops.add(key)
            self.sim.env.process(self._loop(key))

    def _loop(self, key: tuple[str, str]) -> Any:
        # upstream: horizontal.go enqueueHPA / processNextWorkItem with NewDefaultHPARateLimiter(resyncPeriod):
        # first sync one period after the HPA appears, then one period after each sync
        while True:
            yield self.sim.env.timeout(self.config.sync_period)
            if self.informers.informer(HPA_KIND).peek(*key) is None:
                self._loops.discard(key)
                self.states.pop(key, None)
                self.selectors.pop(key, None)
                return
            self.sync(key, self.sim.now)

    def sync(self, key: tuple[str, str], now: float) -> ReconcileDecision | None:
        """One reconcileAutoscaler pass for `key` (public so tests can drive it without the loop)."""
        hpa = self.informers.informer(HPA_KIND).get(*key)
        if hpa is None:
            return None
        namespace, name = key
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        kind, target = str(ref.get("kind", "")), str(ref.get("name", ""))
        scale: Scale | None = None
        scale_error: str | None = None
        try:
            raw_scale = self.api.get_scale(kind, namespace, target, actor=self.name)
            scale = Scale(
                int((raw_scale.get("spec") or {}).get("replicas", 0)),
                int((raw_scale.get("status") or {}).get("replicas", 0)),
                str((raw_scale.get("status") or {}).get("selector", "")),
            )
        except (ApiError, KeyError, ValueError) as err:
            scale_error = str(err)
        except Unsupported:
            # a scaleTargetRef kind no API group serves is the user's input, not a simulator gap:
            # upstream: pkg/controller/podautoscaler/horizontal.go reconcileAutoscaler
            # (RESTMappings fails -> FailedGetScale)
            scale_error = (
                f"unable to determine resource for scale target reference: no matches for kind {kind!r}"
            )
        pods: list[PodInfo] = []
        controlling: list[str] = []
        if scale is not None and scale.selector:
            selector = parse_selector(scale.selector)
            if key in self.selectors:  # upstream: PutSelector only for HPAs registered by enqueueHPA
                self.selectors[key] = selector
            raw_pods = self.informers.informer("Pod").peek_list(namespace, selector)
            pods = [pod_info(self.sim, p) for p in raw_pods]
            controlling = self._controlling(namespace, raw_pods)
        state = self.states.get(key, HPAState())
        source = ProviderMetrics(self.metrics, namespace, pods, now)
        decision = reconcile(
            hpa,
            scale,
            pods,
            source,
            state,
            now,
            self.config,
            scale_error=scale_error,
            controlling_hpas=controlling,
            format_time=self.sim.timestamp,
        )
        if decision.rescale:
            try:
                self.api.update_scale(kind, namespace, target, decision.desired_replicas, actor=self.name)
            except ApiError as err:
                decision = rescale_failed(decision, state, str(err), now, self.sim.timestamp)
        self.states[key] = decision.state
        self._write_status(hpa, decision)
        self.decisions.append((now, f"{namespace}/{name}", decision))
        for ev in decision.events:
            self.events(
                {
                    "t": now,
                    "actor": self.name,
                    "event": f"hpa-{ev.reason}",
                    "hpa": f"{namespace}/{name}",
                    "eventType": ev.type,
                    "reason": ev.reason,
                    "message": ev.message,
                }
            )
        return decision

    def _controlling(self, namespace: str, pods: Sequence[Mapping[str, Any]]) -> list[str]:
        """HPAs (namespace/name) whose tracked selector matches one of the pods."""
        # upstream: horizontal.go hpasControllingPodsUnderSelector
        out = []
        for (ns, name), sel in sorted(self.selectors.items()):
            if ns != namespace or sel is None:
                continue
            if any(selector_matches(sel, (p.get("metadata") or {}).get("labels") or {}) for p in pods):
                out.append(f"{ns}/{name}")
        return out

    def _write_status(self, hpa: dict[str, Any], decision: ReconcileDecision) -> None:
        # upstream: horizontal.go updateStatusIfNeeded (skip the write when nothing changed)
        if decision.status == (hpa.get("status") or {}):
            return
        obj = dict(hpa)
        obj["status"] = decision.status
        try:
            self.api.update_status(obj, actor=self.name)
        except ApiError as err:
            meta = hpa.get("metadata") or {}
            self.events(
                {
                    "t": self.sim.now,
                    "actor": self.name,
                    "event": "hpa-FailedUpdateStatus",
                    "hpa": f"{meta.get('namespace', '')}/{meta.get('name', '')}",
                    "eventType": "Warning",
                    "reason": "FailedUpdateStatus",
                    "message": str(err),
                }
            )


def start_hpa_controller(
    sim: Simulation,
    api: Any,
    informers: Any,
    metrics: Any,
    *,
    config: ControllerConfig | None = None,
    events: EventSink | None = None,
) -> HPAController:
    """Start the simulated kube-controller-manager HPA controller."""
    return HPAController(sim, api, informers, metrics, config=config, events=events).start()


# --------------------------------------------------------------------------------- BudAIScaler hook


def make_budaiscaler_hpa_hook(
    sim: Simulation,
    api: Any,
    quirks: QuirkSet,
    *,
    events: EventSink | None = None,
    surface_hpa_conditions: bool = True,
) -> Callable[[Mapping[str, Any], float], None]:
    """The BudAIScaler controller's HPA strategy: build `<name>-hpa`, create or update it, then copy
    its status back into the scaler (mutating the scaler dict passed in, whose status the
    BudAIScaler controller carries on with). With `surface_hpa_conditions`, a False
    AbleToScale/ScalingActive condition of the HPA (e.g. FailedGetScale) is added to the scaler's
    conditions as `HPAAbleToScale`/`HPAScalingActive` so reports show it; upstream copies no conditions.
    # upstream: pkg/controller/budaiscaler/budaiscaler_controller.go reconcileHPA, updateStatusFromHPA"""
    sink: EventSink = events or (lambda _e: None)
    drops_role = Quirk.HPA_TARGETS_DS_DROPS_ROLE in quirks

    def hook(scaler: Mapping[str, Any], now: float) -> None:
        from sim.controllers.budaiscaler import ReconcileFailed

        meta = scaler.get("metadata") or {}
        namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        try:
            desired = build_hpa(scaler, drops_role)
        except BuildError as err:
            raise ReconcileFailed(f"failed to build HPA: {err}") from err
        spec = scaler.get("spec") or {}
        role_dropped = (
            drops_role
            and (spec.get("scaleTargetRef") or {}).get("kind") == "DisaggregatedService"
            and bool((spec.get("subTargetSelector") or {}).get("roleName"))
        )
        try:
            existing = api.get(HPA_KIND, namespace, hpa_name(name))
        except NotFound:
            api.create(desired, actor=HOOK_ACTOR)
            sink(
                {
                    "t": now,
                    "actor": HOOK_ACTOR,
                    "event": "hpa-created",
                    "scaler": f"{namespace}/{name}",
                    "hpa": f"{namespace}/{hpa_name(name)}",
                    "target": dict(desired["spec"]["scaleTargetRef"]),
                    **({"quirksTriggered": [Quirk.HPA_TARGETS_DS_DROPS_ROLE.value]} if role_dropped else {}),
                }
            )
        else:
            try:
                updated = update_hpa_spec(existing, scaler, drops_role)
            except BuildError as err:
                raise ReconcileFailed(f"failed to update HPA spec: {err}") from err
            if updated != existing:
                api.update(updated, actor=HOOK_ACTOR)
        try:
            hpa = api.get(HPA_KIND, namespace, hpa_name(name))
        except ApiError:
            return
        hpa_status = hpa.get("status") or {}
        status = scaler_status_from_hpa(scaler.get("status") or {}, hpa_status)
        if surface_hpa_conditions:
            conditions = [
                c for c in status.get("conditions") or [] if not str(c.get("type", "")).startswith("HPA")
            ]
            failure = hpa_failure_condition(hpa_status)
            if failure is not None:
                conditions.append(failure)
            status["conditions"] = conditions
        if status == (scaler.get("status") or {}):
            return
        obj = dict(scaler)
        obj["status"] = status
        try:
            written = api.update_status(obj, actor=HOOK_ACTOR)
        except ApiError:
            return  # upstream logs at V(4) and carries on
        if isinstance(scaler, dict):
            # keep the caller's copy current so its own status write does not hit a stale resourceVersion
            scaler["metadata"] = written["metadata"]
            scaler["status"] = written.get("status") or {}

    return hook
