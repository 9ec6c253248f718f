"""Golden audit logs of the simulated control plane: who wrote what, when, with which
resourceVersions and changed fields, for a scale cycle (2 -> 3 -> 0 -> 1) and a rolling update.

Regenerate after a reviewed behaviour change with
`DSIM_UPDATE_GOLDEN=1 pytest tests/golden/test_cluster_golden.py` and review the diff of
tests/golden/cluster/*.jsonl like code."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.cluster import node_object, start_cluster
from sim.runtime import InformerFactory

GOLDEN = Path(__file__).parent / "cluster"
UPDATE = os.environ.get("DSIM_UPDATE_GOLDEN") == "1"


def _deployment(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "img:1",
                            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                            "readinessProbe": {"initialDelaySeconds": 3, "periodSeconds": 5},
                        }
                    ]
                },
            },
        },
    }


def _run(script: Callable[[Simulation, APIServer], None]) -> str:
    sim = Simulation(seed=11)
    api = APIServer(sim, watch_latency=0.2)
    informers = InformerFactory(sim, api)
    start_cluster(sim, api, informers, nodes=[node_object("n0", cpu="4", memory="16Gi"), node_object("n1")])
    script(sim, api)
    return api.audit.to_jsonl()


def _at(sim: Simulation, t: float, fn: Callable[[], Any]) -> None:
    def proc() -> Any:
        yield sim.env.timeout(t - sim.now)
        fn()

    sim.env.process(proc())


def scale_cycle(sim: Simulation, api: APIServer) -> None:
    api.create(_deployment(2), actor="user")
    _at(sim, 30, lambda: api.update_scale("Deployment", "ns", "web", 3, actor="user"))
    _at(sim, 60, lambda: api.update_scale("Deployment", "ns", "web", 0, actor="user"))
    _at(sim, 90, lambda: api.update_scale("Deployment", "ns", "web", 1, actor="user"))
    sim.run(until=120)


def rolling_update(sim: Simulation, api: APIServer) -> None:
    api.create(_deployment(3), actor="user")

    def bump() -> None:
        d = api.get("Deployment", "ns", "web")
        d["spec"]["template"]["spec"]["containers"][0]["image"] = "img:2"
        api.update(d, actor="user")

    _at(sim, 30, bump)
    sim.run(until=90)


@pytest.mark.parametrize("name,script", [("scale_cycle", scale_cycle), ("rolling_update", rolling_update)])
def test_cluster_golden(name: str, script: Callable[[Simulation, APIServer], None]) -> None:
    got = _run(script)
    path = GOLDEN / f"{name}.jsonl"
    if UPDATE or not path.exists():
        path.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {path} was missing and has been written; review it and re-run")
    assert got == path.read_text(encoding="utf-8"), f"audit log differs from {path}"
