"""Determinism: the audit log of a one-hour run with three Deployments scaling up and down (seeded
stage delays, watch jitter, injected conflicts) is byte-identical across runs and across
PYTHONHASHSEED values (subprocesses)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]


def one_hour_audit() -> str:
    from model.scenario import DelaySpec
    from sim.apiserver import APIServer, FaultWindow
    from sim.apiserver.errors import ApiError
    from sim.clock import Simulation
    from sim.cluster import node_object, start_cluster
    from sim.cluster.stages import LifecycleState, Stage, default_stages
    from sim.runtime import InformerFactory

    sim = Simulation(seed=42)
    api = APIServer(sim, watch_latency=0.05, watch_jitter=0.1, gc_delay=1.0)
    informers = InformerFactory(sim, api)
    stages = default_stages().with_overrides(
        [
            Stage(
                name="image-pull",
                **{"from": LifecycleState.SCHEDULED, "to": LifecycleState.PULLED},
                delay=DelaySpec(distribution="uniform", low=0.5, high=3.0),
            ),
            Stage(
                name="ready",
                **{"from": LifecycleState.RUNNING, "to": LifecycleState.READY},
                selector={"matchLabels": {"app": "decode"}},
                delay=DelaySpec(distribution="lognormal", median=60.0, sigma=0.3),
            ),
            Stage(
                name="crash",
                **{"from": LifecycleState.RUNNING, "to": LifecycleState.CRASHED},
                delay=DelaySpec(distribution="empirical", values=[3.0, 7.0, 11.0]),
                probability=0.1,
            ),
        ]
    )
    nodes = [node_object(f"n{i}", cpu="16", memory="64Gi", gpus=4) for i in range(3)]
    start_cluster(sim, api, informers, nodes=nodes, stages=stages)
    api.faults.add(FaultWindow(start=600.0, end=900.0, kind="conflict", probability=0.3))
    names = ["router", "prefill", "decode"]
    for name in names:
        api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": "ds"},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {
                            "containers": [
                                {
                                    "name": "app",
                                    "image": f"{name}:1",
                                    "resources": {
                                        "requests": {
                                            "cpu": "500m",
                                            "nvidia.com/gpu": "1" if name == "decode" else "0",
                                        }
                                    },
                                    "readinessProbe": {"initialDelaySeconds": 2, "periodSeconds": 5},
                                }
                            ]
                        },
                    },
                },
            },
            actor="test",
        )

    def scaler() -> Any:
        rng = sim.seeds.stream("test-scaler")
        while sim.now < 3600:
            yield sim.env.timeout(float(rng.uniform(60, 300)))
            name = names[int(rng.integers(len(names)))]
            with contextlib.suppress(ApiError):  # injected conflicts hit this client too
                api.update_scale("Deployment", "ds", name, int(rng.integers(0, 6)), actor="test-scaler")

    sim.env.process(scaler())
    sim.run(until=3600)
    return api.audit.to_jsonl()


def digest() -> str:
    return hashlib.sha256(one_hour_audit().encode()).hexdigest()


def test_audit_log_identical_across_runs_and_hash_seeds() -> None:
    first = one_hour_audit()
    assert len(first.splitlines()) > 200
    assert one_hour_audit() == first
    want = hashlib.sha256(first.encode()).hexdigest()
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, str(HERE)], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        assert out.stdout.strip() == want, f"PYTHONHASHSEED={seed}"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(digest())
