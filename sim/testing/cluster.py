"""`SimCluster`: the whole control plane on one Simulation, driven step by step from a test.

The scenario runner (`sim/scenario/world.py`) builds a world from a file and runs it to the end; a
property test instead applies, edits and deletes objects, changes the load and injects faults
*between* advances of simulated time, and checks invariants after each step. This harness wires the
same layers (API server with model admission and GC, informers, Deployment controller, scheduler and
kubelet, the DisaggregatedService, BudAIScaler and HPA controllers, the load model) and exposes those
steps. Everything is deterministic from the seed.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from model.quirks import Profile, QuirkSet
from sim.apiserver.errors import NotFound
from sim.clock import Simulation
from sim.invariants import Observation, Violation, check
from sim.testing.observer import Observer

USER = "dsim-user"
FAULTS = "dsim-fault-injector"
ROLE_LABEL = "scaler.bud.studio/role"
DS_LABEL = "scaler.bud.studio/disaggregated-service"
DEFAULT_NAMESPACE = "default"


class DynamicArrivals:
    """Poisson arrivals at a rate the test may change at any simulated instant.

    The load model pulls one arrival ahead; at rate 0 the iterator reports exhaustion and
    `SimCluster.load` restarts the chain when the rate rises again."""

    def __init__(self, sim: Simulation, stream: str, input_tokens: int, output_tokens: int) -> None:
        self.sim = sim
        self.rng = sim.seeds.stream(stream)
        self.rate = 0.0
        self.t0 = sim.now
        self.last = 0.0
        self.stopped = True
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        from sim.load.arrivals import Arrival

        if self.rate <= 0:
            self.stopped = True
            raise StopIteration
        self.stopped = False
        self.last = max(self.last, self.sim.now - self.t0) + float(self.rng.exponential(1.0 / self.rate))
        return Arrival(self.last, self.input_tokens, self.output_tokens)


class _Metrics:
    """The autoscalers' metrics provider: every load system's engine metrics, silent during an outage."""

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    def _out(self, namespace: str, pod: str, now: float) -> bool:
        obj = self.cluster.api.peek("Pod", namespace, pod)
        role = ((obj or {}).get("metadata") or {}).get("labels", {}).get(ROLE_LABEL)
        return any(a <= now < b and (r is None or r == role) for a, b, r in self.cluster.outages)

    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> Any:
        if self._out(namespace, pod, now):
            return None
        for load in self.cluster.loads.values():
            value = load.metrics.pod_metric(namespace, pod, metric, now)
            if value is not None:
                return value
        return None

    def resource_usage(self, namespace: str, pod: str, resource: str, now: float) -> Any:
        if self._out(namespace, pod, now):
            return None
        for load in self.cluster.loads.values():
            value = load.metrics.resource_usage(namespace, pod, resource, now)
            if value is not None:
                return value
        return None


class _Activation:
    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    def queued(self, namespace: str, ds: str, role: str, now: float) -> float:
        load = self.cluster.loads.get((namespace, ds))
        if load is None or role not in load.roles:
            return 0.0
        return float(load.roles[role].waiting())


class SimCluster:
    """A fake cluster with every controller running; time moves only through `advance`."""

    def __init__(
        self,
        *,
        seed: int = 0,
        profile: Profile | str = Profile.CORRECTED,
        quirks: Mapping[str, bool] | None = None,
        nodes: int = 4,
        node_cpu: str = "32",
        node_memory: str = "128Gi",
        gpus: int = 0,
        gc_delay: float = 0.0,
        lifecycle: Mapping[str, Any] | None = None,
        node_pools: Sequence[Mapping[str, Any] | Any] | None = None,
    ) -> None:
        """`nodes` identical nodes of `node_cpu`, `node_memory` and `gpus` GPUs each, or, with
        `node_pools`, the scenario's node pools (`{name, count, cpu, memory, gpus, labels}` dicts or
        `model.scenario.NodePool`s, e.g. `[{"name": "gpu", "count": 2, "gpus": 8}]`): pods that
        request `nvidia.com/gpu` only schedule on nodes that have GPUs."""
        from sim.apiserver import APIServer
        from sim.apiserver.admission import model_admission
        from sim.cluster import node_object, start_cluster
        from sim.cluster.stages import default_stages, role_overrides
        from sim.controllers.budaiscaler import start_budaiscaler_controller
        from sim.controllers.disaggregated import start_disaggregated_controller
        from sim.controllers.hpa import make_budaiscaler_hpa_hook, start_hpa_controller
        from sim.runtime import InformerFactory

        self.quirks = QuirkSet(profile, dict(quirks or {}))
        self.sim = Simulation(seed)
        self.api = APIServer(self.sim, admission=model_admission, gc_delay=gc_delay)
        self.informers = InformerFactory(self.sim, self.api)
        self.events: list[dict[str, Any]] = []
        self.loads: dict[tuple[str, str], Any] = {}
        self.arrivals: dict[tuple[str, str], DynamicArrivals] = {}
        self.samples: list[Any] = []
        self.outages: list[tuple[float, float, str | None]] = []
        stages = default_stages()
        if lifecycle:
            stages = role_overrides(stages, dict(lifecycle))
        if node_pools is not None:
            from model.scenario import Cluster, NodePool
            from sim.scenario.cluster import node_objects

            pools = [p if isinstance(p, NodePool) else NodePool.model_validate(p) for p in node_pools]
            node_objs = node_objects(Cluster(node_pools=pools))
        else:
            node_objs = [
                node_object(f"node-{i}", cpu=node_cpu, memory=node_memory, gpus=gpus) for i in range(nodes)
            ]
        self.cluster = start_cluster(self.sim, self.api, self.informers, nodes=node_objs, stages=stages)
        sink = self.events.append
        start_disaggregated_controller(self.sim, self.api, self.informers, quirks=self.quirks, events=sink)
        start_budaiscaler_controller(
            self.sim,
            self.api,
            self.informers,
            _Metrics(self),
            self.quirks,
            events=sink,
            activation=_Activation(self),
            hpa_hook=make_budaiscaler_hpa_hook(self.sim, self.api, self.quirks, events=sink),
        )
        start_hpa_controller(self.sim, self.api, self.informers, _Metrics(self), events=sink)
        self.observer = Observer.attach(self.api, gc_delay=gc_delay)

    # ------------------------------------------------------------------ time

    @property
    def now(self) -> float:
        return self.sim.now

    def advance(self, seconds: float) -> float:
        """Run the simulation `seconds` further; returns the new time."""
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative time ({seconds})")
        if seconds > 0:
            self.sim.run(until=self.sim.now + seconds)
        return self.sim.now

    # ------------------------------------------------------------------ objects

    def apply(self, manifest: Mapping[str, Any] | str | Path) -> list[dict[str, Any]]:
        """kubectl apply: create each object, or replace spec/metadata of an existing one. Accepts an
        object, a YAML string or a path to a multi-document file. Raises the API error (e.g.
        `Invalid`) of the first object the server rejects."""
        out = []
        for obj in _objects(manifest):
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            meta.setdefault("namespace", DEFAULT_NAMESPACE)
            current = self.api.peek(str(obj.get("kind")), str(meta["namespace"]), str(meta.get("name")))
            if current is None:
                out.append(self.api.create(obj, actor=USER))
            else:
                out.append(self._update(obj, current))
        return out

    def _update(self, obj: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
        """Replace with the stored resourceVersion; retry a Conflict twice, as kubectl apply does."""
        from sim.apiserver.errors import Conflict

        meta = obj["metadata"]
        for attempt in range(3):
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            for key in ("uid", "creationTimestamp", "finalizers", "ownerReferences"):
                if key in current["metadata"] and key not in meta:
                    meta[key] = copy.deepcopy(current["metadata"][key])
            try:
                result: dict[str, Any] = self.api.update(obj, actor=USER)
                return result
            except Conflict:
                fresh = self.api.peek(str(obj.get("kind")), str(meta["namespace"]), str(meta.get("name")))
                if attempt == 2 or fresh is None:
                    raise
                current = fresh
        raise AssertionError("unreachable")

    def delete(self, kind: str, name: str, namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Delete an object; False if it did not exist."""
        try:
            self.api.delete(kind, namespace, name, actor=USER)
        except NotFound:
            return False
        return True

    def get(self, kind: str, name: str, namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any] | None:
        obj = self.api.peek(kind, namespace, name)
        return copy.deepcopy(obj) if obj is not None else None

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for o in self.api.all_objects(kind)]

    # ------------------------------------------------------------------ load

    def load(
        self,
        ds: str,
        rate: float,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        input_tokens: int = 256,
        output_tokens: int = 0,
        services: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Set the request rate (req/s, Poisson) entering DisaggregatedService `ds` from now on. The
        pipeline's roles are read from the service the first time."""
        from sim.load import InformerEndpoints, LoadSystem, pipeline_from_service

        key = (namespace, ds)
        arrivals = self.arrivals.get(key)
        if arrivals is None:
            obj = self.api.peek("DisaggregatedService", namespace, ds)
            if obj is None:
                raise LookupError(f"no DisaggregatedService {namespace}/{ds} to send load to")
            spec = pipeline_from_service(obj)
            arrivals = DynamicArrivals(self.sim, f"load:{namespace}/{ds}", input_tokens, output_tokens)
            endpoints = InformerEndpoints(self.informers.informer("Pod"), namespace, ds, spec.roles)
            system = LoadSystem(
                self.sim,
                spec,
                arrivals,
                endpoints,
                {r: dict(v) for r, v in (services or {}).items() if r in spec.roles},
                on_sample=self.samples.append,
            )
            self.arrivals[key] = arrivals
            self.loads[key] = system
            arrivals.rate = float(rate)
            system.start()
        else:
            restart = arrivals.stopped and rate > 0
            arrivals.rate = float(rate)
            if restart:
                self.loads[key]._schedule_next(self.sim.now)  # the chain stopped at rate 0
        self.observer.disturb(self.sim.now, self.sim.now, f"load {ds} {rate:g}/s")

    def load_shape(
        self, ds: str, shape: Any, *, namespace: str = DEFAULT_NAMESPACE, start_at: float = 0.0
    ) -> None:
        """Drive `ds` with a scenario `Synthetic` shape (rates per 1-second window, times from now +
        `start_at`): the dynamic-load counterpart of a scenario's `workload.synthetic`."""
        begin = self.now + start_at

        def process() -> Any:
            if start_at > 0:
                yield self.sim.env.timeout(start_at)
            last: float | None = None
            while True:
                rate = rate_at(shape, self.now - begin + 0.5)
                if rate != last:
                    self.load(ds, rate, namespace=namespace)
                    last = rate
                yield self.sim.env.timeout(1.0)

        self.sim.env.process(process())

    def requests(self) -> dict[str, int] | None:
        if not self.loads:
            return None
        totals = {"arrived": 0, "completed": 0, "dropped": 0, "in_flight": 0}
        for load in self.loads.values():
            acc = load.acc
            totals["arrived"] += acc.arrived
            totals["completed"] += acc.completed
            totals["dropped"] += acc.dropped
            totals["in_flight"] += acc.in_flight()
        return totals

    # ------------------------------------------------------------------ faults

    def conflicts(self, seconds: float, probability: float, kinds: Sequence[str] | None = None) -> None:
        """Conflict on a fraction of updates from now for `seconds`."""
        from sim.apiserver import FaultWindow

        self.api.faults.add(
            FaultWindow(
                self.now, self.now + seconds, "conflict", probability, kinds=tuple(kinds) if kinds else None
            )
        )

    def errors(self, seconds: float, probability: float, verbs: Sequence[str] | None = None) -> None:
        from sim.apiserver import FaultWindow

        self.api.faults.add(
            FaultWindow(
                self.now, self.now + seconds, "error", probability, verbs=tuple(verbs) if verbs else None
            )
        )

    def watch_delay(self, seconds: float, latency: float) -> None:
        from sim.apiserver import FaultWindow

        self.api.faults.add(
            FaultWindow(self.now, self.now + seconds, "latency", 1.0, verbs=("watch",), latency=latency)
        )

    def metrics_outage(self, seconds: float, role: str | None = None) -> None:
        self.outages.append((self.now, self.now + seconds, role))
        self.observer.disturb(self.now, self.now + seconds, f"metrics outage {role or 'all'}")

    def kill_pods(self, role: str | None = None, count: int = 1) -> list[str]:
        """Delete `count` pods (of `role`, or any), picked from the seeded stream "test-faults"."""
        selector = {"matchLabels": {ROLE_LABEL: role}} if role else None
        pods = sorted(
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p in self.api.list("Pod", None, selector)
            if not p["metadata"].get("deletionTimestamp")
        )
        if len(pods) > count:
            rng = self.sim.seeds.stream("test-faults")
            pods = [pods[int(i)] for i in sorted(rng.choice(len(pods), size=count, replace=False))]
        for ns, name in pods:
            with contextlib.suppress(NotFound):
                self.api.delete("Pod", ns, name, actor=FAULTS)
        self.observer.disturb(self.now, self.now, f"kill pods {role or 'any'}")
        return [n for _, n in pods]

    def fail_node(self, name: str) -> None:
        self.cluster.fail_node(name)
        self.observer.disturb(self.now, self.now + 60.0, f"node {name} failed")

    def schedule_faults(self, faults: Sequence[Any]) -> None:
        """Inject the scenario's fault models (`model.scenario` KillPods, FailNode, ConflictRate,
        ErrorRate, WatchLatency, MetricsOutage) at their times, counted from now."""
        from sim.apiserver import FaultWindow

        base = self.now
        for f in faults:
            at = base + float(f.at)
            until = base + float(getattr(f, "until", f.at))
            if f.type == "conflicts":
                kinds = tuple(f.kinds) if f.kinds else None
                self.api.faults.add(FaultWindow(at, until, "conflict", f.probability, kinds=kinds))
            elif f.type == "errors":
                verbs = tuple(f.verbs) if f.verbs else None
                kind = "timeout" if f.timeout else "error"
                self.api.faults.add(FaultWindow(at, until, kind, f.probability, verbs=verbs))
            elif f.type == "watchLatency":
                self.api.faults.add(
                    FaultWindow(at, until, "latency", 1.0, verbs=("watch",), latency=f.latency)
                )
            elif f.type == "metricsOutage":
                self.outages.append((at, until, f.role))
                self.observer.disturb(at, until, f"metrics outage {f.role or 'all'}")
            else:
                self.sim.env.process(self._later(at - base, f))

    def _later(self, delay: float, fault: Any) -> Any:
        yield self.sim.env.timeout(delay)
        if fault.type == "killPods":
            self.kill_pods(fault.role, fault.count)
        elif fault.type == "failNode":
            self.fail_node(fault.node)

    # ------------------------------------------------------------------ invariants

    def observation(self, **bounds: Any) -> Observation:
        return self.observer.observation(
            self.quirks,
            events=self.events,
            requests=self.requests(),
            load_samples=self.samples,
            **bounds,
        )

    def violations(self, names: Sequence[str] | None = None, **bounds: Any) -> list[Violation]:
        return check(self.observation(**bounds), names)

    def assert_invariants(self, names: Sequence[str] | None = None, **bounds: Any) -> None:
        found = self.violations(names, **bounds)
        if found:
            lines = "\n".join(f"  {v.name} at {v.time:g}s: {v.detail}" for v in found)
            raise AssertionError(f"{len(found)} invariant violation(s) at t={self.now:g}s:\n{lines}")


def _objects(manifest: Mapping[str, Any] | str | Path) -> list[dict[str, Any]]:
    if isinstance(manifest, Mapping):
        return [dict(manifest)]
    import yaml

    text = manifest.read_text(encoding="utf-8") if isinstance(manifest, Path) else str(manifest)
    if isinstance(manifest, str) and "\n" not in manifest and Path(manifest).is_file():
        text = Path(manifest).read_text(encoding="utf-8")
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def rate_at(shape: Any, t: float) -> float:
    """The request rate of a scenario `Synthetic` shape at second `t` (as sim/scenario/world.py)."""
    import math

    kind = str(getattr(shape.shape, "value", shape.shape))
    peak = shape.peak_rate if shape.peak_rate is not None else shape.rate
    start = shape.at or 0.0
    if kind == "constant":
        return float(shape.rate)
    if kind == "step":
        return float(shape.rate if t < start else peak)
    if kind == "ramp":
        frac = min(1.0, max(0.0, (t - start) / (shape.length or 1.0)))
        return float(shape.rate + (peak - shape.rate) * frac)
    if kind == "diurnal":
        period = shape.length or 86400.0
        return float((shape.rate + peak) / 2 - (peak - shape.rate) / 2 * math.cos(2 * math.pi * t / period))
    return float(peak if start <= t < start + (shape.length or 0.0) else shape.rate)
