"""Engine metrics: names, units, freshness, and each upstream metric source type."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from sim.clock import Simulation
from sim.load import (
    Arrival,
    LoadSystem,
    MetricsConfig,
    PipelineSpec,
    StaticEndpoints,
    azure_csv,
    pipeline_from_service,
    sliced,
)
from sim.load.metrics import parse_metric_text
from sim.load.pipeline import RoleStep
from sim.load.service_models import ModelKind

CONV = Path(__file__).resolve().parents[2] / "scenarios" / "traces" / "AzureLLMInferenceTrace_conv.csv"
NS = "default"


def decode_system(
    arrivals: list[Arrival], config: MetricsConfig | None = None, **params: Any
) -> tuple[Simulation, LoadSystem]:
    sim = Simulation(0)
    spec = PipelineSpec("t", NS, (RoleStep("decode", "Decode", ModelKind.DECODE),))
    p = {"stepOverheadS": 0.01, "stepPerSeqS": 0.0, "maxNumSeqs": 1, "kvCapacityTokens": 1000, **params}
    ls = LoadSystem(
        sim, spec, arrivals, StaticEndpoints.replicas({"decode": 1}), {"decode": p}, metrics=config
    )
    ls.start()
    return sim, ls


def test_vllm_gauges_exact() -> None:
    sim, ls = decode_system([Arrival(0, 100, 10), Arrival(0, 50, 10)])
    sim.run(until=0.05)
    m = ls.metrics
    pod = "decode-000"
    # 5 steps of 10 ms done: 100 prompt tokens + 5 generated tokens of 1000 KV slots; one waits (maxNumSeqs 1)
    assert m.pod_metric(NS, pod, "vllm:gpu_cache_usage_perc", 0.05).value == pytest.approx(0.105)  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:kv_cache_usage_perc", 0.05).value == pytest.approx(0.105)  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:num_requests_running", 0.05).value == 1.0  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:num_requests_waiting", 0.05).value == 1.0  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:num_requests_waiting", 0.05).timestamp == 0.05  # type: ignore[union-attr]
    assert m.pod_metric("other-ns", pod, "vllm:num_requests_running", 0.05) is None
    assert m.pod_metric(NS, pod, "no_such_metric", 0.05) is None
    sim.run(until=0.25)
    assert m.pod_metric(NS, pod, "vllm:request_success_total", 0.25).value == 2.0  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:generation_tokens_total", 0.25).value == 20.0  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:prompt_tokens_total", 0.25).value == 150.0  # type: ignore[union-attr]
    assert m.pod_metric(NS, pod, "vllm:gpu_cache_usage_perc", 0.25).value == 0.0  # type: ignore[union-attr]


def test_exposition_text_and_upstream_parser() -> None:
    sim, ls = decode_system([Arrival(0, 100, 10)])
    sim.run(until=0.05)
    text = ls.metrics.exposition("decode-000", 0.05)
    assert 'vllm:num_requests_running{model_name="model"} 1.0\n' in text
    assert "# TYPE vllm:request_success_total counter" in text
    assert parse_metric_text(text, "vllm:num_requests_running") == 1.0
    with pytest.raises(LookupError, match="not found"):
        parse_metric_text(text, "num_requests_running")  # anchored at the line start, as upstream's regex
    # several series of one name are averaged; JSON bodies are tried first
    assert parse_metric_text('x{a="1"} 2\nx{a="2"} 4\n', "x") == 3.0
    assert parse_metric_text('{"outer": {"x": "7.5"}}', "x") == 7.5


def test_prometheus_scrape_interval_and_staleness() -> None:
    arr = [Arrival(float(t), 100, 20) for t in range(0, 60)]
    sim, ls = decode_system(arr, MetricsConfig(scrape_interval=15.0, staleness=10.0), maxNumSeqs=8)
    sim.run(until=14.0)
    m = ls.metrics
    assert m.prometheus_metric("decode-000", "vllm:num_requests_running", 14.0) is None  # not scraped yet
    sim.run(until=20.0)
    s = m.prometheus_metric("decode-000", "vllm:request_success_total", 20.0)
    assert s is not None and s.timestamp == 15.0
    assert s.value == 15.0  # each request takes 20 steps x 10 ms: requests 0..14 done by t = 15
    assert (
        m.prometheus_metric("decode-000", "vllm:request_success_total", 26.0) is None
    )  # 11 s old > staleness
    rps = m.prometheus_metric("decode-000", "requests_per_second", 20.0)
    assert rps is not None and rps.value == pytest.approx(1.0)
    cpu = m.resource_usage(NS, "decode-000", "cpu", 20.0)
    assert cpu is not None and (cpu.timestamp, cpu.window) == (15.0, 15.0)
    # busy 20 x 10 ms = 0.2 s in every second: 50 m idle + 900 m x 0.2
    assert cpu.value == pytest.approx(50 + 900 * 0.2, rel=0.02)
    gpu = m.prometheus_metric("decode-000", "DCGM_FI_DEV_GPU_UTIL", 20.0)
    assert gpu is not None and gpu.value == pytest.approx(20.0, rel=0.02)
    fb = m.prometheus_metric("decode-000", "DCGM_FI_DEV_FB_USED", 20.0)
    assert fb is not None and fb.value == math.floor(81920 * 0.9)  # vLLM preallocates: flat under load


def test_tgi_names() -> None:
    sim = Simulation(0)
    spec = PipelineSpec("t", NS, (RoleStep("decode", "Decode", ModelKind.DECODE),))
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(0, 10, 100), Arrival(0, 10, 100)],
        StaticEndpoints.replicas({"decode": 1}),
        {"decode": {"maxNumSeqs": 1}},
        metrics=MetricsConfig(engines={"decode": "tgi"}),
    )
    ls.start()
    sim.run(until=0.1)
    get = ls.metrics.pod_metric
    assert get(NS, "decode-000", "tgi_queue_size", 0.1).value == 1.0  # type: ignore[union-attr]
    assert get(NS, "decode-000", "tgi_batch_current_size", 0.1).value == 1.0  # type: ignore[union-attr]
    assert get(NS, "decode-000", "tgi_request_count", 0.1).value == 2.0  # type: ignore[union-attr]
    assert get(NS, "decode-000", "vllm:num_requests_running", 0.1) is None


PD = {
    "metadata": {"name": "llm", "namespace": NS},
    "spec": {
        "roles": [
            {"name": "router", "roleType": "Router"},
            {"name": "prefill", "roleType": "Prefill"},
            {"name": "decode", "roleType": "Decode"},
        ]
    },
}
README_VLLM_SOURCE = {
    "metricSourceType": "inferenceEngine",
    "targetMetric": "gpu_cache_usage_perc",
    "targetValue": "70",
    "inferenceEngineConfig": {"engineType": "vllm", "metricsPort": 8000},
}


@pytest.fixture(scope="module")
def busy() -> tuple[Simulation, LoadSystem]:
    """Ten minutes of the Azure conversation trace on 2 decode pods with a small KV cache (20,000 tokens)."""
    sim = Simulation(0)
    ls = LoadSystem(
        sim,
        pipeline_from_service(PD),
        sliced(azure_csv(CONV), 0, 900),
        StaticEndpoints.replicas({"router": 1, "prefill": 1, "decode": 2}),
        {"decode": {"kvCapacityTokens": 20000}},
    )
    ls.start()
    sim.run(until=300.0)
    return sim, ls


DECODE_PODS = ["decode-000", "decode-001"]


def test_readme_vllm_example_upstream_finds_no_metric(busy: tuple[Simulation, LoadSystem]) -> None:
    """Upstream routes inferenceEngine sources to the plain pod fetcher, so `gpu_cache_usage_perc` is never
    mapped to `vllm:gpu_cache_usage_perc` and the anchored text match finds nothing: collection fails."""
    _, ls = busy
    snap = ls.metrics.collect(README_VLLM_SOURCE, DECODE_PODS, 300.0)
    assert snap.count == 0
    assert snap.error == (
        "failed to collect metrics from any pod: pod decode-000: metric gpu_cache_usage_perc not found in "
        "response; pod decode-001: metric gpu_cache_usage_perc not found in response"
    )


def test_readme_vllm_example_values_are_fractions_against_a_percent_target(
    busy: tuple[Simulation, LoadSystem],
) -> None:
    """With the name mapped (or the user writing `vllm:gpu_cache_usage_perc`), a scaler reads 0-1
    fractions. The KV caches are ~87 % full with requests waiting, yet against targetValue "70" the
    ratio is ~0.0125: a ratio-based algorithm would scale DOWN (KV_CACHE_FRACTION_VS_PERCENT)."""
    _, ls = busy
    snap = ls.metrics.collect(README_VLLM_SOURCE, DECODE_PODS, 300.0, engine_mapping_unused=False)
    assert snap.error is None and snap.count == 2
    values = {p: round(s.value, 4) for p, s in snap.values.items()}
    assert values == {"decode-000": 0.8837, "decode-001": 0.8645}
    assert round(snap.average, 4) == 0.8741
    waiting = [ls.metrics.pod_metric(NS, p, "vllm:num_requests_waiting", 300.0) for p in DECODE_PODS]
    assert [w.value for w in waiting if w is not None] == [11.0, 13.0]
    target = float(README_VLLM_SOURCE["targetValue"])  # type: ignore[arg-type]
    assert round(snap.average / target, 4) == 0.0125
    direct = dict(README_VLLM_SOURCE, metricSourceType="pod", targetMetric="vllm:gpu_cache_usage_perc")
    assert ls.metrics.collect(direct, DECODE_PODS, 300.0).average == snap.average


def test_resource_custom_prometheus_external_sources(busy: tuple[Simulation, LoadSystem]) -> None:
    _, ls = busy
    m = ls.metrics
    cpu = m.collect({"metricSourceType": "resource", "targetMetric": "cpu"}, DECODE_PODS, 300.0)
    assert cpu.error is None and cpu.count == 2
    raw = m.resource_usage(NS, "decode-000", "cpu", 300.0)
    assert raw is not None and cpu.values["decode-000"].value == pytest.approx(raw.value / 1000 * 100)
    custom = {"metricSourceType": "custom", "targetMetric": "requests_per_second"}
    bad = m.collect(custom, DECODE_PODS, 300.0)
    assert bad.error is not None and "unsupported resource metric: requests_per_second" in bad.error
    good = m.collect(custom, DECODE_PODS, 300.0, custom_uses_resource_fetcher=False)
    assert good.error is None and good.count == 2 and good.average > 0
    prom = m.collect(
        {
            "metricSourceType": "prometheus",
            "promQL": 'sum(vllm:num_requests_running{role="decode"})',
            "endpoint": "http://prometheus:9090",
        },
        DECODE_PODS,
        300.0,
    )
    expected = sum(m.prometheus_metric(p, "vllm:num_requests_running", 300.0).value for p in DECODE_PODS)  # type: ignore[union-attr]
    assert prom.error is None and list(prom.values) == ["_aggregate"] and prom.average == expected
    assert m.collect({"metricSourceType": "prometheus"}, DECODE_PODS, 300.0).error == (
        "promQL query is required for prometheus metric source"
    )
    ext = m.collect(
        {"metricSourceType": "external", "targetMetric": "vllm:num_requests_waiting"}, DECODE_PODS, 300.0
    )
    assert ext.error is None and ext.average == expected_mean(m, "vllm:num_requests_waiting")
    assert (
        m.collect({"metricSourceType": "pod", "targetMetric": "x"}, [], 300.0).error
        == "no pods to collect metrics from"
    )


def expected_mean(m: Any, metric: str) -> float:
    vals = [m.prometheus_metric(p, metric, 300.0).value for p in DECODE_PODS]
    return sum(vals) / len(vals)


def test_unready_pods_are_skipped(busy: tuple[Simulation, LoadSystem]) -> None:
    _, ls = busy
    pods = [
        {"metadata": {"name": "decode-000"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {
            "metadata": {"name": "decode-001"},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        },
    ]
    snap = ls.metrics.collect(
        {"metricSourceType": "pod", "targetMetric": "vllm:num_requests_running"}, pods, 300.0
    )
    assert list(snap.values) == ["decode-000"]


def test_external_metric_view_and_idempotent_start(busy: tuple[Simulation, LoadSystem]) -> None:
    _, ls = busy
    ls.metrics.start()  # a runner calling start() again must not add a second scrape loop
    m = ls.metrics
    per_pod = [m.prometheus_metric(p, "vllm:num_requests_running", 300.0).value for p in DECODE_PODS]  # type: ignore[union-attr]
    sel = {"matchLabels": {"scaler.bud.studio/role": "decode"}}
    assert m.external_metric(NS, "vllm:num_requests_running", sel, 300.0) == per_pod
    assert m.external_metric("other", "vllm:num_requests_running", sel, 300.0) == []
    rps = m.prometheus_metric("router-000", "requests_per_second", 300.0)
    assert rps is not None and rps.value > 0


def test_double_start_keeps_rates() -> None:
    arr = [Arrival(float(t), 100, 20) for t in range(0, 60)]
    sim, ls = decode_system(arr, MetricsConfig(scrape_interval=15.0), maxNumSeqs=8)
    ls.metrics.start()
    sim.run(until=31.0)
    rps = ls.metrics.prometheus_metric("decode-000", "requests_per_second", 31.0)
    assert rps is not None and (rps.timestamp, rps.value) == (30.0, pytest.approx(1.0))


def test_readme_vllm_example_through_the_budscaler_algorithm(busy: tuple[Simulation, LoadSystem]) -> None:
    """What upstream does with these fractions: the BudScaler port (sim/decisions/bud, owned by the
    algorithm helper) scales the saturated decode role DOWN under `upstream` and up under `corrected`."""
    from model.quirks import QuirkSet
    from sim.decisions.bud import MetricSnapshot as BudSnapshot
    from sim.decisions.bud import ScalingRequest, compute_recommendation, scaling_context_from_scaler

    _, ls = busy
    snap = ls.metrics.collect(README_VLLM_SOURCE, DECODE_PODS, 300.0, engine_mapping_unused=False)
    scaler = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "BudAIScaler",
        "metadata": {"name": "llm-scaler", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llm-inference"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "scalingStrategy": "BudScaler",
            "metricsSources": [README_VLLM_SOURCE],
        },
    }
    ctx = scaling_context_from_scaler(scaler)
    request = ScalingRequest(
        current_replicas=2,
        ready_pod_count=2,
        metric_snapshots={
            "gpu_cache_usage_perc": BudSnapshot(average=snap.average, count=snap.count, timestamp=300.0)
        },
    )
    upstream = compute_recommendation(ctx, request, now=300.0, quirks=QuirkSet.upstream())
    corrected = compute_recommendation(ctx, request, now=300.0, quirks=QuirkSet.corrected())
    assert (upstream.desired_replicas, corrected.desired_replicas) == (1, 3)
