"""Fuzz `dsim serve`: random paths, methods, bodies, content types and query parameters never get a
5xx, and every error is a metav1.Status without a traceback."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.serve import ServeServer
from tests.helpers.serve import serving


@pytest.fixture(scope="module")
def server() -> Iterator[ServeServer]:
    with serving("llm-prefill-decode.yaml") as s:
        s.driver.advance(60)
        yield s


SEGMENTS = st.sampled_from(
    [
        "api",
        "apis",
        "v1",
        "v1alpha1",
        "v2",
        "apps",
        "autoscaling",
        "scaler.bud.studio",
        "namespaces",
        "default",
        "kube-system",
        "pods",
        "nodes",
        "deployments",
        "replicasets",
        "services",
        "configmaps",
        "events",
        "endpoints",
        "budaiscalers",
        "disaggregatedservices",
        "horizontalpodautoscalers",
        "llm-pipeline",
        "llm-pipeline-prefill",
        "prefill-scaler",
        "status",
        "scale",
        "log",
        "openapi",
        "v3",
        "dsim",
        "clock",
        "advance",
        "version",
        "%2e%2e",
        "..",
        "x",
        "",
    ]
) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%", max_size=12)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _object_like() -> st.SearchStrategy[object]:
    return st.fixed_dictionaries(
        {
            "apiVersion": st.sampled_from(["v1", "apps/v1", "scaler.bud.studio/v1alpha1", "x/y", ""]),
            "kind": st.sampled_from(["Pod", "Deployment", "BudAIScaler", "DisaggregatedService", "Nope"]),
            "metadata": st.fixed_dictionaries(
                {"name": st.sampled_from(["llm-pipeline", "prefill-scaler", "fuzz", "", "A_B"])},
                optional={
                    "namespace": st.sampled_from(["default", "other"]),
                    "resourceVersion": st.text(max_size=4),
                },
            ),
        },
        optional={"spec": JSON, "status": JSON},
    )


BODIES = (
    st.none()
    | JSON.map(lambda v: json.dumps(v).encode())
    | _object_like().map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
    | st.sampled_from([b"{", b"[1,", b"NaN", b'{"a": Infinity}', b"- a\n -b: [", b"\xff\xfe", b"[" * 5000])
)
QUERY_KEYS = st.sampled_from(
    [
        "watch",
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "timeoutSeconds",
        "seconds",
        "propagationPolicy",
        "gracePeriodSeconds",
        "dryRun",
        "fieldValidation",
    ]
)
QUERY_VALUES = st.sampled_from(
    ["1", "true", "0", "-1", "a=b", "a in (x", "!", "x,y", "", "%ZZ", "99999999999999999999"]
) | st.text(max_size=10)
CTYPES = st.sampled_from(
    [
        "application/json",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
        "application/yaml",
        "text/plain",
        "",
    ]
)


def _request(
    server: ServeServer, method: str, path: str, body: bytes | None, ctype: str
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        headers = {"Content-Type": ctype} if ctype else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    segments=st.lists(SEGMENTS, min_size=0, max_size=8),
    query=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=4),
    body=BODIES,
    ctype=CTYPES,
)
def test_no_5xx_and_no_traceback(
    server: ServeServer,
    method: str,
    segments: list[str],
    query: list[tuple[str, str]],
    body: bytes | None,
    ctype: str,
) -> None:
    query = [(k, v) for k, v in query if not (k == "watch" or (k == "seconds" and method == "POST"))]
    qs = "&".join(f"{k}={quote(v, safe='=,()!%')}" for k, v in query)
    path = "/" + "/".join(quote(s, safe="%.~-_") for s in segments) + (f"?{qs}" if qs else "")
    code, data = _request(server, method, path, body, ctype)
    assert code < 500, (method, path, body, data[:300])
    assert b"Traceback" not in data
    if code >= 400 and method != "HEAD":
        doc = json.loads(data)
        assert doc["kind"] == "Status" and doc["code"] == code, doc
