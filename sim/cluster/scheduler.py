"""A deterministic kube-scheduler: filter nodes by readiness, taints, nodeSelector and allocatable
cpu / memory / nvidia.com/gpu / pods; score LeastAllocated; ties go to the lexically first node.

Pods that fit nowhere get PodScheduled=False, reason Unschedulable, with kube-scheduler's message
("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.") and are retried when a pod is deleted
or a node is added or changes (and every 5 minutes, like podMaxInUnschedulablePodsDuration).
The per-pod `schedule` lifecycle stage is the scheduling latency before the binding.
upstream: k8s.io/kubernetes pkg/scheduler (schedule_one.go, framework/plugins/noderesources/fit.go)."""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.apiserver.errors import ApiError, Conflict, NotFound
from sim.apiserver.watch import WatchEventType
from sim.cluster.podutil import GPU, condition, pod_requests, quantity_milli
from sim.cluster.stages import LifecycleState, StageSet, sample_delay
from sim.runtime.informer import InformerEvent, InformerFactory

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer
    from sim.clock import Simulation

ACTOR = "default-scheduler"
UNSCHEDULABLE_FLUSH = 300.0
RETRY_ON_ERROR = 1.0

Key = tuple[str, str]


@dataclass(slots=True)
class NodeInfo:
    name: str
    cpu: int  # milli
    memory: int  # milli-bytes
    gpu: int  # milli
    pods: int
    ready: bool
    unschedulable: bool
    labels: dict[str, str]
    taints: list[dict[str, Any]]
    used_cpu: int = 0
    used_memory: int = 0
    used_gpu: int = 0
    used_pods: int = 0
    pod_keys: dict[Key, None] = field(default_factory=dict)


