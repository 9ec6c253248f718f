"""`dsim serve` over plain HTTP: token, body limit, Status errors, selectors, limit/continue, watch
resourceVersion semantics (410), the step clock, patches, delete options, pods/log."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from sim.serve import ServeServer
from sim.serve.patches import PatchError, apply_json_patch, apply_strategic_merge
from sim.serve.query import QueryError, parse_field_selector, parse_label_selector
from tests.helpers.serve import serving


def call(
    server: ServeServer,
    method: str,
    path: str,
    body: Any = None,
    ctype: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": ctype, **(headers or {})})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ServeServer]:
    with serving("llm-prefill-decode.yaml", max_body=64 * 1024) as s:
        s.driver.advance(90)
        yield s


def test_token_required_on_every_request() -> None:
    with serving("llm-prefill-decode.yaml", token="s3cret") as s:
        for path in ("/version", "/api/v1/pods", "/dsim/v1/clock", "/nope"):
            code, doc = call(s, "GET", path)
            assert code == 401 and doc["reason"] == "Unauthorized"
        code, _ = call(s, "GET", "/version", headers={"Authorization": "Bearer wrong"})
        assert code == 401
        code, doc = call(s, "GET", "/api/v1/pods", headers={"Authorization": "Bearer s3cret"})
        assert code == 200 and doc["kind"] == "PodList"


def test_body_limit_is_413(server: ServeServer) -> None:
    big = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"}, "x": "a" * 70_000}
    code, doc = call(server, "POST", "/api/v1/namespaces/default/pods", big)
    assert code == 413 and doc["reason"] == "RequestEntityTooLarge"


@pytest.mark.parametrize(
    ("method", "path", "body", "ctype", "code", "reason"),
    [
        ("GET", "/api/v1/namespaces/default/pods/nope", None, "application/json", 404, "NotFound"),
        ("GET", "/apis/nope/v1/things", None, "application/json", 404, "NotFound"),
        ("POST", "/api/v1/namespaces/default/pods", b"{not json", "application/json", 400, "BadRequest"),
        ("POST", "/api/v1/namespaces/default/pods", b"[1, 2]", "application/json", 400, "BadRequest"),
        (
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            {"kind": "Pod"},
            "application/json",
            400,
            "BadRequest",
        ),
        (
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            {"metadata": {"name": "d"}, "spec": {}},
            "application/json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/llm-pipeline-prefill",
            {"spec": {"replicas": "x"}},
            "application/merge-patch+json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/llm-pipeline-prefill",
            {},
            "text/plain",
            415,
            "UnsupportedMediaType",
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/llm-pipeline-prefill",
            [{"op": "test", "path": "/spec/replicas", "value": 99}],
            "application/json-patch+json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/llm-pipeline-prefill",
            {"metadata": {"resourceVersion": "1"}},
            "application/merge-patch+json",
            409,
            "Conflict",
        ),
        (
            "PUT",
            "/apis/scaler.bud.studio/v1alpha1/namespaces/default/disaggregatedservices/llm-pipeline",
            {"metadata": {"name": "llm-pipeline"}, "spec": {}},
            "application/json",
            422,
            "Invalid",
        ),
        ("DELETE", "/api/v1/namespaces/default/pods", None, "application/json", 405, "MethodNotAllowed"),
        ("GET", "/api/v1/pods?labelSelector=a%20in%20(x", None, "application/json", 400, "BadRequest"),
        ("GET", "/api/v1/pods?limit=-3", None, "application/json", 400, "BadRequest"),
        (
            "POST",
            "/api/v1/namespaces/default/pods",
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "other"}},
            "application/json",
            400,
            "BadRequest",
        ),
        ("POST", "/dsim/v1/advance?seconds=abc", None, "application/json", 400, "BadRequest"),
    ],
)
def test_status_errors(
    server: ServeServer, method: str, path: str, body: Any, ctype: str, code: int, reason: str
) -> None:
    got, doc = call(server, method, path, body, ctype)
    assert (got, doc["kind"], doc["reason"], doc["code"]) == (code, "Status", reason, code), doc


def test_list_selectors_and_pages(server: ServeServer) -> None:
    code, doc = call(
        server, "GET", "/api/v1/namespaces/default/pods?labelSelector=scaler.bud.studio/role%3Dprefill"
    )
    assert code == 200 and len(doc["items"]) == 2
    names = [p["metadata"]["name"] for p in doc["items"]]
    code, doc = call(server, "GET", f"/api/v1/pods?fieldSelector=metadata.name%3D{names[0]}")
    assert [p["metadata"]["name"] for p in doc["items"]] == names[:1]
    _, page1 = call(server, "GET", "/api/v1/namespaces/default/pods?limit=1")
    assert len(page1["items"]) == 1 and page1["metadata"]["remainingItemCount"] >= 1
    _, page2 = call(
        server, "GET", f"/api/v1/namespaces/default/pods?limit=1&continue={page1['metadata']['continue']}"
    )
    assert page2["items"][0]["metadata"]["name"] != page1["items"][0]["metadata"]["name"]
    _, table = call(
        server,
        "GET",
        "/api/v1/namespaces/default/pods",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
    )
    assert table["kind"] == "Table" and table["columnDefinitions"][0]["name"] == "Name"
    _, ns = call(server, "GET", "/api/v1/namespaces")
    assert "default" in [n["metadata"]["name"] for n in ns["items"]]


def _watch_lines(server: ServeServer, path: str) -> list[dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    assert resp.status == 200
    lines = [json.loads(x) for x in resp.read().splitlines() if x.strip()]
    conn.close()
    return lines


def test_watch_from_resource_version_and_410(server: ServeServer) -> None:
    _, clock = call(server, "GET", "/dsim/v1/clock")
    rv = clock["resourceVersion"]
    server.driver.advance(30)
    events = _watch_lines(
        server, f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1"
    )
    assert events and all(e["type"] in ("ADDED", "MODIFIED", "DELETED") for e in events)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)
    gone = _watch_lines(server, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=2&timeoutSeconds=1")
    assert gone[0]["type"] == "ERROR" and gone[0]["object"]["code"] == 410


def test_step_clock_and_pod_log(server: ServeServer) -> None:
    _, before = call(server, "GET", "/dsim/v1/clock")
    code, after = call(server, "POST", "/dsim/v1/advance?seconds=2.5")
    assert code == 200 and after["now"] == before["now"] + 2.5 and after["mode"] == "step"
    _, pods = call(
        server, "GET", "/api/v1/namespaces/default/pods?labelSelector=scaler.bud.studio/role%3Dprefill"
    )
    name = pods["items"][0]["metadata"]["name"]
    code, log = call(server, "GET", f"/api/v1/namespaces/default/pods/{name}/log")
    assert code == 200 and "phase=Running" in log


def test_delete_preconditions(server: ServeServer) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments/llm-pipeline-prefill"
    code, _ = call(server, "DELETE", path, {"preconditions": {"uid": "nope"}})
    assert code == 409
    code, _ = call(server, "DELETE", path, {"propagationPolicy": "Sideways"})
    assert code == 400


def test_strategic_merge_subset() -> None:
    old = {
        "spec": {
            "containers": [
                {"name": "a", "image": "x:1", "env": [{"name": "K", "value": "1"}]},
                {"name": "b", "image": "y"},
            ]
        }
    }
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "a", "image": "x:2"}, {"name": "b", "$patch": "delete"}],
        }
    }
    out = apply_strategic_merge(old, patch)
    assert out == {
        "spec": {"containers": [{"name": "a", "image": "x:2", "env": [{"name": "K", "value": "1"}]}]}
    }
    assert old["spec"]["containers"][0]["image"] == "x:1"  # not mutated
    assert apply_strategic_merge({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert apply_strategic_merge({"a": {"b": 1}}, {"a": None}) == {}


def test_json_patch() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    out = apply_json_patch(
        doc,
        [
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "replace", "path": "/b/c", "value": 2},
            {"op": "move", "from": "/b", "path": "/d"},
            {"op": "remove", "path": "/a/0"},
        ],
    )
    assert out == {"a": [2, 3], "d": {"c": 2}} and doc == {"a": [1, 2], "b": {"c": 1}}
    for bad in (
        [{"op": "remove", "path": "/zz"}],
        [{"op": "x", "path": "/a"}],
        {"op": "add"},
        [{"op": "add", "path": "a", "value": 1}],
    ):
        with pytest.raises(PatchError):
            apply_json_patch(doc, bad)


def test_selector_parsing() -> None:
    assert parse_label_selector("a=b,c!=d,e in (x, y),!f,g") == {
        "matchLabels": {"a": "b"},
        "matchExpressions": [
            {"key": "c", "operator": "NotIn", "values": ["d"]},
            {"key": "e", "operator": "In", "values": ["x", "y"]},
            {"key": "f", "operator": "DoesNotExist"},
            {"key": "g", "operator": "Exists"},
        ],
    }
    assert parse_field_selector("metadata.name=x,status.phase!=Running") == [
        ("metadata.name", True, "x"),
        ("status.phase", False, "Running"),
    ]
    for bad in ("a in x", "!a=b", "a b c"):
        with pytest.raises(QueryError):
            parse_label_selector(bad)
