"""Load and metrics: arrivals, pipelines, per-role service models, engine metrics, request accounting.

The scenario runner builds one `LoadSystem` per DisaggregatedService:

    spec = pipeline_from_service(ds_dict)
    load = LoadSystem(sim, spec, azure_csv(path), endpoints, service_params, buffer=1000, on_sample=fn,
                      balancing={"prefill": "router-queue"}, client={"timeoutSeconds": 30})
    load.start(); sim.run(until=...); load.stats(); load.metrics.pod_metric(ns, pod, name, now)
"""

from sim.load.arrivals import (
    Arrival,
    InterArrival,
    RateWindow,
    Shape,
    ShapeKind,
    TokenDist,
    TraceFormatError,
    azure_csv,
    looped,
    mooncake_jsonl,
    rate_multiplied,
    rate_windows,
    sliced,
    synthetic,
    time_scaled,
)
from sim.load.client import ClientParams, RetryOn, RetryParams
from sim.load.endpoints import Endpoints, InformerEndpoints, StaticEndpoints
from sim.load.metrics import EngineMetrics, MetricSample, MetricsConfig, MetricSnapshot
from sim.load.pipeline import Balancing, PipelineError, PipelineSpec, pipeline_from_service
from sim.load.request import DropReason, Request
from sim.load.system import LoadStats, LoadSystem, RoleSample, RoleStats, Sample

__all__ = [
    "Arrival",
    "Balancing",
    "ClientParams",
    "DropReason",
    "Endpoints",
    "EngineMetrics",
    "InformerEndpoints",
    "InterArrival",
    "LoadStats",
    "LoadSystem",
    "MetricSample",
    "MetricSnapshot",
    "MetricsConfig",
    "PipelineError",
    "PipelineSpec",
    "RateWindow",
    "Request",
    "RetryOn",
    "RetryParams",
    "RoleSample",
    "RoleStats",
    "Sample",
    "Shape",
    "ShapeKind",
    "StaticEndpoints",
    "TokenDist",
    "TraceFormatError",
    "azure_csv",
    "looped",
    "mooncake_jsonl",
    "pipeline_from_service",
    "rate_multiplied",
    "rate_windows",
    "sliced",
    "synthetic",
    "time_scaled",
]
