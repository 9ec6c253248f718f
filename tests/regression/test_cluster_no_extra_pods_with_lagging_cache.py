"""Symptom: with a slow watch, the Deployment controller re-read its stale cache and created pods
again on every reconcile. Expectations (as in the ReplicaSet controller) must prevent it."""

from __future__ import annotations

from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.cluster import start_cluster
from sim.runtime import InformerFactory


def test_lagging_cache_does_not_duplicate_pods() -> None:
    sim = Simulation(seed=3)
    api = APIServer(sim, watch_latency=2.0, watch_jitter=1.0)
    informers = InformerFactory(sim, api)
    start_cluster(sim, api, informers)
    api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {
                "replicas": 5,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        }
    )
    sim.run(until=120)
    pod_creates = [
        e for e in api.audit.entries if e.kind == "Pod" and e.verb == "create" and e.subresource is None
    ]
    assert len(pod_creates) == 5
    assert len(api.list("Pod")) == 5
    st = api.get("Deployment", "ns", "web")["status"]
    assert (st["replicas"], st["readyReplicas"], st["availableReplicas"]) == (5, 5, 5)
