"""Benchmark: BudScaler and KPA decisions per second (with quirk attribution), and a conformance run."""

from __future__ import annotations

import time
from pathlib import Path

from model.quirks import QuirkSet
from sim.conformance.runner import run_files
from sim.decisions.bud import (
    AlgorithmState,
    MetricSnapshot,
    MetricSourceSpec,
    ScalingContext,
    ScalingPolicy,
    ScalingRequest,
    compute_recommendation,
)

DECISIONS = 5_000
VECTORS = Path(__file__).resolve().parents[1] / "tests" / "data" / "conformance" / "budscaler_vectors.json"


def _decisions_per_s(strategy: str, quirks: QuirkSet) -> float:
    ctx = ScalingContext(
        strategy=strategy,
        metric_sources=(MetricSourceSpec("rps", "10"), MetricSourceSpec("queue", "5")),
        scale_up_policies=(ScalingPolicy("Pods", 2, 60),),
        scale_down_policies=(ScalingPolicy("Percent", 50, 60),),
    )
    state: AlgorithmState | None = None
    current = 4
    start = time.perf_counter()
    for i in range(DECISIONS):
        load = 5.0 + (i % 40)
        request = ScalingRequest(
            current_replicas=current,
            ready_pod_count=current,
            metric_snapshots={"rps": MetricSnapshot(load), "queue": MetricSnapshot(load / 4)},
            last_scale_time=None,
        )
        rec = compute_recommendation(ctx, request, now=15.0 * i, quirks=quirks, state=state)
        state, current = rec.state, rec.desired_replicas
    return DECISIONS / (time.perf_counter() - start)


def run() -> dict[str, dict[str, object]]:
    start = time.perf_counter()
    report = run_files([str(VECTORS)])
    conformance_s = time.perf_counter() - start
    return {
        "budscaler.decisions_per_s.upstream": {
            "value": _decisions_per_s("BudScaler", QuirkSet.upstream()),
            "unit": "decisions/s",
            "target": ">= 1000 (attribution re-evaluates each enabled quirk)",
        },
        "budscaler.decisions_per_s.corrected": {
            "value": _decisions_per_s("BudScaler", QuirkSet.corrected()),
            "unit": "decisions/s",
            "target": ">= 5000",
        },
        "kpa.decisions_per_s.upstream": {
            "value": _decisions_per_s("KPA", QuirkSet.upstream()),
            "unit": "decisions/s",
            "target": ">= 1000",
        },
        "budscaler.conformance_s": {
            "value": conformance_s,
            "unit": f"s for {report.passed + report.failed} vectors",
            "target": "< 1",
        },
    }


if __name__ == "__main__":
    for name, fig in run().items():
        print(f"{name}: {fig['value']:.1f} {fig['unit']} (target {fig['target']})")
