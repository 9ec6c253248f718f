"""Benchmark: `dsim serve` GETs per second over one keep-alive connection, and 10 concurrent
watchers that must each receive every Pod event in resourceVersion order while the clock steps."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from typing import Any

from sim.scenario.load import load_scenario
from sim.serve import Driver, ServeServer

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "per-role-autoscaling.yaml"
GETS = 4_000
WATCHERS = 10


def _gets_per_s(server: ServeServer, path: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    start = time.perf_counter()
    for _ in range(GETS):
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    elapsed = time.perf_counter() - start
    conn.close()
    return GETS / elapsed


def _watch(server: ServeServer, rv: str, out: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&timeoutSeconds=4")
    resp = conn.getresponse()
    for line in resp.read().splitlines():
        if line.strip():
            out.append(int(json.loads(line)["object"]["metadata"]["resourceVersion"]))
    conn.close()


def run() -> dict[str, dict[str, Any]]:
    driver = Driver(load_scenario(SCENARIO))
    with ServeServer(driver) as server:
        driver.advance(60)
        name = driver.api.all_objects("Pod")[0]["metadata"]["name"]
        gets = _gets_per_s(server, f"/api/v1/namespaces/default/pods/{name}")
        rv = driver.api.resource_version
        seen: list[list[int]] = [[] for _ in range(WATCHERS)]
        threads = [threading.Thread(target=_watch, args=(server, rv, seen[i])) for i in range(WATCHERS)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        for _ in range(12):
            driver.advance(20)  # through the load step at 2m: pods scale up and become Ready
        for t in threads:
            t.join()
        expected = [e.rv for e in driver.hub.read(driver.hub.seq_after_rv(int(rv)), 0)[0] if e.kind == "Pod"]
    in_order = all(s == expected for s in seen) and len(expected) > 0
    return {
        "serve.gets_per_s": {"value": round(gets, 0), "unit": "GET/s", "target": ">= 2000"},
        "serve.watchers_in_order": {
            "value": 1.0 if in_order else 0.0,
            "unit": f"1 = all {WATCHERS} watchers got all {len(expected)} Pod events in order",
            "target": "== 1",
        },
    }


if __name__ == "__main__":
    for k, v in run().items():
        print(k, v)
