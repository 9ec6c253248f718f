"""Node failure: the kubelet stops; after the node-monitor grace period the node turns
Ready=Unknown, gets the `node.kubernetes.io/unreachable` taints and its pods are marked not ready;
after the eviction timeout (the default tolerationSeconds, 300 s) its pods are deleted and the
Deployment controller replaces them (terminating pods no longer count as replicas). As on a real
cluster the deleted pods stay Terminating until the node's kubelet comes back, unless
`force_delete` is set (the out-of-service taint of non-graceful node shutdown).

upstream: pkg/controller/nodelifecycle/node_lifecycle_controller.go (monitorNodeHealth,
MarkPodsNotReady) and pkg/controller/tainteviction (NoExecute eviction)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.apiserver.errors import ApiError, NotFound
from sim.cluster.kubelet import Kubelet
from sim.runtime.informer import InformerFactory

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer
    from sim.clock import Simulation

ACTOR = "node-controller"


@dataclass(frozen=True, slots=True)
class NodeLifecycleConfig:
    monitor_grace_period: float = 40.0  # --node-monitor-grace-period
    eviction_timeout: float = 300.0  # default not-ready/unreachable tolerationSeconds
    force_delete: bool = False  # force-delete evicted pods (out-of-service taint)


class NodeLifecycle:
    def __init__(
        self,
        sim: Simulation,
        api: APIServer,
        informers: InformerFactory,
        kubelet: Kubelet,
        config: NodeLifecycleConfig | None = None,
    ) -> None:
        self.sim = sim
        self.api = api
        self.kubelet = kubelet
        self.config = config or NodeLifecycleConfig()
        self.pods = informers.informer("Pod")
        self.log: list[tuple[float, str, str]] = []  # (t, event, node-or-pod)
        self._generation: dict[str, int] = {}

    def fail_node(self, node: str) -> None:
        """The node stops (power loss, network partition): its kubelet posts nothing from now on."""
        self.kubelet.fail_node(node)
        gen = self._generation.get(node, 0) + 1
        self._generation[node] = gen
        self.log.append((self.sim.now, "node-failed", node))
        self.sim.env.process(self._lose(node, gen))

    def recover_node(self, node: str) -> None:
        gen = self._generation.get(node, 0) + 1
        self._generation[node] = gen
        self.log.append((self.sim.now, "node-recovered", node))
        try:
            self.api.patch(
                "Node",
                "",
                node,
                {"spec": {"taints": None}},
                actor=ACTOR,
            )
            self.api.patch(
                "Node",
                "",
                node,
                {
                    "status": {
                        "conditions": [
                            _ready(
                                "True",
                                "KubeletReady",
                                "kubelet is posting ready status",
                                self.api.timestamp(),
                            )
                        ]
                    }
                },
                actor="kubelet",
                subresource="status",
            )
        except ApiError:
            pass
        self.kubelet.recover_node(node)

    def _lose(self, node: str, gen: int) -> Any:
        env = self.sim.env
        yield env.timeout(self.config.monitor_grace_period)
        if self._generation.get(node) != gen:
            return
        ts = self.api.timestamp()
        self.log.append((self.sim.now, "node-unknown", node))
        try:
            self.api.patch(
                "Node",
                "",
                node,
                {
                    "status": {
                        "conditions": [
                            _ready("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", ts)
                        ]
                    }
                },
                actor=ACTOR,
                subresource="status",
            )
            self.api.patch(
                "Node",
                "",
                node,
                {
                    "spec": {
                        "taints": [
                            {
                                "key": "node.kubernetes.io/unreachable",
                                "effect": "NoSchedule",
                                "timeAdded": ts,
                            },
                            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ts},
                        ]
                    }
                },
                actor=ACTOR,
            )
        except ApiError:
            pass
        for pod in self._pods_on(node):
            self._mark_not_ready(pod)
        yield env.timeout(self.config.eviction_timeout)
        if self._generation.get(node) != gen:
            return
        for pod in self._pods_on(node):
            meta = pod["metadata"]
            self.log.append((self.sim.now, "evict", meta["name"]))
            try:
                self.api.delete("Pod", meta["namespace"], meta["name"], actor="taint-eviction-controller")
                if self.config.force_delete:
                    self.api.delete(
                        "Pod", meta["namespace"], meta["name"], actor=ACTOR, grace_period_seconds=0
                    )
            except (NotFound, ApiError):
                continue

    def _pods_on(self, node: str) -> list[dict[str, Any]]:
        return [p for p in self.pods.peek_list() if (p.get("spec") or {}).get("nodeName") == node]

    def _mark_not_ready(self, pod: dict[str, Any]) -> None:
        """upstream: pkg/controller/util/node/controller_utils.go MarkPodsNotReady."""
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") is not None:
            return
        ts = self.api.timestamp()
        conds = []
        changed = False
        for c in (pod.get("status") or {}).get("conditions") or ():
            if c.get("type") == "Ready" and c.get("status") != "False":
                c = {**c, "status": "False", "lastTransitionTime": ts}
                c.pop("reason", None)
                c.pop("message", None)
                changed = True
            conds.append(c)
        if not changed:
            return
        with contextlib.suppress(ApiError):
            self.api.patch(
                "Pod",
                meta["namespace"],
                meta["name"],
                {"status": {"conditions": conds}},
                actor=ACTOR,
                subresource="status",
            )


def _ready(status: str, reason: str, message: str, ts: str) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastHeartbeatTime": ts,
        "lastTransitionTime": ts,
    }
