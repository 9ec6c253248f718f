"""A tiny scenario and sweep for the `dsim sweep` tests (a few simulated minutes, well under a
second of wall time per run)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
apiVersion: dsim/v1
kind: Scenario
name: tiny
seed: 1
duration: 60
manifests:
  - path: manifests/embedding-pipeline.yaml
workload:
  synthetic: {shape: constant, rate: 5, inputTokens: 128, outputTokens: 0}
expectations:
  - {type: completed, min: 50}
"""

SWEEP = """\
apiVersion: dsim/v1
kind: Sweep
name: tiny-sweep
base: tiny.yaml
parameters:
  - path: workload.synthetic.rate
    values: [2, 8]
  - name: maxReplicas
    path: manifests[BudAIScaler/inference-scaler].spec.maxReplicas
    values: [2, 4]
seeds: [1, 2]
slo:
  - {le: [e2e_p99_s, 5]}
"""


def write_tiny(folder: Path, sweep: str = SWEEP, scenario: str = SCENARIO) -> Path:
    """tiny.yaml, its manifests and sweep.yaml in `folder`; returns the sweep file."""
    (folder / "manifests").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "scenarios" / "manifests" / "embedding-pipeline.yaml", folder / "manifests")
    (folder / "tiny.yaml").write_text(scenario)
    path = folder / "sweep.yaml"
    path.write_text(sweep)
    return path


def fake_run(task: object) -> dict[str, object]:
    """A stand-in for `sim.sweep.worker.execute_run` whose worker process dies on key `die`."""
    import os

    key = str(getattr(task, "key", ""))
    if key == "die":
        os._exit(3)  # what an OOM kill or a segfault looks like to the pool
    return {"key": key, "status": "ok"}
