"""Benchmark: DisaggregatedService reconcile decisions per second (12-role steady state) and a whole
embedding pipeline brought up on the simulated cluster (controller + Deployment controller + kubelet)."""

from __future__ import annotations

import time
from typing import Any

from model.admission import admit
from model.quirks import QuirkSet
from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.cluster import start_cluster
from sim.controllers.disaggregated import start_disaggregated_controller
from sim.decisions.disaggregated import desired_deployment, desired_service, plan_reconcile
from sim.runtime import InformerFactory

PLANS = 2_000
BRINGUPS = 20


def _ds(n: int) -> dict[str, Any]:
    roles = [
        {
            "name": f"r{i}",
            "roleType": "Router" if i == 0 else "Inference",
            "replicas": 2,
            **({"dependsOn": [f"r{i - 1}"]} if i else {}),
        }
        for i in range(n)
    ]
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "bench", "namespace": "ns", "uid": "u", "generation": 1},
        "spec": {"roles": roles},
    }


def _plans_per_s() -> float:
    ds = _ds(12)
    deps = []
    for r in ds["spec"]["roles"]:
        d = desired_deployment(ds, r, track_applied=True)
        d["metadata"]["generation"] = 1
        d["status"] = {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2}
        deps.append(d)
    svcs = [desired_service(ds, r) for r in ds["spec"]["roles"]]
    start = time.perf_counter()
    for i in range(PLANS):
        plan_reconcile(
            ds,
            deps,
            svcs,
            now=float(i),
            timestamp="2026-01-01T00:00:00Z",
            ready_requires_nonzero=False,
            overwrite_replicas=False,
        )
    return PLANS / (time.perf_counter() - start)


def _bringup_seconds() -> float:
    start = time.perf_counter()
    for seed in range(BRINGUPS):
        sim = Simulation(seed)
        api = APIServer(sim, admission=admit)
        informers = InformerFactory(sim, api)
        start_cluster(sim, api, informers)
        start_disaggregated_controller(sim, api, informers, quirks=QuirkSet.corrected())
        ds = _ds(3)
        del ds["metadata"]["uid"], ds["metadata"]["generation"]
        api.create(ds, actor="bench")
        sim.run(until=60)
    return (time.perf_counter() - start) / BRINGUPS


def run() -> dict[str, dict[str, Any]]:
    return {
        "ds.reconcile_plans_per_s": {
            "value": round(_plans_per_s(), 1),
            "unit": "plans/s",
            "target": ">= 1000",
        },
        "ds.bringup_3_roles_60s_ms": {
            "value": round(_bringup_seconds() * 1000, 2),
            "unit": "ms",
            "target": "<= 100",
        },
    }


if __name__ == "__main__":
    for name, fig in run().items():
        print(f"{name}: {fig['value']} {fig['unit']} (target {fig['target']})")
