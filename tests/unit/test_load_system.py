"""LoadSystem end to end: embedding pipeline, dynamic ready sets, samples, flat memory over long replays."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from sim.clock import Simulation
from sim.load import (
    Arrival,
    LoadSystem,
    Sample,
    Shape,
    StaticEndpoints,
    TokenDist,
    azure_csv,
    looped,
    mooncake_jsonl,
    pipeline_from_service,
    sliced,
    synthetic,
)
from tests.helpers.conservation import assert_conserved_all

TRACES = Path(__file__).resolve().parents[2] / "scenarios" / "traces"

EMBEDDING = {
    "metadata": {"name": "embedding-pipeline", "namespace": "default"},
    "spec": {
        "serviceType": "Embedding",
        "roles": [
            {"name": "router", "roleType": "Router", "replicas": 1},
            {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 2},
            {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
        ],
    },
}
PD = {
    "metadata": {"name": "llm", "namespace": "default"},
    "spec": {
        "roles": [
            {"name": "router", "roleType": "Router"},
            {"name": "prefill", "roleType": "Prefill"},
            {"name": "decode", "roleType": "Decode"},
        ]
    },
}


def test_embedding_pipeline_poisson_littles_law_and_conservation() -> None:
    sim = Simulation(3)
    shape = Shape(kind="constant", duration=600, rate=40)  # type: ignore[arg-type]
    arr = synthetic(
        shape, sim.seeds.stream("load"), TokenDist(mean=400, cv=1.0, maximum=8000), TokenDist(mean=1)
    )
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        pipeline_from_service(EMBEDDING),
        arr,
        StaticEndpoints.replicas({"router": 1, "tokenizer": 2, "inference": 3}),
        on_sample=samples.append,
    )
    ls.start()
    sim.run(until=700)
    st = ls.stats()
    assert st.arrived == st.completed > 22000 and st.dropped == 0
    assert assert_conserved_all(samples) == 699
    for r in st.roles.values():
        assert r.mean_in_role == pytest.approx(r.throughput * r.mean_sojourn, rel=0.02)
    inf = ls.roles["inference"]
    batches = sum(s.batches for s in inf.servers.values())  # type: ignore[attr-defined]
    assert batches < st.completed  # requests were batched
    # embeddings answer at once: TTFT = end-to-end
    assert st.ttft_p50 == pytest.approx(st.e2e_p50, rel=0.02)


def test_utilization_counts_ready_pod_seconds() -> None:
    sim = Simulation(0)
    spec = pipeline_from_service(
        {"metadata": {"name": "c"}, "spec": {"roles": [{"name": "w", "roleType": "Custom"}]}}
    )
    ep = StaticEndpoints.replicas({"w": 1})
    arr = [Arrival(float(t), 1, 1) for t in range(100)]
    ls = LoadSystem(sim, spec, arr, ep, {"w": {"overheadS": 0.32, "concurrency": 1}})

    def scale() -> Any:
        yield sim.env.timeout(50.0)
        ep.set_ready("w", ["w-000", "w-001"])

    sim.env.process(scale())
    ls.start()
    sim.run(until=100.0)
    # 100 requests x 0.32 s busy over 50 pod-s + 50 x 2 pod-s (the one in service at t = 100 is cut short)
    assert ls.roles["w"].ready_pod_seconds(100.0) == 150.0
    assert ls.stats().roles["w"].utilization == pytest.approx(100 * 0.32 / 150, rel=1e-9)


def test_mooncake_trace_through_prefill_decode() -> None:
    sim = Simulation(0)
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        pipeline_from_service(PD),
        sliced(mooncake_jsonl(TRACES / "conversation_trace.jsonl"), 0, 300),
        StaticEndpoints.replicas({"router": 1, "prefill": 4, "decode": 4}),
        {"prefill": {"tokensPerS": 40000.0}, "decode": {"kvCapacityTokens": 400_000}},
        on_sample=samples.append,
    )
    ls.start()
    sim.run(until=400)
    st = ls.stats()
    assert st.arrived == 918  # rows with timestamp < 300,000 ms
    assert st.completed + st.dropped == st.arrived
    assert_conserved_all(samples)


def _replay_memory(passes: int) -> int:
    sim = Simulation(0)
    src = looped(lambda: sliced(azure_csv(TRACES / "AzureLLMInferenceTrace_conv.csv"), 0, 300), passes=passes)
    ls = LoadSystem(
        sim,
        pipeline_from_service(PD),
        src,
        StaticEndpoints.replicas({"router": 1, "prefill": 2, "decode": 2}),
    )
    tracemalloc.start()
    ls.start()
    sim.run(until=300.0 * passes + 200)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ls.stats().completed > 1000 * passes
    return peak


def test_memory_does_not_grow_with_replay_length() -> None:
    one, four = _replay_memory(1), _replay_memory(4)
    assert four < one * 1.25 + 64 * 1024, (one, four)


def test_bad_service_params_name_the_path() -> None:
    from sim.load import PipelineError

    spec = pipeline_from_service(PD)
    ep = StaticEndpoints.replicas({"router": 1, "prefill": 1, "decode": 1})
    with pytest.raises(PipelineError) as exc:
        LoadSystem(Simulation(0), spec, [], ep, {"decode": {"maxNumSeqs": 0}})
    assert (exc.value.path, exc.value.value) == ("services.decode.maxNumSeqs", 0)
    assert "greater than or equal to 1" in exc.value.allowed and "kvCapacityTokens" in exc.value.allowed
    with pytest.raises(PipelineError) as exc:
        LoadSystem(Simulation(0), spec, [], ep, {"decode": {"bogus": 1}})
    assert exc.value.path == "services.decode.bogus"
    with pytest.raises(PipelineError) as exc:
        LoadSystem(Simulation(0), spec, [], ep, {"tokenizer": {}})
    assert exc.value.path == "services.tokenizer"
    with pytest.raises(PipelineError) as exc:
        LoadSystem(Simulation(0), spec, [], ep, {"kv-transfer": {"bandwidthBytesPerS": -1}})
    assert exc.value.path == "services.kv-transfer.bandwidthBytesPerS"


def test_kv_transfer_override_delays_decode() -> None:
    spec = pipeline_from_service(PD)
    done: list[Any] = []
    sim = Simulation(0)
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(0.0, 1000, 1)],
        StaticEndpoints.replicas({"router": 1, "prefill": 1, "decode": 1}),
        {
            "router": {"overheadS": 0.0},
            "prefill": {"batchOverheadS": 0.0, "tokensPerS": 1000.0},
            "decode": {"stepOverheadS": 0.5, "stepPerSeqS": 0.0},
            "kv-transfer": {"latencyS": 0.25, "bytesPerToken": 1000, "bandwidthBytesPerS": 4e6},
        },
        on_complete=done.append,
    )
    ls.start()
    sim.run(until=10)
    # prefill 1 s, transfer 0.25 + 1000 x 1000 / 4e6 = 0.5 s, one decode step 0.5 s
    assert [round(r.completed_at, 9) for r in done] == [2.0]
    assert done[0].stamps["decode"][0] == pytest.approx(1.5)


def test_same_seed_same_run() -> None:
    def once() -> list[Sample]:
        sim = Simulation(9)
        shape = Shape(kind="diurnal", duration=300, rate=8, amplitude=0.9, period=300, cv=2.0)  # type: ignore[arg-type]
        arr = synthetic(
            shape, sim.seeds.stream("load"), TokenDist(mean=800, cv=1.5), TokenDist(mean=100, cv=1.0)
        )
        samples: list[Sample] = []
        ls = LoadSystem(
            sim,
            pipeline_from_service(PD),
            arr,
            StaticEndpoints.replicas({"router": 1, "prefill": 1, "decode": 1}),
            {"decode": {"kvCapacityTokens": 30000}},
            balancing="least-loaded",
            on_sample=samples.append,
        )
        ls.start()
        sim.run(until=400)
        return samples

    first, second = once(), once()
    assert first == second
    assert sum(s.interval_arrived for s in first) > 1000


def test_pod_churn_keeps_rates_and_utilization_sane() -> None:
    from sim.load import MetricsConfig

    sim = Simulation(0)
    spec = pipeline_from_service(
        {"metadata": {"name": "c"}, "spec": {"roles": [{"name": "w", "roleType": "Custom"}]}}
    )
    ep = StaticEndpoints.replicas({"w": 2})
    arr = [Arrival(t * 0.5, 1, 1) for t in range(400)]
    ls = LoadSystem(
        sim,
        spec,
        arr,
        ep,
        {"w": {"overheadS": 0.1, "concurrency": 1}},
        metrics=MetricsConfig(scrape_interval=10.0),
    )
    seen: list[float] = []

    def churn() -> Any:
        for i in range(19):
            yield sim.env.timeout(10.0)
            ep.set_ready("w", ["w-000"] if i % 2 == 0 else ["w-000", "w-001"])
            s = ls.metrics.prometheus_metric("w-001", "requests_per_second", sim.now)
            if s is not None:
                seen.append(s.value)

    sim.env.process(churn())
    ls.start()
    sim.run(until=200.0)
    assert seen and min(seen) >= 0.0
    st = ls.stats().roles["w"]
    assert st.left == 400
    # 400 x 0.1 s of work over 2 pods for 100 s and 1 pod for 95 s (+ 5 s of 2 pods)
    assert st.utilization == pytest.approx(40.0 / ls.roles["w"].ready_pod_seconds(200.0), rel=1e-9)
    assert 0.0 < st.utilization <= 1.0
    assert len(ls.roles["w"].servers) <= 2
