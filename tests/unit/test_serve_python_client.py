"""The official `kubernetes` Python client against `dsim serve` in step mode: list, watch the role
Pods' transitions while the clock is stepped, patch a BudAIScaler's maxReplicas mid-run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402

from sim.serve import ServeServer  # noqa: E402
from tests.helpers.serve import serving  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeServer, Any]]:
    kc = tmp_path_factory.mktemp("serve") / "kubeconfig"
    with serving("per-role-autoscaling.yaml", kubeconfig=kc) as server:
        yield server, config.new_client_from_config(str(kc))


def _inference_replicas(api: Any) -> int:
    dep = client.AppsV1Api(api).read_namespaced_deployment("embedding-pipeline-inference", "default")
    return int(dep.spec.replicas)


def test_list_watch_and_patch_budaiscaler_mid_run(served: tuple[ServeServer, Any]) -> None:
    server, api = served
    v1 = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    driver = server.driver

    pods = v1.list_namespaced_pod("default")
    assert pods.items == []  # t=0: nothing scheduled yet
    scalers = custom.list_namespaced_custom_object("scaler.bud.studio", "v1alpha1", "default", "budaiscalers")
    assert {s["metadata"]["name"] for s in scalers["items"]} == {
        "router-scaler",
        "tokenizer-scaler",
        "inference-scaler",
    }

    seen: list[tuple[str, str, str]] = []
    w = watch.Watch()
    ready = threading.Event()

    def watcher() -> None:
        stream = w.stream(
            v1.list_namespaced_pod,
            "default",
            label_selector="scaler.bud.studio/role",
            resource_version=pods.metadata.resource_version,
            timeout_seconds=20,
        )
        ready.set()
        try:
            for event in stream:
                pod = event["object"]
                seen.append((event["type"], pod.metadata.name, pod.status.phase or ""))
        except urllib3.exceptions.ProtocolError:
            assert w._stop  # Watch.stop() closes the response under the reading thread (client behaviour)

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    ready.wait(5)
    for _ in range(4):  # 120 s in 30 s steps
        driver.advance(30)
    assert _inference_replicas(api) == 2

    # mid-run: cap the inference role at 3 (the step to 60 req/s at 2m would take it to 6, then 10)
    custom.patch_namespaced_custom_object(
        "scaler.bud.studio",
        "v1alpha1",
        "default",
        "budaiscalers",
        "inference-scaler",
        {"spec": {"maxReplicas": 3}},
    )
    got = custom.get_namespaced_custom_object(
        "scaler.bud.studio", "v1alpha1", "default", "budaiscalers", "inference-scaler"
    )
    assert got["spec"]["maxReplicas"] == 3
    peak = 0
    for _ in range(4):  # to 4m, through the step
        driver.advance(30)
        peak = max(peak, _inference_replicas(api))
    assert peak == 3  # scaled up, but never past the patched maximum (10 without the patch)

    w.stop()
    thread.join(25)
    inference = [s for s in seen if "inference" in s[1]]
    assert ("ADDED", inference[0][1], "Pending") in seen
    assert any(t == "MODIFIED" and phase == "Running" for t, _, phase in inference)
    names = {n for _, n, _ in inference}
    assert len(names) >= 3  # the two initial pods and the scale-up


def test_status_errors_reach_the_client(served: tuple[ServeServer, Any]) -> None:
    _, api = served
    v1 = client.CoreV1Api(api)
    with pytest.raises(client.ApiException) as missing:
        v1.read_namespaced_pod("no-such-pod", "default")
    assert missing.value.status == 404
    custom = client.CustomObjectsApi(api)
    with pytest.raises(client.ApiException) as invalid:
        custom.patch_namespaced_custom_object(
            "scaler.bud.studio",
            "v1alpha1",
            "default",
            "budaiscalers",
            "router-scaler",
            {"spec": {"maxReplicas": "x"}},
        )
    assert invalid.value.status == 422
    assert '"reason":"Invalid"' in invalid.value.body
    current = custom.get_namespaced_custom_object(
        "scaler.bud.studio", "v1alpha1", "default", "budaiscalers", "router-scaler"
    )
    stale = dict(current, metadata={**current["metadata"], "resourceVersion": "1"})
    with pytest.raises(client.ApiException) as conflict:
        custom.replace_namespaced_custom_object(
            "scaler.bud.studio", "v1alpha1", "default", "budaiscalers", "router-scaler", stale
        )
    assert conflict.value.status == 409
