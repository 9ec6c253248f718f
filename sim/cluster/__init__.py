"""The simulated cluster: Deployment controller, scheduler, kubelet with lifecycle stages, node
lifecycle (see docs/control-plane.md). `start_cluster` wires them for the scenario runner and tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.cluster.deployment_controller import DeploymentReconciler
from sim.cluster.kubelet import Kubelet
from sim.cluster.node_lifecycle import NodeLifecycle, NodeLifecycleConfig
from sim.cluster.scheduler import Scheduler
from sim.cluster.stages import LifecycleState, Stage, StageSet, default_stages, load_stages, role_overrides
from sim.runtime.controller import Controller
from sim.runtime.informer import InformerFactory

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer
    from sim.clock import Simulation

BOOTSTRAP_ACTOR = "cluster-bootstrap"


def node_object(
    name: str,
    cpu: str | int = "64",
    memory: str = "256Gi",
    gpus: int = 0,
    pods: int = 110,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Ready Node with the given allocatable resources."""
    alloc: dict[str, Any] = {"cpu": str(cpu), "memory": memory, "pods": str(pods)}
    if gpus:
        alloc["nvidia.com/gpu"] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {},
        "status": {
            "capacity": dict(alloc),
            "allocatable": dict(alloc),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            ],
        },
    }


def default_nodes() -> list[dict[str, Any]]:
    """Four 96-core / 768 GiB / 8-GPU nodes allowing 250 pods each."""
    return [node_object(f"node-{i}", cpu="96", memory="768Gi", gpus=8, pods=250) for i in range(4)]


@dataclass
class Cluster:
    sim: Simulation
    api: APIServer
    informers: InformerFactory
    stages: StageSet
    deployments: DeploymentReconciler
    deployment_controller: Controller
    scheduler: Scheduler
    kubelet: Kubelet
    node_lifecycle: NodeLifecycle

    def add_node(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """Create a Ready Node (see `node_object` for the keyword arguments)."""
        return self.api.create(node_object(name, **kwargs), actor=BOOTSTRAP_ACTOR)

    def fail_node(self, name: str) -> None:
        self.node_lifecycle.fail_node(name)

    def recover_node(self, name: str) -> None:
        self.node_lifecycle.recover_node(name)


def resolve_stages(stages: StageSet | Mapping[str, Any] | Sequence[Stage] | str | None) -> StageSet:
    """None -> defaults; a StageSet as is; a path -> that file; a list of Stage -> prepended to the
    defaults; a mapping role -> LifecycleOverride (or its dict form) -> role overrides."""
    base = default_stages()
    if stages is None:
        return base
    if isinstance(stages, StageSet):
        return stages
    if isinstance(stages, str):
        return load_stages(stages)
    if isinstance(stages, Mapping):
        return role_overrides(base, stages)
    return base.with_overrides(list(stages))


def start_cluster(
    sim: Simulation,
    api: APIServer,
    informers: InformerFactory,
    nodes: Sequence[Mapping[str, Any]] | None = None,
    stages: StageSet | Mapping[str, Any] | Sequence[Stage] | str | None = None,
    deployment_reconcile_cost: float = 0.0,
    node_lifecycle: NodeLifecycleConfig | None = None,
) -> Cluster:
    """Create the Nodes and start the Deployment controller, scheduler, kubelet and node lifecycle."""
    stage_set = resolve_stages(stages)
    for node in default_nodes() if nodes is None else nodes:
        api.create(node, actor=BOOTSTRAP_ACTOR)
    deployments = DeploymentReconciler(sim, api, informers)
    controller = Controller(
        sim,
        deployments,
        informers,
        for_kind="Deployment",
        owns=("Pod",),
        reconcile_cost=deployment_reconcile_cost,
    ).start()
    scheduler = Scheduler(sim, api, informers, stage_set)
    kubelet = Kubelet(sim, api, informers, stage_set)
    lifecycle = NodeLifecycle(sim, api, informers, kubelet, node_lifecycle)
    return Cluster(sim, api, informers, stage_set, deployments, controller, scheduler, kubelet, lifecycle)


__all__ = [
    "Cluster",
    "LifecycleState",
    "NodeLifecycleConfig",
    "Stage",
    "StageSet",
    "default_nodes",
    "default_stages",
    "node_object",
    "resolve_stages",
    "start_cluster",
]
