"""Benchmark: `dsim validate` throughput and peak memory on a generated 10,000-object multi-document file.

Runs the validation (load, admission, lints: everything but printing) in a fresh subprocess so that peak RSS is
that of validation alone. Throughput is objects per CPU-second of that process (robust to other jobs sharing the
cores) and, as a second figure, per wall-clock second."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

OBJECTS = 10_000


def _objects(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 5
        name = f"obj-{i}"
        if kind in (0, 1):
            labels = {"app": name, "tier": "inference"}
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": name, "namespace": "bench", "labels": labels},
                    "spec": {
                        "replicas": 3,
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "containers": [
                                    {
                                        "name": "server",
                                        "image": "vllm/vllm-openai:v0.6.0",
                                        "ports": [{"containerPort": 8000}],
                                        "resources": {
                                            "requests": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": 1},
                                            "limits": {"nvidia.com/gpu": 1},
                                        },
                                        "readinessProbe": {
                                            "httpGet": {"path": "/health", "port": 8000},
                                            "periodSeconds": 5,
                                        },
                                    }
                                ]
                            },
                        },
                    },
                }
            )
        elif kind == 2:
            out.append(
                {
                    "apiVersion": "scaler.bud.studio/v1alpha1",
                    "kind": "DisaggregatedService",
                    "metadata": {"name": name, "namespace": "bench"},
                    "spec": {
                        "serviceType": "Embedding",
                        "roles": [
                            {"name": "router", "roleType": "Router", "replicas": 1},
                            {
                                "name": "tokenizer",
                                "roleType": "Tokenizer",
                                "replicas": 2,
                                "dependsOn": ["router"],
                            },
                            {
                                "name": "inference",
                                "roleType": "Inference",
                                "replicas": 3,
                                "dependsOn": ["tokenizer"],
                            },
                        ],
                    },
                }
            )
        elif kind == 3:
            out.append(
                {
                    "apiVersion": "scaler.bud.studio/v1alpha1",
                    "kind": "BudAIScaler",
                    "metadata": {
                        "name": name,
                        "namespace": "bench",
                        "annotations": {"scaler.bud.studio/panic-window": "60s"},
                    },
                    "spec": {
                        "scaleTargetRef": {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": f"obj-{i - 3}",
                        },
                        "minReplicas": 1,
                        "maxReplicas": 10,
                        "scalingStrategy": "BudScaler",
                        "metricsSources": [
                            {
                                "metricSourceType": "inferenceEngine",
                                "targetMetric": "gpu_cache_usage_perc",
                                "targetValue": "70",
                                "inferenceEngineConfig": {"engineType": "vllm", "metricsPort": 8000},
                            },
                        ],
                        "behavior": {
                            "scaleUp": {
                                "stabilizationWindowSeconds": 30,
                                "policies": [{"type": "Pods", "value": 2, "periodSeconds": 30}],
                            }
                        },
                    },
                }
            )
        else:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": name, "namespace": "bench"},
                    "spec": {
                        "selector": {"app": name},
                        "ports": [{"port": 80, "targetPort": 8000}],
                        "clusterIP": "None",
                    },
                }
            )
    return out


_CHILD = r"""
import json, resource, sys, time
from model.validation import validate_paths
t0, c0 = time.perf_counter(), time.process_time()
report = validate_paths([sys.argv[1]])
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"objects": len(report.objects), "errors": report.error_count, "elapsed": elapsed, "cpu": cpu,
                  "rss_kb": rss_kb}))
"""


def run() -> dict[str, dict[str, Any]]:
    from model.yamlio import dump_documents

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(dump_documents(_objects(OBJECTS)), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent.parent,
        )
    result = json.loads(proc.stdout)
    if result["objects"] != OBJECTS or result["errors"]:
        raise RuntimeError(f"benchmark input did not validate cleanly: {result}")
    # The headline figure divides by the child's CPU time, so other jobs sharing the cores do not distort it;
    # the wall-clock figure is reported next to it.
    return {
        "validate.objects_per_s": {
            "value": round(OBJECTS / result["cpu"], 1),
            "unit": "objects/s (CPU time)",
            "target": ">= 5000",
        },
        "validate.objects_per_s_wall": {
            "value": round(OBJECTS / result["elapsed"], 1),
            "unit": "objects/s (wall clock)",
            "target": "report",
        },
        "validate.peak_rss_mb": {
            "value": round(result["rss_kb"] / 1024, 1),
            "unit": "MB",
            "target": "report",
        },
    }


if __name__ == "__main__":
    for name, fig in run().items():
        print(f"{name:30s} {fig['value']:>10} {fig['unit']:24s} target {fig['target']}")
