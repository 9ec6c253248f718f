"""The pytest plugin works for a user outside this project: a temporary folder with the user's own
manifest and test file (no conftest, no project files) gets the `sim_cluster`, `apply`, `advance`
and `load` fixtures through the `pytest11` entry point and the strategies by import. One test passes
(a healthy pipeline, plus a Hypothesis property over `load_traces()`), one fails as it should (a
zero-replica dependency under `--dsim-profile upstream` breaks `dependents_start`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_MANIFEST = """\
apiVersion: scaler.bud.studio/v1alpha1
kind: DisaggregatedService
metadata:
  name: my-pipeline
spec:
  serviceType: Embedding
  roles:
    - {name: router, roleType: Router, replicas: 1}
    - {name: tokenizer, roleType: Tokenizer, replicas: 1}
    - {name: inference, roleType: Inference, replicas: 2, dependsOn: [tokenizer]}
---
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: {name: inference-scaler}
spec:
  scaleTargetRef: {apiVersion: scaler.bud.studio/v1alpha1, kind: DisaggregatedService, name: my-pipeline}
  subTargetSelector: {roleName: inference}
  minReplicas: 1
  maxReplicas: 5
  scalingStrategy: BudScaler
  metricsSources:
    - {metricSourceType: pod, targetMetric: num_requests_waiting, targetValue: "10"}
"""

USER_TESTS = """\
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from sim.testing.cluster import SimCluster
from sim.testing.strategies import load_traces

MANIFEST = Path(__file__).parent / "pipeline.yaml"


def test_my_pipeline_serves(sim_cluster, apply, advance, load):
    apply(MANIFEST)
    advance(30)
    load("my-pipeline", 5)
    advance(120)
    sim_cluster.assert_invariants()
    assert sim_cluster.requests()["completed"] > 0


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(shape=load_traces(max_rate=10, duration=120))
def test_any_load_keeps_invariants(shape):
    cluster = SimCluster(seed=0)
    cluster.apply(MANIFEST)
    cluster.load_shape("my-pipeline", shape)
    cluster.advance(150)
    cluster.assert_invariants()


def test_tokenizer_at_zero_still_lets_inference_start(sim_cluster, apply, advance):
    text = MANIFEST.read_text().replace("{name: tokenizer, roleType: Tokenizer, replicas: 1}",
                                        "{name: tokenizer, roleType: Tokenizer, replicas: 0}")
    apply(text)
    advance(120)
    sim_cluster.assert_invariants(["dependents_start"])
"""


def test_user_folder_outside_the_project(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(USER_MANIFEST, encoding="utf-8")
    (tmp_path / "test_my_pipeline.py").write_text(USER_TESTS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "HYPOTHESIS_PROFILE")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--dsim-profile",
            "upstream",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "2 passed" in out and "1 failed" in out, out
    assert "FAILED test_my_pipeline.py::test_tokenizer_at_zero_still_lets_inference_start" in out, out
    assert "dependents_start" in out and "my-pipeline role inference still has no Deployment" in out, out
    assert not (tmp_path / "conftest.py").exists()
