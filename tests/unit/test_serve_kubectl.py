"""kubectl (installed here) against `dsim serve --step` through the written kubeconfig:
get, apply -f (create, then a strategic-merge apply of a change), scale, delete, explain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.serve import ServeServer
from tests.helpers.serve import serving

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: nginx:{tag}
          resources:
            requests: {{cpu: "1", memory: 1Gi}}
"""


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeServer, Path, Path]]:
    folder = tmp_path_factory.mktemp("kubectl")
    kc = folder / "kubeconfig"
    with serving("llm-prefill-decode.yaml", kubeconfig=kc) as server:
        yield server, kc, folder


def kubectl(
    kc: Path, folder: Path, *args: str, ok: bool = True, editor: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kc), "HOME": str(folder)}
    if editor is not None:
        env["KUBE_EDITOR"] = editor
    done = subprocess.run(
        ["kubectl", "--cache-dir", str(folder / "cache"), "--request-timeout", "20s", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_get_apply_scale_delete(kube: tuple[ServeServer, Path, Path]) -> None:
    server, kc, folder = kube
    assert "127.0.0.1" in kc.read_text() and str(server.port) in kc.read_text()
    server.driver.advance(90)

    table = kubectl(kc, folder, "get", "pods").stdout
    header = table.splitlines()[0].split()
    assert header[:3] == ["NAME", "READY", "STATUS"] and header[-1] == "AGE"
    assert "llm-pipeline-prefill-" in table
    names = kubectl(kc, folder, "get", "deployments", "-o", "name").stdout.split()
    assert "deployment.apps/llm-pipeline-prefill" in names
    ds = json.loads(kubectl(kc, folder, "get", "disaggregatedservices", "llm-pipeline", "-o", "json").stdout)
    assert ds["kind"] == "DisaggregatedService"

    manifest = folder / "web.yaml"
    manifest.write_text(DEPLOYMENT.format(replicas=1, tag="1.25"))
    assert "deployment.apps/web created" in kubectl(kc, folder, "apply", "-f", str(manifest)).stdout
    manifest.write_text(DEPLOYMENT.format(replicas=2, tag="1.27"))
    assert "deployment.apps/web configured" in kubectl(kc, folder, "apply", "-f", str(manifest)).stdout
    web = server.driver.api.peek("Deployment", "default", "web")
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert web["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "1"
    assert "unchanged" in kubectl(kc, folder, "apply", "-f", str(manifest)).stdout

    assert "scaled" in kubectl(kc, folder, "scale", "deployment/web", "--replicas=4").stdout
    assert server.driver.api.peek("Deployment", "default", "web")["spec"]["replicas"] == 4
    server.driver.advance(5)
    pods = kubectl(kc, folder, "get", "pods", "-l", "app=web", "-o", "name").stdout.split()
    assert len(pods) == 4

    assert 'deployment.apps "web" deleted' in kubectl(kc, folder, "delete", "deployment", "web").stdout
    gone = kubectl(kc, folder, "get", "deployment", "web", ok=False)
    assert gone.returncode == 1 and "NotFound" in gone.stderr


def test_invalid_apply_and_explain(kube: tuple[ServeServer, Path, Path]) -> None:
    _, kc, folder = kube
    bad = folder / "bad.yaml"
    bad.write_text(DEPLOYMENT.format(replicas=1, tag="1").replace('cpu: "1"', 'cpu: "1 core"'))
    failed = kubectl(kc, folder, "apply", "-f", str(bad), ok=False)
    assert failed.returncode == 1 and "is invalid" in failed.stderr and "cpu" in failed.stderr
    explained = kubectl(kc, folder, "explain", "budaiscalers.spec").stdout
    assert "maxReplicas" in explained


def test_edit_and_crd_table(kube: tuple[ServeServer, Path, Path]) -> None:
    server, kc, folder = kube
    table = kubectl(kc, folder, "get", "disaggregatedservices").stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "PHASE", "AGE"]
    editor = folder / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/^  serviceType: .*/  serviceType: Custom/' \"$1\"\n")
    editor.chmod(0o755)
    kubectl(kc, folder, "edit", "disaggregatedservice", "llm-pipeline", editor=str(editor))
    edited = server.driver.api.peek("DisaggregatedService", "default", "llm-pipeline")
    assert edited["spec"].get("serviceType") == "Custom"
