"""Benchmark: the simulated control plane with 100 Deployments x 100 replicas (10,000 pods) created,
brought to Ready, then scaled to 0. Runs in a subprocess so peak RSS is this workload's alone."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

DEPLOYMENTS = 100
REPLICAS = 100
NODES = 10


def workload(
    deployments: int = DEPLOYMENTS, replicas: int = REPLICAS, tuned_gc: bool = True
) -> dict[str, float]:
    import gc
    import resource
    import time

    if tuned_gc:
        # Fewer young-generation collections: a run keeps ~10^5 long-lived dicts, and CPython's
        # default threshold (700) makes the collector rescan them constantly (~25-45% of the time).
        # Recommended for `dsim run` as well (see docs/control-plane.md, Performance).
        gc.set_threshold(100_000, 50, 100)

    from sim.apiserver import APIServer
    from sim.clock import Simulation
    from sim.cluster import node_object, start_cluster
    from sim.runtime import InformerFactory

    sim = Simulation(seed=1)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)
    nodes = [node_object(f"node-{i}", cpu="2000", memory="8Ti", pods=2000) for i in range(NODES)]
    cluster = start_cluster(sim, api, informers, nodes=nodes)
    cluster.kubelet.keep_log = False
    cluster.deployment_controller.keep_log = False
    total = deployments * replicas
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(deployments):
        api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"d{i:03d}", "namespace": "bench"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": f"d{i:03d}"}},
                    "template": {
                        "metadata": {"labels": {"app": f"d{i:03d}"}},
                        "spec": {"containers": [{"name": "app", "image": "img:1"}]},
                    },
                },
            },
            actor="bench",
        )
    sim.run(until=60)
    t_ready = time.perf_counter() - t0
    c_ready = time.process_time() - c0
    ready = sum(d["status"].get("readyReplicas", 0) for d in api.all_objects("Deployment"))
    assert ready == total, f"only {ready} of {total} pods became Ready"
    for i in range(deployments):
        api.update_scale("Deployment", "bench", f"d{i:03d}", 0, actor="bench")
    sim.run(until=180)
    t_all = time.perf_counter() - t0
    remaining = len(api.store.objects.get("Pod", {}))
    assert remaining == 0, f"{remaining} pods left after scale to 0"
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "pods_ready_per_s": total / t_ready,
        "api_writes_per_s": api.writes / t_all,
        "peak_rss_mb": rss_kb / 1024.0,
        "wall_ready_s": t_ready,
        "cpu_ready_s": c_ready,
        "pods_ready_per_cpu_s": total / c_ready,
        "wall_total_s": t_all,
        "writes": float(api.writes),
    }


def _measure(tuned_gc: bool) -> dict[str, float]:
    code = (
        "import json, benchmarks.bench_control_plane as b; "
        f"print(json.dumps(b.workload(tuned_gc={tuned_gc})))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run() -> dict[str, dict[str, Any]]:
    r = _measure(tuned_gc=True)
    d = _measure(tuned_gc=False)
    return {
        "control_plane.pods_ready_per_s": {
            "value": r["pods_ready_per_s"],
            "unit": "pods/s",
            "target": ">= 5000",
        },
        "control_plane.api_writes_per_s": {"value": r["api_writes_per_s"], "unit": "writes/s", "target": ""},
        "control_plane.peak_rss_mb": {"value": r["peak_rss_mb"], "unit": "MB", "target": "<= 300"},
        "control_plane.pods_ready_per_cpu_s": {
            "value": r["pods_ready_per_cpu_s"],
            "unit": "pods/CPU-s",
            "target": "(load-independent companion of pods_ready_per_s)",
        },
        "control_plane.pods_ready_per_s_default_gc": {
            "value": d["pods_ready_per_s"],
            "unit": "pods/s",
            "target": "(CPython default gc thresholds)",
        },
    }


if __name__ == "__main__":
    print(json.dumps(workload(), indent=2))
