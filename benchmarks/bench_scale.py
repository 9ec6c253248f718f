"""Scale benchmark (issue 19): a constant 200 req/s Poisson load through router -> prefill -> KV transfer ->
decode with 200 pods (router 20, prefill 60, decode 120), the GPU roles on the vLLM-style engines
(sim/load/engine.py: Llama-3.1-8B on one H100 each), at request level, on one core.

This is the LOAD LAYER with fixed replicas (no API server, cluster or autoscalers: those cost per
reconcile, not per request; the full stack is `replay.azure_conv.*` in bench_replay.py). Token counts are
log-normal, mean 1,000 prompt / 250 output tokens, CV 1 (about the Azure conversation trace's).

Figures, each from a fresh process so the peak RSS is the run's own:
- `scale.rps200_1h.requests_per_wall_s`: arrived requests / wall seconds of build + run (target >= 60,000);
- `scale.rps200_1h.peak_rss_mb` (target <= 300 MB and within 20 % of the 10-minute run's);
- `scale.rps200_10m.*`: the same for 10 minutes, to show memory growth with trace length.

`python -m benchmarks.bench_scale --hours 24` (`make bench-scale`, not in CI) runs the simulated day."""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RATE = 200.0
PODS = {"router": 20, "prefill": 60, "decode": 120}
DS = {
    "apiVersion": "scaler.bud.studio/v1alpha1",
    "kind": "DisaggregatedService",
    "metadata": {"name": "llm", "namespace": "default"},
    "spec": {
        "serviceType": "LLM",
        "roles": [
            {"name": "router", "roleType": "Router", "replicas": PODS["router"]},
            {"name": "prefill", "roleType": "Prefill", "replicas": PODS["prefill"]},
            {
                "name": "decode",
                "roleType": "Decode",
                "replicas": PODS["decode"],
                "dependsOn": ["prefill"],
            },
        ],
    },
}


def scale_run(duration_s: float, seed: int = 1) -> dict[str, float]:
    """One run of `duration_s` simulated seconds; wall time covers building the load layer and running."""
    import numpy as np

    from sim.clock import Simulation
    from sim.engines import build_profile
    from sim.load import LoadSystem, StaticEndpoints, pipeline_from_service
    from sim.load.arrivals import Shape, ShapeKind, TokenDist, synthetic

    profile = build_profile(
        {"model": "meta-llama/Llama-3.1-8B-Instruct", "gpu": "H100-SXM-80GB", "tp": 1},
        gpus_requested=1,
        where="bench",
    )
    sim = Simulation(seed)
    t0 = time.perf_counter()
    arrivals = synthetic(
        Shape(kind=ShapeKind.CONSTANT, duration=duration_s, rate=RATE, resolution=60.0),
        np.random.default_rng(seed),
        TokenDist(mean=1000.0, cv=1.0, maximum=32_000),
        TokenDist(mean=250.0, cv=1.0, maximum=4_000),
    )
    load = LoadSystem(
        sim,
        pipeline_from_service(DS),
        arrivals,
        StaticEndpoints.replicas(PODS),
        engines={"prefill": profile, "decode": profile},
    )
    load.start()
    sim.run(until=duration_s + 600.0)  # ten minutes of drain after the last arrival
    wall = time.perf_counter() - t0
    st = load.stats()
    return {
        "wall_s": wall,
        "arrived": float(st.arrived),
        "completed": float(st.completed),
        "dropped": float(st.dropped),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _measure(duration_s: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_scale", "--child", str(duration_s)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _figures(name: str, r: dict[str, float], rss_target: str) -> dict[str, dict[str, Any]]:
    return {
        f"scale.{name}.requests_per_wall_s": {
            "value": r["arrived"] / r["wall_s"],
            "unit": "requests / wall s",
            "target": ">= 60000 (load layer, 200 pods, vLLM-style engines, fixed replicas)",
        },
        f"scale.{name}.peak_rss_mb": {"value": r["peak_rss_mb"], "unit": "MiB", "target": rss_target},
        f"scale.{name}.requests": {"value": r["arrived"], "unit": "requests", "target": ""},
        f"scale.{name}.completed": {"value": r["completed"], "unit": "requests", "target": ""},
    }


def run() -> dict[str, dict[str, Any]]:
    short = _measure(600.0)
    hour = _measure(3600.0)
    out = _figures("rps200_10m", short, "reference for rps200_1h")
    out.update(_figures("rps200_1h", hour, "<= 300, within 20 % of scale.rps200_10m.peak_rss_mb"))
    out["scale.rps200_1h.rss_growth_vs_10m"] = {
        "value": hour["peak_rss_mb"] / short["peak_rss_mb"] - 1.0,
        "unit": "fraction",
        "target": "<= 0.2",
    }
    return out


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--child":
        gc.set_threshold(100_000, 50, 100)  # as bench_replay / bench_control_plane
        print(json.dumps(scale_run(float(argv[1]))))
        return
    if len(argv) == 2 and argv[0] == "--hours":
        r = _measure(float(argv[1]) * 3600.0)
        name = f"rps200_{argv[1]}h"
        for key, fig in sorted(_figures(name, r, "<= 300").items()):
            print(f"{key:45s} {fig['value']:>14,.1f} {fig['unit']}")
        print(f"wall {r['wall_s']:.1f} s")
        return
    for key, fig in sorted(run().items()):
        print(f"{key:45s} {fig['value']:>14,.1f} {fig['unit']}")


if __name__ == "__main__":
    main(sys.argv[1:])
