"""The scenario's cluster section as API objects: Nodes from node pools, lifecycle stage overrides
per role on top of the project's default stage set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.scenario import Cluster, LifecycleOverride

POOL_LABEL = "dsim.io/pool"


def node_objects(cluster: Cluster) -> list[dict[str, Any]]:
    """`count` Ready Nodes per pool named `<pool>-<i>`, in pool order then index order."""
    from sim.cluster import node_object

    return [
        node_object(
            f"{pool.name}-{i}",
            cpu=pool.cpu,
            memory=pool.memory,
            gpus=pool.gpus,
            labels={POOL_LABEL: pool.name, **pool.labels},
        )
        for pool in cluster.node_pools
        for i in range(pool.count)
    ]


def lifecycle_stages(overrides: Mapping[str, LifecycleOverride]) -> Any:
    """The default stage set with per-role overrides in front (sim/cluster/stages.py)."""
    from sim.cluster.stages import default_stages, role_overrides

    base = default_stages()
    return role_overrides(base, dict(overrides)) if overrides else base
