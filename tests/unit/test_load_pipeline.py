"""Pipelines derived from DisaggregatedService objects; endpoints from a Pod informer."""

from __future__ import annotations

from typing import Any

import pytest

from sim.load import InformerEndpoints, PipelineError, pipeline_from_service
from sim.load.pipeline import RoleStep, TransferStep
from sim.load.service_models import ModelKind


def ds(roles: list[dict[str, Any]], service_type: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"roles": roles}
    if service_type:
        spec["serviceType"] = service_type
    return {"metadata": {"name": "p", "namespace": "ns"}, "spec": spec}


def path(spec: Any) -> list[tuple[str, str]]:
    return [(s.role, s.kind.value) if isinstance(s, RoleStep) else ("~", "transfer") for s in spec.steps]


def test_embedding_pipeline_from_the_pull_request_example() -> None:
    spec = pipeline_from_service(
        ds(
            [
                {"name": "router", "roleType": "Router", "replicas": 1},
                {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 2},
                {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
            ],
            "Embedding",
        )
    )
    assert path(spec) == [("router", "router"), ("tokenizer", "tokenizer"), ("inference", "embedding")]
    assert (spec.name, spec.namespace, spec.roles) == ("p", "ns", ["router", "tokenizer", "inference"])


def test_prefill_decode_pipeline_has_kv_transfer() -> None:
    spec = pipeline_from_service(
        ds(
            [
                {"name": "decode", "roleType": "Decode", "dependsOn": ["prefill"]},
                {"name": "prefill", "roleType": "Prefill"},
                {"name": "gw", "roleType": "Router"},
            ]
        )
    )
    assert path(spec) == [("gw", "router"), ("prefill", "prefill"), ("~", "transfer"), ("decode", "decode")]
    assert isinstance(spec.steps[2], TransferStep)


def test_custom_chain_in_dependency_order() -> None:
    spec = pipeline_from_service(
        ds(
            [
                {"name": "c", "roleType": "Custom", "dependsOn": ["b"]},
                {"name": "a", "roleType": "Custom"},
                {"name": "b", "roleType": "Custom", "dependsOn": ["a"]},
                {"name": "z", "roleType": "Custom"},
            ]
        )
    )
    assert path(spec) == [("a", "fixed"), ("b", "fixed"), ("c", "fixed"), ("z", "fixed")]


@pytest.mark.parametrize(
    ("roles", "where", "bad"),
    [
        ([], "spec.roles", []),
        ([{"name": "a", "roleType": "Gateway"}], "spec.roles[0].roleType", "Gateway"),
        ([{"name": "a", "roleType": "Custom", "dependsOn": ["x"]}], "spec.roles[0].dependsOn[0]", "x"),
        (
            [
                {"name": "a", "roleType": "Custom", "dependsOn": ["b"]},
                {"name": "b", "roleType": "Custom", "dependsOn": ["a"]},
            ],
            "spec.roles[*].dependsOn",
            ["a", "b"],
        ),
    ],
)
def test_bad_services_name_path_and_value(roles: list[dict[str, Any]], where: str, bad: object) -> None:
    with pytest.raises(PipelineError) as exc:
        pipeline_from_service(ds(roles))
    assert (exc.value.path, exc.value.value) == (where, bad)


def test_kind_defaults() -> None:
    spec = pipeline_from_service(ds([{"name": "llm", "roleType": "Inference"}]))
    assert [s.kind for s in spec.steps if isinstance(s, RoleStep)] == [ModelKind.DECODE]


class FakeCache:
    """The informer cache interface InformerEndpoints relies on."""

    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] = []
        self.handlers: list[Any] = []

    def list(self, namespace: str, selector: dict[str, Any]) -> list[dict[str, Any]]:
        want = selector["matchLabels"]
        return [
            p
            for p in self.pods
            if p["metadata"]["namespace"] == namespace
            and all(p["metadata"]["labels"].get(k) == v for k, v in want.items())
        ]

    def add_event_handler(self, fn: Any) -> None:
        self.handlers.append(fn)

    def put(self, pod: dict[str, Any]) -> None:
        self.pods = [p for p in self.pods if p["metadata"]["name"] != pod["metadata"]["name"]] + [pod]
        for fn in self.handlers:
            fn(pod)


def pod(name: str, role: str, ready: bool, service: str = "p", deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "labels": {"scaler.bud.studio/disaggregated-service": service, "scaler.bud.studio/role": role},
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_informer_endpoints_follow_ready_condition() -> None:
    cache = FakeCache()
    cache.put(pod("d-b", "decode", True))
    ep = InformerEndpoints(cache, "ns", "p", ["prefill", "decode"])
    changes: list[str] = []
    ep.subscribe(changes.append)
    assert list(ep.ready_pods("decode")) == ["d-b"]
    cache.put(pod("d-a", "decode", False))
    cache.put(pod("other", "decode", True, service="q"))
    assert changes == []
    cache.put(pod("d-a", "decode", True))
    assert list(ep.ready_pods("decode")) == ["d-a", "d-b"]
    cache.put(pod("p-0", "prefill", True))
    cache.put(pod("d-b", "decode", True, deleting=True))
    assert changes == ["decode", "prefill", "decode"]
    assert list(ep.ready_pods("decode")) == ["d-a"]


def test_informer_endpoints_over_the_fake_api_server() -> None:
    from sim.apiserver import APIServer
    from sim.clock import Simulation
    from sim.runtime import InformerFactory

    sim = Simulation(0)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)

    def make(name: str, role: str) -> None:
        p = pod(name, role, False)
        api.create(
            dict(p, apiVersion="v1", kind="Pod", spec={"containers": [{"name": "main", "image": "x"}]})
        )

    make("decode-a", "decode")
    ep = InformerEndpoints(informers.informer("Pod"), "ns", "p", ["decode"])
    changes: list[tuple[float, str]] = []
    ep.subscribe(lambda role: changes.append((sim.now, role)))
    assert list(ep.ready_pods("decode")) == []

    def later() -> Any:
        yield sim.env.timeout(5.0)
        obj = api.get("Pod", "ns", "decode-a")
        obj["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        api.update_status(obj)

    def add_and_delete() -> Any:
        yield sim.env.timeout(10.0)
        make("decode-0", "decode")
        obj = api.get("Pod", "ns", "decode-0")
        obj["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        api.update_status(obj)
        make("prefill-0", "prefill")  # a role outside this endpoints' roles: ignored
        yield sim.env.timeout(5.0)
        api.delete("Pod", "ns", "decode-a")

    sim.env.process(later())
    sim.env.process(add_and_delete())
    sim.run(until=10.0)
    assert list(ep.ready_pods("decode")) == ["decode-a"]
    sim.run(until=12.0)
    assert list(ep.ready_pods("decode")) == ["decode-0", "decode-a"]
    sim.run(until=20.0)
    assert list(ep.ready_pods("decode")) == ["decode-0"]
    assert changes == [(5.0, "decode"), (10.0, "decode"), (15.0, "decode")]


def test_balancing_accepts_scenario_spellings() -> None:
    from sim.load import Balancing

    assert Balancing("round-robin") is Balancing.ROUND_ROBIN
    assert Balancing("least-loaded") is Balancing.LEAST_LOADED
    assert Balancing("leastLoaded") is Balancing.LEAST_LOADED
    with pytest.raises(ValueError):
        Balancing("random")
