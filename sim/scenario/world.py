"""The simulated world of one scenario: every layer wired together on one Simulation.

Build order: Simulation(seed, start) -> APIServer with model admission and a recording audit log ->
informers -> cluster (nodes, Deployment controller, scheduler, kubelet with per-role lifecycle
stages) -> controllers (DisaggregatedService, BudAIScaler, HPA) -> load (one LoadSystem per
DisaggregatedService fed by the workload) -> manifests applied at t=0 in dependency-friendly order
-> faults scheduled -> a per-interval sampler. The world records the event log, the time series and
the facts the expectations are checked against."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any

from model.quirks import QuirkSet
from model.scenario import (
    ConflictRate,
    ErrorRate,
    FailNode,
    KillPods,
    MetricsOutage,
    RestartController,
    Scenario,
    Synthetic,
    SyntheticShape,
    TraceFormat,
    WatchLatency,
)
from sim.clock import Simulation
from sim.report.events import EventLog
from sim.report.summary import percentiles
from sim.report.timeseries import TimeSeries
from sim.scenario.expectations import RunFacts
from sim.scenario.load import DS_KIND, ResolvedScenario
from sim.scenario.recorder import Recorder

DS_LABEL = "scaler.bud.studio/disaggregated-service"
ROLE_LABEL = "scaler.bud.studio/role"
FAULT_ACTOR = "dsim-fault-injector"
APPLY_ACTOR = "dsim-apply"

# Apply order at t=0: what a `kubectl apply -f` of a folder would do with a sensible ordering
# (cluster-scoped and config first, workloads, then autoscalers that reference them).
KIND_ORDER = {
    "Namespace": 0,
    "Node": 1,
    "Service": 2,
    "Deployment": 3,
    "DisaggregatedService": 4,
    "HorizontalPodAutoscaler": 5,
    "BudAIScaler": 6,
    "PodAutoscaler": 7,
}
KNATIVE_PA_API_VERSION = "autoscaling.internal.knative.dev/v1alpha1"
"""Knative PodAutoscalers are held by their controller, not stored (the API server serves AIBrix's
PodAutoscaler under the same kind name): docs/reference-autoscalers.md."""


class World:
    def __init__(self, resolved: ResolvedScenario) -> None:
        self.resolved = resolved
        self.scenario: Scenario = resolved.scenario
        sc = self.scenario
        self.quirks = QuirkSet(sc.profile, {q.value: v for q, v in sc.quirks.items()})
        self.sim = Simulation(sc.seed, epoch=sc.start)
        self.roles: list[str] = list(resolved.roles)
        self.events = EventLog()
        self.recorder = Recorder(self)
        self.notes: list[str] = []
        self.loads: dict[str, Any] = {}  # DS name -> LoadSystem
        self.latencies: dict[str, list[float]] = {r: [] for r in self.roles}
        self.latencies.update({"_e2e": [], "_ttft": [], "_tpot": []})
        self._load_samples: dict[float, dict[str, Any]] = {}
        # what sim/scenario/answers.py records for the SLO, cost and findings (not in the digest)
        self.answer_records: list[Any] = []
        self.answer_pods: list[tuple[float, dict[str, dict[str, int]]]] = []
        self.answer_failures: list[tuple[float, int]] = []
        self.api: Any = None
        self.informers: Any = None
        self.cluster: Any = None
        self._outages: list[MetricsOutage] = [f for f in sc.faults if isinstance(f, MetricsOutage)]
        self.knative: list[Any] = []

    # ------------------------------------------------------------------ build

    @property
    def now(self) -> float:
        return self.sim.now

    def build(self) -> None:
        from sim.apiserver import APIServer
        from sim.apiserver.admission import model_admission
        from sim.runtime import InformerFactory

        self.api = APIServer(self.sim, admission=model_admission)
        self.recorder.attach(self.api)
        from sim.testing.world_observer import attach_observer

        self.observer = attach_observer(self)  # only when an expectation checks invariants
        self.informers = InformerFactory(self.sim, self.api)
        self._start_cluster()
        self._start_controllers()
        self._start_load()
        self._apply_manifests()
        self._schedule_faults()
        self.sim.env.process(self._sampler())

    def _start_cluster(self) -> None:
        from sim.cluster import start_cluster
        from sim.scenario.cluster import lifecycle_stages, node_objects

        nodes = node_objects(self.scenario.cluster)
        stages = lifecycle_stages(self.scenario.lifecycle)
        self.cluster = start_cluster(self.sim, self.api, self.informers, nodes=nodes, stages=stages)

    def _start_controllers(self) -> None:
        from sim.controllers.budaiscaler import start_budaiscaler_controller
        from sim.controllers.disaggregated import start_disaggregated_controller
        from sim.controllers.hpa import make_budaiscaler_hpa_hook, start_hpa_controller

        sink = self.recorder.controller_event
        start_disaggregated_controller(self.sim, self.api, self.informers, quirks=self.quirks, events=sink)
        metrics = OutageAwareMetrics(self)
        self.bud_reconciler = start_budaiscaler_controller(
            self.sim,
            self.api,
            self.informers,
            metrics,
            self.quirks,
            events=sink,
            activation=QueueActivation(self),
            hpa_hook=make_budaiscaler_hpa_hook(self.sim, self.api, self.quirks, events=sink),
        )
        start_hpa_controller(self.sim, self.api, self.informers, metrics, events=sink)
        self._start_reference_autoscalers(metrics, sink)

    def _start_reference_autoscalers(self, metrics: Any, sink: Any) -> None:
        """Knative KPA (one per Knative PodAutoscaler manifest) and AIBrix's PodAutoscaler controller."""
        from sim.controllers.aibrix import start_aibrix_controller
        from sim.controllers.knative import start_knative_controllers

        start_aibrix_controller(self.sim, self.api, self.informers, metrics, self.quirks, events=sink)
        pas = []
        for m in self.resolved.manifests:
            if m.obj.get("apiVersion") == KNATIVE_PA_API_VERSION:
                pa = copy.deepcopy(m.obj)
                pa.setdefault("metadata", {}).setdefault("namespace", "default")
                pas.append(pa)
        self.knative = start_knative_controllers(
            self.sim, self.api, self.informers, metrics, pas, activation=QueueActivation(self), events=sink
        )

    def _start_load(self) -> None:
        wl = self.scenario.workload
        if wl is None:
            self.notes.append("no workload: the run exercises the control plane only")
            return
        from sim.load import InformerEndpoints, LoadSystem, pipeline_from_service

        ds_objs = [m.obj for m in self.resolved.manifests if m.obj.get("kind") == DS_KIND]
        target = wl.target or self.resolved.ds_names[0]
        ds = next(o for o in ds_objs if o.get("metadata", {}).get("name") == target)
        spec = pipeline_from_service(ds)
        namespace = str(ds.get("metadata", {}).get("namespace") or "default")
        endpoints = InformerEndpoints(self.informers.informer("Pod"), namespace, target, spec.roles)
        kwargs: dict[str, Any] = {}
        if wl.queue_capacity is not None:
            kwargs["buffer"] = wl.queue_capacity
        if wl.queue_timeout is not None:
            kwargs["buffer_timeout"] = wl.queue_timeout
        if wl.routing is not None:
            kwargs["balancing"] = wl.routing
        if wl.client is not None:
            kwargs["client"] = wl.client
        services = {r: dict(v) for r, v in self.scenario.services.items() if r in spec.roles}
        if "kv-transfer" in self.scenario.services:  # the prefill -> decode transfer is not a role
            services["kv-transfer"] = dict(self.scenario.services["kv-transfer"])
        engines = {r: p for r, p in self.resolved.engines.items() if r in spec.roles}
        if engines:
            kwargs["engines"] = engines
        load = LoadSystem(
            self.sim,
            spec,
            self._arrivals(),
            endpoints,
            services,
            sample_interval=self.scenario.sample_interval,
            on_sample=self._on_load_sample,
            on_complete=self._on_complete,
            **kwargs,
        )
        self.loads[target] = load
        load.start()

    def _arrivals(self) -> Iterator[Any]:
        from sim.load import arrivals as arr

        wl = self.scenario.workload
        assert wl is not None
        duration = self.scenario.duration
        source: Iterator[Any]
        if wl.trace is not None:
            path = self.resolved.trace
            assert path is not None
            reader = arr.mooncake_jsonl if wl.trace_format() is TraceFormat.MOONCAKE else arr.azure_csv

            def factory() -> Iterator[Any]:
                return arr.time_scaled(reader(path), 1.0 / wl.time_scale)

            span = max(0.0, duration - wl.start_at) * wl.rate_multiplier
            source = arr.looped(factory, until=span) if wl.loop else arr.limited(factory(), span)
            if wl.rate_multiplier != 1.0:
                source = arr.rate_multiplied(source, wl.rate_multiplier)
        else:
            assert wl.synthetic is not None
            # synthetic shapes are written in scenario time (a step `at: 5m` is at 5 min)
            source = synthetic_arrivals(
                wl.synthetic, wl.start_at, duration, self.sim.seeds.stream("load"), wl.rate_multiplier
            )
            return arr.limited(self._sizes(source), duration)
        if wl.start_at:
            source = arr.shifted(source, wl.start_at)
        return arr.limited(self._sizes(source), duration)

    def _sizes(self, source: Iterator[Any]) -> Iterator[Any]:
        """Token-size distributions of the synthetic shape, and request classes (sim/load/sizes.py)."""
        from sim.load.sizes import SizeDrawer, classified, size_stream, sized

        wl = self.scenario.workload
        assert wl is not None
        files = self.resolved.size_traces
        syn = wl.synthetic
        if syn is not None and not (isinstance(syn.input_tokens, int) and isinstance(syn.output_tokens, int)):
            rng = self.sim.seeds.stream(size_stream(""))
            where = "workload.synthetic"

            def drawer(spec: Any, key: str) -> Any:
                return None if isinstance(spec, int) else SizeDrawer(spec, rng, files.get(f"{where}.{key}"))

            source = sized(
                source, drawer(syn.input_tokens, "inputTokens"), drawer(syn.output_tokens, "outputTokens")
            )
        if wl.classes:
            traces = {k.removeprefix("workload.classes[").replace("].", "."): v for k, v in files.items()}
            source = classified(source, wl.classes, self.sim.seeds.stream, traces)
        return source

    def _on_load_sample(self, sample: Any) -> None:
        from sim.scenario.answers import record_sample

        self._load_samples[round(sample.t, 9)] = {"sample": sample}
        record_sample(self, sample)

    def _on_complete(self, req: Any) -> None:
        from sim.scenario.answers import record_completion

        record_completion(self, req)
        self.latencies["_e2e"].append(req.completed_at - req.arrival)
        if req.first_token_at >= 0:
            self.latencies["_ttft"].append(req.first_token_at - req.arrival)
            if req.output_tokens > 1 and req.completed_at > req.first_token_at:
                self.latencies["_tpot"].append(
                    (req.completed_at - req.first_token_at) / (req.output_tokens - 1)
                )
        for role, stamps in req.stamps.items():
            if role in self.latencies and stamps[2] >= 0 and stamps[0] >= 0:
                self.latencies[role].append(stamps[2] - stamps[0])

    def _apply_manifests(self) -> None:
        ordered = sorted(
            enumerate(self.resolved.manifests),
            key=lambda im: (KIND_ORDER.get(str(im[1].obj.get("kind")), 9), im[0]),
        )
        for _, m in ordered:
            if m.obj.get("apiVersion") == KNATIVE_PA_API_VERSION:
                continue  # held by its KnativeKPA controller (see _start_reference_autoscalers)
            obj = copy.deepcopy(m.obj)
            obj.setdefault("metadata", {}).setdefault("namespace", "default")
            self.api.create(obj, actor=APPLY_ACTOR)

    # ------------------------------------------------------------------ faults

    def _schedule_faults(self) -> None:
        from sim.apiserver import FaultWindow

        for fault in self.scenario.faults:
            if isinstance(fault, ConflictRate):
                self.api.faults.add(
                    FaultWindow(
                        fault.at,
                        fault.until,
                        "conflict",
                        fault.probability,
                        kinds=tuple(fault.kinds) if fault.kinds else None,
                    )
                )
            elif isinstance(fault, ErrorRate):
                self.api.faults.add(
                    FaultWindow(
                        fault.at,
                        fault.until,
                        "timeout" if fault.timeout else "error",
                        fault.probability,
                        verbs=tuple(fault.verbs) if fault.verbs else None,
                        kinds=tuple(fault.kinds) if fault.kinds else None,
                    )
                )
            elif isinstance(fault, WatchLatency):
                self.api.faults.add(
                    FaultWindow(
                        fault.at, fault.until, "latency", 1.0, verbs=("watch",), latency=fault.latency
                    )
                )
            self.sim.env.process(self._fault_process(fault))

    def _fault_process(self, fault: Any) -> Generator[Any, Any, None]:
        yield self.sim.env.timeout(fault.at)
        record: dict[str, Any] = {"t": self.now, "type": "fault", "fault": fault.type}
        if isinstance(fault, KillPods):
            victims = self._pick_pods(fault)
            record["pods"] = victims
            for name, ns in victims:
                try:
                    self.api.delete("Pod", ns, name, actor=FAULT_ACTOR)
                except Exception as exc:  # an injected API fault may hit the injector too
                    record.setdefault("errors", []).append(f"{name}: {exc}")
        elif isinstance(fault, FailNode):
            self.cluster.fail_node(fault.node)
            record["node"] = fault.node
        elif isinstance(fault, RestartController):
            self.bud_reconciler.restart()  # in-memory state lost; the API server's objects stay
            record["controller"] = fault.controller
        else:
            record.update(fault.model_dump(mode="json", by_alias=True, exclude={"type", "at", "name"}))
        self.events.emit(record)
        until = getattr(fault, "until", None)
        if until is not None:
            yield self.sim.env.timeout(until - fault.at)
            self.events.emit({"t": self.now, "type": "fault.end", "fault": fault.type})

    def _pick_pods(self, fault: KillPods) -> list[tuple[str, str]]:
        selector: dict[str, str] = dict(fault.selector or {})
        if fault.role is not None:
            selector[ROLE_LABEL] = fault.role
        pods = [
            p
            for p in self.api.list("Pod", None, {"matchLabels": selector})
            if not p.get("metadata", {}).get("deletionTimestamp")
        ]
        names = sorted((p["metadata"]["name"], p["metadata"].get("namespace", "default")) for p in pods)
        if len(names) <= fault.count:
            return names
        rng = self.sim.seeds.stream("scenario-faults")
        picked = sorted(int(i) for i in rng.choice(len(names), size=fault.count, replace=False))
        return [names[i] for i in picked]

    def metrics_outage(self, pod: str, now: float) -> bool:
        for f in self._outages:
            if f.at <= now < f.until and (f.role is None or self.recorder.role_of_pod(pod) == f.role):
                return True
        return False

    # ------------------------------------------------------------------ run

    def run(self, progress: Callable[[float, Mapping[str, tuple[int, int]]], None] | None = None) -> None:
        """Advance in slices (the same slices with or without a progress bar, so the event
        sequence never depends on the terminal)."""
        duration = float(self.scenario.duration)
        step = max(1.0, duration / 200.0)
        t = 0.0
        while t < duration:
            t = min(duration, t + step)
            self.sim.run(until=t)
            if progress is not None:
                progress(self.now, self.recorder.replica_counts())
        self._final_sample()

    def _sampler(self) -> Generator[Any, Any, None]:
        interval = self.scenario.sample_interval
        while True:
            self.recorder.sample_cluster(self.now)
            yield self.sim.env.timeout(interval)

    def _final_sample(self) -> None:
        """The last instant's cluster state (the sampler's tick at `duration` has not run yet)."""
        if self.now not in self.recorder.cluster_samples:
            self.recorder.sample_cluster(self.now)

    # ------------------------------------------------------------------ results

    def event_log(self) -> EventLog:
        return self.recorder.merged_events()

    def timeseries(self) -> TimeSeries:
        return self.recorder.build_timeseries(self._load_samples)

    def facts(self) -> RunFacts:
        return RunFacts(
            sim_seconds=self.now,
            ts=self.timeseries(),
            first_ready=dict(self.recorder.first_ready),
            scale_events=self.recorder.scale_events,
            conflicts=dict(self.recorder.conflicts),
            latencies=self.latencies,
            requests=self.request_counts(),
            autoscalers=self.autoscaler_summary(),
            violations=self._violations if getattr(self, "observer", None) is not None else None,
        )

    def _violations(self, name: str) -> list[Any]:
        from sim.testing.world_observer import world_violations

        assert self.observer is not None
        return list(world_violations(self, self.observer, [name]))

    def request_counts(self) -> dict[str, int]:
        arrived = completed = dropped = in_flight = timed_out = retries = 0
        for load in self.loads.values():
            acc = load.acc
            arrived += acc.arrived
            completed += acc.completed
            dropped += acc.dropped
            in_flight += acc.in_flight()
            timed_out += acc.timed_out
            retries += acc.retries
        return {
            "arrived": arrived,
            "completed": completed,
            "dropped": dropped,
            "timed_out": timed_out,
            "in_flight": in_flight,
            "retries": retries,
        }

    def latency_summary(self) -> dict[str, Any]:
        return {
            "e2e": percentiles(self.latencies["_e2e"]),
            "ttft": percentiles(self.latencies["_ttft"]),
            "tpot": percentiles(self.latencies["_tpot"]),
        }

    def role_summary(self) -> dict[str, Any]:
        return self.recorder.role_summary(self.latencies)

    def run_notes(self) -> list[str]:
        """Facts a reader of the report must know to interpret it."""
        notes = list(self.notes)
        for k in self.knative:
            notes.append(
                f"Knative PodAutoscaler {k.name} is held by its KPA controller, not stored in the API server "
                "(AIBrix's PodAutoscaler shares the kind name): its state is under autoscalers in summary.json"
            )
        if self.api is not None:
            for obj in self.api.all_objects("BudAIScaler"):
                spec = obj.get("spec") or {}
                if (spec.get("predictionConfig") or {}).get("enabled"):
                    name = (obj.get("metadata") or {}).get("name")
                    notes.append(
                        f"BudAIScaler {name} enables predictionConfig: the controller's predictor starts with "
                        "no history at t=0 (upstream keeps none across restarts), so early predictions have low "
                        "confidence and are ignored below 0.7"
                    )
        return notes

    def autoscaler_summary(self) -> dict[str, Any]:
        """Final state of every BudAIScaler and HorizontalPodAutoscaler: target, strategy, replicas
        and conditions (e.g. ConflictDetected, or an HPA's FailedGetScale surfaced in the scaler)."""
        out: dict[str, Any] = {}
        if self.api is None:
            return out
        for kind in ("BudAIScaler", "HorizontalPodAutoscaler"):
            for obj in self.api.all_objects(kind):
                meta = obj.get("metadata") or {}
                spec = obj.get("spec") or {}
                status = obj.get("status") or {}
                ref = spec.get("scaleTargetRef") or {}
                target = f"{ref.get('kind', '?')}/{ref.get('name', '?')}"
                role = (spec.get("subTargetSelector") or {}).get("roleName")
                entry: dict[str, Any] = {
                    "kind": kind,
                    "target": f"{target}/{role}" if role else target,
                    "conditions": [
                        {k: c.get(k) for k in ("type", "status", "reason", "message")}
                        for c in status.get("conditions") or []
                    ],
                }
                if kind == "BudAIScaler":
                    key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
                    entry["last_decision"] = self.recorder.last_decision.get(key)
                    entry["strategy"] = spec.get("scalingStrategy")
                    entry["desired"] = status.get("desiredScale")
                    entry["actual"] = status.get("actualScale")
                    entry.update(self._prediction_summary(key, obj))
                else:
                    entry["strategy"] = "native HPA"
                    entry["desired"] = status.get("desiredReplicas")
                    entry["actual"] = status.get("currentReplicas")
                out[f"{kind}/{meta.get('namespace', '')}/{meta.get('name', '')}"] = entry
        self._reference_summary(out)
        return dict(sorted(out.items()))

    def _reference_summary(self, out: dict[str, Any]) -> None:
        """AIBrix PodAutoscalers (from the API server) and Knative PodAutoscalers (from their controllers)."""
        for obj in self.api.all_objects("PodAutoscaler"):
            meta = obj.get("metadata") or {}
            spec = obj.get("spec") or {}
            status = obj.get("status") or {}
            ref = spec.get("scaleTargetRef") or {}
            role = (spec.get("subTargetSelector") or {}).get("roleName")
            target = f"{ref.get('kind', '?')}/{ref.get('name', '?')}"
            out[f"PodAutoscaler.aibrix/{meta.get('namespace', '')}/{meta.get('name', '')}"] = {
                "kind": "PodAutoscaler (AIBrix)",
                "target": f"{target}/{role}" if role else target,
                "strategy": f"AIBrix {spec.get('scalingStrategy')}",
                "desired": status.get("desiredScale"),
                "actual": status.get("actualScale"),
                "conditions": [
                    {k: c.get(k) for k in ("type", "status", "reason", "message")}
                    for c in status.get("conditions") or []
                ],
            }
        for k in self.knative:
            out[f"PodAutoscaler.knative/{k.namespace}/{k.name}"] = k.summary()

    def _prediction_summary(self, key: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        """`prediction` and `learning` of a BudAIScaler with predictionConfig (issue 16), else nothing.

        prediction.decisions: decisions made with a time-series prediction; used: those whose
        prediction passed upstream's confidence gate (>= 0.7) and was blended in; changed: those
        where the blend changed the replica count; mean_confidence over all of them.
        learning.observations: feedback records given to the learning system; persisted: whether its
        ConfigMap `<scaler>-learning-data` exists at the end of the run."""
        spec = obj.get("spec") or {}
        pred_cfg = spec.get("predictionConfig")
        if not isinstance(pred_cfg, Mapping):
            return {}
        st = self.recorder.prediction_stats.get(key) or {}
        n = int(st.get("decisions", 0))
        out: dict[str, Any] = {
            "prediction": {
                "decisions": n,
                "used": int(st.get("used", 0)),
                "changed": int(st.get("changed", 0)),
                "mean_confidence": (float(st.get("confidence_sum", 0.0)) / n) if n else None,
            }
        }
        meta = obj.get("metadata") or {}
        from sim.decisions.bud_learning.storage import config_map_name

        cm_name = config_map_name(str(meta.get("name", "")))
        persisted = any(
            (o.get("metadata") or {}).get("name") == cm_name
            and (o.get("metadata") or {}).get("namespace") == meta.get("namespace")
            for o in self.api.all_objects("ConfigMap")
        )
        out["learning"] = {
            "observations": int(st.get("observations", 0)),
            "persisted": persisted,
            "config_map": cm_name,
        }
        return out

    def quirks_triggered(self) -> dict[str, int]:
        counts = {q.value: 0 for q in self.quirks.enabled()}
        for name, n in self.recorder.quirk_counts.items():
            counts[name] = counts.get(name, 0) + n
        return dict(sorted(counts.items()))


class OutageAwareMetrics:
    """The MetricsProvider the autoscalers read: the load layer's engine metrics, silenced during
    `metricsOutage` faults (a scrape that fails returns nothing, as a dead Prometheus would)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> Any:
        if self.world.metrics_outage(pod, now):
            return None
        for load in self.world.loads.values():
            value = load.metrics.pod_metric(namespace, pod, metric, now)
            if value is not None:
                self.world.recorder.saw_metric(pod, metric, value)
                return value
        return None

    def resource_usage(self, namespace: str, pod: str, resource: str, now: float) -> Any:
        if self.world.metrics_outage(pod, now):
            return None
        for load in self.world.loads.values():
            value = load.metrics.resource_usage(namespace, pod, resource, now)
            if value is not None:
                self.world.recorder.saw_metric(pod, resource, value)
                return value
        return None

    def collect(self, source: Mapping[str, Any], pods: Any, now: float, **flags: Any) -> Any:
        """upstream's DefaultMetricCollector over the load layer's pods, minus pods whose metrics
        are in an outage; records what the scaler saw for the time series."""
        from sim.load.metrics import MetricSnapshot

        loads = list(self.world.loads.values())
        if not loads:
            return MetricSnapshot({}, error="no workload: no metrics")

        def name_of(p: Any) -> str:
            return p if isinstance(p, str) else str(p["metadata"]["name"])

        live = [p for p in pods if not self.world.metrics_outage(name_of(p), now)]
        if pods and not live:
            return MetricSnapshot({}, error="metrics unavailable: injected metrics outage")
        snap = loads[0].metrics.collect(source, live, now, **flags)
        metric = str(source.get("targetMetric", ""))
        for pod, sample in sorted(getattr(snap, "values", {}).items()):
            self.world.recorder.saw_metric(pod, metric, sample)
        return snap

    def external_metric(self, namespace: str, metric: str, selector: Any, now: float) -> Any:
        if self.world.metrics_outage("", now):
            return []
        loads = list(self.world.loads.values())
        return loads[0].metrics.external_metric(namespace, metric, selector, now) if loads else []

    def __getattr__(self, name: str) -> Any:
        # Other source types (resource, prometheus, external) of the load layer's provider.
        loads = list(self.world.loads.values())
        if not loads:
            raise AttributeError(name)
        return getattr(loads[0].metrics, name)


class QueueActivation:
    """The activation signal a corrected scaler may read for a role at zero: requests waiting in
    the buffer in front of it."""

    def __init__(self, world: World) -> None:
        self.world = world

    def queued(self, namespace: str, ds: str, role: str, now: float) -> float:
        load = self.world.loads.get(ds)
        if load is None or role not in load.roles:
            return 0.0
        return float(load.roles[role].waiting())


def synthetic_arrivals(
    shape: Synthetic, start: float, duration: float, rng: Any, multiplier: float = 1.0
) -> Iterator[Any]:
    """A synthetic shape as 1-second rate windows through the load layer's renewal process, silent
    before `start`; the shape's times are scenario times."""
    from sim.load.arrivals import InterArrival, RateWindow, TokenDist, rate_windows

    peak = shape.peak_rate if shape.peak_rate is not None else shape.rate

    def rate_at(t: float) -> float:
        import math

        if shape.shape is SyntheticShape.CONSTANT:
            return shape.rate
        if shape.shape is SyntheticShape.STEP:
            return shape.rate if t < (shape.at or 0.0) else peak
        if shape.shape is SyntheticShape.RAMP:
            length = shape.length or 1.0
            start = shape.at or 0.0
            frac = min(1.0, max(0.0, (t - start) / length))
            return shape.rate + (peak - shape.rate) * frac
        if shape.shape is SyntheticShape.DIURNAL:
            period = shape.length or 86400.0
            mid = (shape.rate + peak) / 2.0
            amp = (peak - shape.rate) / 2.0
            return mid - amp * math.cos(2.0 * math.pi * t / period)
        if shape.shape is SyntheticShape.PHASES:
            rate = shape.rate
            for phase in shape.phases or ():
                if t >= phase.at:
                    rate = phase.rate
            return rate
        start = shape.at or 0.0
        return peak if start <= t < start + (shape.length or 0.0) else shape.rate

    def windows() -> Iterator[Any]:
        if start > 0:
            yield RateWindow(duration=start, rate=0.0, cv=shape.cv, distribution=InterArrival.GAMMA)
        t = start
        while t < duration - 1e-9:
            length = min(1.0, duration - t)
            yield RateWindow(
                duration=length, rate=rate_at(t + length / 2), cv=shape.cv, distribution=InterArrival.GAMMA
            )
            t += length

    # a size distribution is drawn afterwards from its own stream (World._sizes); 1 is a placeholder
    inp = shape.input_tokens if isinstance(shape.input_tokens, int) else 1
    out = shape.output_tokens if isinstance(shape.output_tokens, int) else 1
    return rate_windows(
        windows(),
        rng,
        TokenDist(mean=float(inp)),
        TokenDist(mean=float(max(1, out))),
        rate_multiplier=multiplier,
    )