def _node_info(node: Mapping[str, Any], previous: NodeInfo | None) -> NodeInfo:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    ready_cond = condition(node, "Ready")
    info = NodeInfo(
        name=node["metadata"]["name"],
        cpu=quantity_milli(alloc.get("cpu", 0)),
        memory=quantity_milli(alloc.get("memory", 0)),
        gpu=quantity_milli(alloc.get(GPU, 0)),
        pods=int(quantity_milli(alloc.get("pods", 110)) // 1000),
        ready=ready_cond is not None and ready_cond.get("status") == "True",
        unschedulable=bool((node.get("spec") or {}).get("unschedulable")),
        labels=dict(node["metadata"].get("labels") or {}),
        taints=list((node.get("spec") or {}).get("taints") or []),
    )
    if previous is not None:
        info.used_cpu, info.used_memory = previous.used_cpu, previous.used_memory
        info.used_gpu, info.used_pods, info.pod_keys = (
            previous.used_gpu,
            previous.used_pods,
            previous.pod_keys,
        )
    return info


def _tolerates(pod_spec: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    for tol in pod_spec.get("tolerations") or ():
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol.get("key") == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


class Scheduler:
    def __init__(
        self,
        sim: Simulation,
        api: APIServer,
        informers: InformerFactory,
        stages: StageSet,
        scheduler_name: str = "default-scheduler",
    ) -> None:
        self.sim = sim
        self.api = api
        self.stages = stages
        self.scheduler_name = scheduler_name
        self.nodes: dict[str, NodeInfo] = {}
        self._assigned: dict[Key, tuple[str, tuple[int, int, int]]] = {}
        self._heap: list[tuple[float, int, Key]] = []
        self._queued: set[Key] = set()
        self._unschedulable: dict[Key, None] = {}
        self._seq = 0
        self._wakeup: Any = None
        self._flush_pending = False
        self.log: list[tuple[float, str, str, str]] = []  # (t, event, pod, node-or-reason)
        self.pods = informers.informer("Pod")
        informers.informer("Node").add_handler(self._on_node)
        self.pods.add_handler(self._on_pod)
        sim.env.process(self._run())

    # ------------------------------------------------------------------ events

    def _on_node(self, event: InformerEvent) -> None:
        name = event.obj["metadata"]["name"]
        if event.type is WatchEventType.DELETED:
            self.nodes.pop(name, None)
            return
        self.nodes[name] = _node_info(event.obj, self.nodes.get(name))
        self._retry_unschedulable()

    def _on_pod(self, event: InformerEvent) -> None:
        pod = event.obj
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        if event.type is WatchEventType.DELETED:
            self._release(key)
            self._unschedulable.pop(key, None)
            return
        if node:
            if key not in self._assigned:
                self._account(key, node, pod_requests(spec))
            return
        if (
            meta.get("deletionTimestamp") is not None
            or spec.get("schedulerName", "default-scheduler") != self.scheduler_name
        ):
            return
        if event.type is WatchEventType.ADDED and key not in self._queued and key not in self._unschedulable:
            stage = self.stages.next_stage(
                LifecycleState.PENDING, meta.get("labels"), self.sim.seeds.stream("scheduler")
            )
            delay = (
                sample_delay(stage.delay, self.sim.seeds.stream("scheduler")) if stage is not None else 0.0
            )
            self._enqueue(key, self.sim.env.now + delay)

    def _enqueue(self, key: Key, due: float) -> None:
        self._queued.add(key)
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, key))
        wake = self._wakeup
        if wake is not None and not wake.triggered:
            wake.succeed()

    def _account(self, key: Key, node: str, req: tuple[int, int, int]) -> None:
        self._assigned[key] = (node, req)
        info = self.nodes.get(node)
        if info is not None:
            info.used_cpu += req[0]
            info.used_memory += req[1]
            info.used_gpu += req[2]
            info.used_pods += 1
            info.pod_keys[key] = None

    def _release(self, key: Key) -> None:
        entry = self._assigned.pop(key, None)
        if entry is None:
            return
        node, req = entry
        info = self.nodes.get(node)
        if info is not None:
            info.used_cpu -= req[0]
            info.used_memory -= req[1]
            info.used_gpu -= req[2]
            info.used_pods -= 1
            info.pod_keys.pop(key, None)
        self._retry_unschedulable()

    def _retry_unschedulable(self) -> None:
        if not self._unschedulable:
            return
        keys = list(self._unschedulable)
        self._unschedulable.clear()
        now = self.sim.env.now
        for key in keys:
            self._enqueue(key, now)

    def _flush_later(self) -> Any:
        yield self.sim.env.timeout(UNSCHEDULABLE_FLUSH)
        self._flush_pending = False
        self._retry_unschedulable()

    # ------------------------------------------------------------------ scheduling loop

    def _run(self) -> Any:
        env = self.sim.env
        heap = self._heap
        while True:
            if not heap:
                self._wakeup = env.event()
                yield self._wakeup
                self._wakeup = None
                continue
            due = heap[0][0]
            if due > env.now:
                self._wakeup = env.event()
                yield env.timeout(due - env.now) | self._wakeup
                self._wakeup = None
                continue
            _, _, key = heapq.heappop(heap)
            self._queued.discard(key)
            self._schedule_one(key)

    def _schedule_one(self, key: Key) -> None:
        pod = self.pods.peek(*key)
        if pod is None or pod["metadata"].get("deletionTimestamp") is not None:
            return
        spec = pod.get("spec") or {}
        if spec.get("nodeName") or key in self._assigned:
            return
        req = pod_requests(spec)
        best: NodeInfo | None = None
        best_score = -1.0
        reasons: dict[str, int] = {}
        selector = spec.get("nodeSelector") or {}
        for name in sorted(self.nodes):
            n = self.nodes[name]
            reason = self._filter(n, spec, selector, req)
            if reason is not None:
                reasons[reason] = reasons.get(reason, 0) + 1
                continue
            score = self._score(n, req)
            if score > best_score:
                best, best_score = n, score
        now = self.sim.env.now
        if best is None:
            self._mark_unschedulable(key, pod, reasons)
            return
        try:
            self.api.bind(key[0], key[1], best.name, actor=ACTOR, copy_result=False)
        except (Conflict, NotFound):
            return
        except ApiError:
            self._enqueue(key, now + RETRY_ON_ERROR)
            return
        self._account(key, best.name, req)
        self.log.append((now, "bound", key[1], best.name))

    def _filter(
        self, n: NodeInfo, spec: Mapping[str, Any], selector: Mapping[str, str], req: tuple[int, int, int]
    ) -> str | None:
        if not n.ready:
            return "node(s) were not ready"
        if n.unschedulable:
            return "node(s) were unschedulable"
        for taint in n.taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(spec, taint):
                return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
        for k, v in selector.items():
            if n.labels.get(k) != v:
                return "node(s) didn't match Pod's node affinity/selector"
        if n.used_pods + 1 > n.pods:
            return "Too many pods"
        if n.used_cpu + req[0] > n.cpu:
            return "Insufficient cpu"
        if n.used_memory + req[1] > n.memory:
            return "Insufficient memory"
        if n.used_gpu + req[2] > n.gpu:
            return f"Insufficient {GPU}"
        return None

    @staticmethod
    def _score(n: NodeInfo, req: tuple[int, int, int]) -> float:
        # upstream: framework/plugins/noderesources/least_allocated.go (cpu and memory, equal weights)
        cpu = (n.cpu - n.used_cpu - req[0]) * 100.0 / n.cpu if n.cpu else 0.0
        mem = (n.memory - n.used_memory - req[1]) * 100.0 / n.memory if n.memory else 0.0
        return (cpu + mem) / 2.0

    def _mark_unschedulable(self, key: Key, pod: Mapping[str, Any], reasons: Mapping[str, int]) -> None:
        total = len(self.nodes)
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        message = f"0/{total} nodes are available: {detail}." if detail else f"0/{total} nodes are available."
        self._unschedulable[key] = None
        now = self.sim.env.now
        self.log.append((now, "unschedulable", key[1], message))
        current = condition(pod, "PodScheduled")
        if not (current and current.get("reason") == "Unschedulable" and current.get("message") == message):
            cond = {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": self.api.timestamp(),
            }
            others = [
                c
                for c in (pod.get("status") or {}).get("conditions") or ()
                if c.get("type") != "PodScheduled"
            ]
            with contextlib.suppress(ApiError):
                self.api.patch(
                    "Pod",
                    key[0],
                    key[1],
                    {"status": {"conditions": [cond, *others]}},
                    actor=ACTOR,
                    subresource="status",
                )
        if not self._flush_pending:
            self._flush_pending = True
            self.sim.env.process(self._flush_later())
