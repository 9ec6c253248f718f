"""The scenario keys of the request path: workload.client, workload.routing (one mode or per role),
request classes and token-size distributions; bad values are one-line input errors with their YAML path;
empirical traces are confined to the scenario's folder like every other path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.errors import InputError
from sim.scenario.load import load_scenario
from sim.scenario.world import World

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, workload: dict[str, Any], duration: str = "6m") -> Path:
    (tmp_path / "manifests").mkdir(exist_ok=True)
    shutil.copy(ROOT / "scenarios" / "manifests" / "llm-prefill-decode.yaml", tmp_path / "manifests")
    doc = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": "t",
        "seed": 3,
        "duration": duration,
        "cluster": {"nodePools": [{"name": "gpu", "count": 2, "cpu": "64", "memory": "512Gi", "gpus": 8}]},
        "manifests": [{"path": "manifests/llm-prefill-decode.yaml"}],
        "workload": {"startAt": "2m", **workload},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


SYN = {"synthetic": {"shape": "constant", "rate": 2, "inputTokens": 512, "outputTokens": 64}}


def test_client_routing_and_classes_reach_the_load_layer(tmp_path: Path) -> None:
    wl = {
        **SYN,
        "client": {
            "timeoutSeconds": "90s",
            "ttftTimeoutSeconds": 20,
            "retries": {
                "limit": 2,
                "backoffSeconds": 0.5,
                "multiplier": 3,
                "maxBackoffSeconds": 4,
                "jitter": 0.2,
            },
            "retryOn": ["timeout"],
        },
        "routing": {"prefill": "router-queue", "decode": "kv-aware"},
        "classes": [
            {
                "name": "chat",
                "weight": 0.7,
                "inputTokens": {"distribution": "lognormal", "median": 600, "sigma": 0.6, "max": 4000},
                "outputTokens": {"distribution": "normal", "mean": 150, "stddev": 60, "min": 1, "max": 400},
                "slo": {"ttftSeconds": 1.0, "tpotSeconds": 0.05, "percentile": 95},
            },
            {
                "name": "summarise",
                "weight": 0.3,
                "inputTokens": {"distribution": "empirical", "trace": "sizes.csv", "column": "ContextTokens"},
                "outputTokens": 80,
            },
        ],
    }
    (tmp_path / "sizes.csv").write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\nx,3000,1\nx,5000,2\n", encoding="utf-8"
    )
    resolved = load_scenario(write(tmp_path, wl))
    client = resolved.scenario.workload.client  # type: ignore[union-attr]
    assert client is not None and client.timeout_seconds == 90.0 and client.retries.limit == 2
    classes = resolved.scenario.workload.classes  # type: ignore[union-attr]
    assert classes is not None and classes[0].slo is not None and classes[0].slo.ttft_seconds == 1.0
    assert resolved.size_traces == {"workload.classes[1].inputTokens": tmp_path / "sizes.csv"}
    world = World(resolved)
    world.build()
    world.run()
    load = world.loads["llm-pipeline"]
    assert load.client.timeout_seconds == 90.0
    assert load.roles["prefill"].balancing.value == "routerQueue"
    assert load.roles["decode"].balancing.value == "kvAware"
    assert load.roles["router"].balancing.value == "roundRobin"
    counts = world.request_counts()
    assert counts["completed"] > 300
    assert (
        counts["arrived"]
        == counts["completed"] + counts["dropped"] + counts["timed_out"] + counts["in_flight"]
    )


def test_every_routing_mode_spelling_is_accepted(tmp_path: Path) -> None:
    for mode in ("round-robin", "least-loaded", "least-outstanding", "kv-aware", "router-queue"):
        resolved = load_scenario(write(tmp_path, {**SYN, "routing": mode}))
        assert resolved.scenario.workload.routing == mode  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("workload", "path", "fragment"),
    [
        ({**SYN, "routing": "fastest"}, "workload.routing", "'fastest' is not allowed"),
        ({**SYN, "routing": {"prefil": "kv-aware"}}, "workload.routing.prefil", "did you mean 'prefill'"),
        (
            {**SYN, "client": {"timeoutSecond": 5}},
            "workload.client.timeoutSecond",
            "did you mean 'timeoutSeconds'",
        ),
        (
            {**SYN, "client": {"timeoutSeconds": 10, "ttftTimeoutSeconds": 20}},
            "workload.client",
            "must be <= timeoutSeconds",
        ),
        ({**SYN, "client": {"retryOn": ["crash"]}}, "workload.client.retryOn[0]", "'crash' is not allowed"),
        (
            {**SYN, "client": {"retries": {"limit": -1}}},
            "workload.client.retries.limit",
            "greater than or equal",
        ),
        (
            {
                **SYN,
                "classes": [{"name": "a", "inputTokens": {"distribution": "normal", "mean": 5, "stddev": 1}}],
            },
            "workload.classes[0].inputTokens",
            "needs min, max",
        ),
        ({**SYN, "classes": [{"name": "a"}, {"name": "a"}]}, "workload", "used twice"),
    ],
)
def test_bad_request_path_keys(tmp_path: Path, workload: dict[str, Any], path: str, fragment: str) -> None:
    with pytest.raises(InputError) as err:
        load_scenario(write(tmp_path, workload))
    assert err.value.path == path, str(err.value)
    assert fragment in str(err.value)


def test_empirical_trace_path_is_confined(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "outside.csv").write_text("ContextTokens\n5\n", encoding="utf-8")
    syn = {
        "synthetic": {
            "rate": 1,
            "inputTokens": {
                "distribution": "empirical",
                "trace": "../outside.csv",
                "column": "ContextTokens",
            },
        }
    }
    with pytest.raises(InputError) as err:
        load_scenario(write(inner, syn))
    assert err.value.path == "workload.synthetic.inputTokens.trace"
    assert "escapes" in str(err.value)
    resolved = load_scenario(write(inner, syn), allow_outside=True)
    assert resolved.size_traces["workload.synthetic.inputTokens"] == (tmp_path / "outside.csv").resolve()


def test_killed_pod_drains_for_its_grace_period_then_its_requests_are_retried(tmp_path: Path) -> None:
    """Full stack: a killPods fault deletes a decode pod (terminationGracePeriodSeconds 30 by default);
    its sequences, each ~150 s long, cannot finish in 30 s: they fail as PodTerminated and are retried."""
    path = write(
        tmp_path,
        {
            "synthetic": {"shape": "constant", "rate": 0.5, "inputTokens": 256, "outputTokens": 100},
            "client": {
                "timeoutSeconds": 0,
                "retries": {"limit": 1, "backoffSeconds": 1},
                "retryOn": ["dropped"],
            },
        },
        duration="12m",
    )
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["services"] = {"decode": {"stepOverheadS": 1.5}}
    doc["faults"] = [{"type": "killPods", "at": "5m", "role": "decode", "count": 1}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    world = World(load_scenario(path))
    world.build()
    world.run()
    load = world.loads["llm-pipeline"]
    assert load.acc.roles["decode"].cancelled > 0  # failed at the end of the grace period ...
    assert world.request_counts()["retries"] >= load.acc.roles["decode"].cancelled  # ... and retried
    assert load.stats().drops_by_reason.get("PodTerminated", 0) == 0
