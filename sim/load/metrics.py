"""Per-pod metrics under the real engines' names and units, exposed per upstream metric source type.

Names and units:
- vLLM: `vllm:num_requests_running`, `vllm:num_requests_waiting` (counts), `vllm:gpu_cache_usage_perc` and
  `vllm:kv_cache_usage_perc` (a 0-1 FRACTION despite the name), counters `vllm:request_success_total`,
  `vllm:prompt_tokens_total`, `vllm:generation_tokens_total`.
- TGI (the names upstream maps to in pkg/metrics/pod_fetcher.go mapTGIMetricName): `tgi_request_count`
  (a counter of requests received, as TGI defines it), `tgi_queue_size`, `tgi_batch_current_size`.
- `requests_per_second` (completions per second over the last Prometheus scrape interval).
- resource metrics as metrics-server reports them: `cpu` in millicores, `memory` in bytes, with a
  timestamp and window; upstream turns them into a percentage of the pod's requests.
- DCGM: `DCGM_FI_DEV_GPU_UTIL` (percent busy), `DCGM_FI_DEV_FB_USED` / `DCGM_FI_DEV_FB_FREE` (MiB).

Freshness: pod / inferenceEngine sources read the pod's /metrics endpoint at call time, as upstream's
HTTP GET does (optionally lagged by `engine_scrape_interval`); resource metrics come from a metrics-server
scrape and prometheus / external sources from a Prometheus scrape every `scrape_interval`, with samples
older than `staleness` treated as absent, so autoscalers act on slightly old data as in a cluster."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from sim.clock import Simulation
from sim.load.engine import EngineServer
from sim.load.service_models import BatchServer, DecodeServer, ModelKind, PodServer

if TYPE_CHECKING:
    from sim.load.pipeline import RoleStage
    from sim.load.system import LoadSystem

# Quirk names not yet in model/quirks.py (the lead adds them); used as flags here meanwhile.
QUIRK_INFERENCE_ENGINE_MAPPING_UNUSED = "inference_engine_mapping_unused"
"""upstream: pkg/metrics/factory.go For: inferenceEngine sources get the plain PodMetricFetcher, so
InferenceEngineMetricFetcher.mapVLLMMetricName is dead code and `gpu_cache_usage_perc` never matches
`vllm:gpu_cache_usage_perc` in the exposition text."""
QUIRK_CUSTOM_SOURCE_USES_RESOURCE_FETCHER = "custom_source_uses_resource_fetcher"
"""upstream: pkg/metrics/factory.go For: custom sources get the resource (metrics-server) fetcher, which
only knows `cpu` and `memory`; any other custom metric fails."""

VLLM_RUNNING = "vllm:num_requests_running"
VLLM_WAITING = "vllm:num_requests_waiting"
VLLM_GPU_CACHE = "vllm:gpu_cache_usage_perc"
VLLM_KV_CACHE = "vllm:kv_cache_usage_perc"
VLLM_SUCCESS = "vllm:request_success_total"
VLLM_PROMPT_TOKENS = "vllm:prompt_tokens_total"
VLLM_GEN_TOKENS = "vllm:generation_tokens_total"
VLLM_PREEMPTIONS = "vllm:num_preemptions_total"
VLLM_TTFT = "vllm:time_to_first_token_seconds"
VLLM_TPOT = "vllm:time_per_output_token_seconds"
_HISTOGRAMS = (VLLM_TTFT, VLLM_TPOT)
TGI_REQUEST_COUNT = "tgi_request_count"
TGI_QUEUE_SIZE = "tgi_queue_size"
TGI_BATCH_SIZE = "tgi_batch_current_size"
RPS = "requests_per_second"
DCGM_GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
DCGM_FB_USED = "DCGM_FI_DEV_FB_USED"
DCGM_FB_FREE = "DCGM_FI_DEV_FB_FREE"

# upstream: pkg/metrics/pod_fetcher.go mapVLLMMetricName / mapTGIMetricName
VLLM_NAME_MAP = {
    "gpu_cache_usage": VLLM_GPU_CACHE,
    "gpu_cache_usage_perc": VLLM_GPU_CACHE,
    "requests_running": VLLM_RUNNING,
    "num_requests_running": VLLM_RUNNING,
    "requests_waiting": VLLM_WAITING,
    "num_requests_waiting": VLLM_WAITING,
    "kv_cache_utilization": VLLM_GPU_CACHE,
}
TGI_NAME_MAP = {
    "requests_running": TGI_REQUEST_COUNT,
    "queue_depth": TGI_QUEUE_SIZE,
    "batch_size": TGI_BATCH_SIZE,
}

_ENGINE_KINDS = (ModelKind.PREFILL, ModelKind.DECODE, ModelKind.EMBEDDING)
"""Roles served by an inference engine (vLLM also serves embedding models; their KV usage is 0)."""


@dataclass(frozen=True)
class MetricSample:
    value: float
    timestamp: float
    """Simulated seconds at which the value was observed."""
    window: float = 0.0
    """For resource metrics: the metrics-server window the usage was averaged over."""


@dataclass(frozen=True)
class MetricsConfig:
    scrape_interval: float = 15.0
    """Prometheus scrape interval and metrics-server resolution (both default to 15 s)."""
    staleness: float = 300.0
    """Prometheus' lookback delta: older samples are absent."""
    engine_scrape_interval: float = 0.0
    """0: pod endpoints are read live at call time (upstream does an HTTP GET per reconcile)."""
    engines: Mapping[str, str] = field(default_factory=dict)
    """role -> "vllm" | "tgi" for engine roles (prefill, decode, embedding inference; default vllm)."""
    model_name: str = "model"


@dataclass(frozen=True)
class MetricSnapshot:
    """What upstream's DefaultMetricCollector.CollectMetrics returns (or its error)."""

    values: dict[str, MetricSample]
    average: float = 0.0
    total: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0
    count: int = 0
    error: str | None = None


class EngineMetrics:
    """The `MetricsProvider` of a LoadSystem, plus the upstream collector's source types."""

    def __init__(self, sim: Simulation, system: LoadSystem, config: MetricsConfig) -> None:
        self.sim = sim
        self.system = system
        self.config = config
        self._prom: dict[str, dict[str, float]] = {}
        self._prom_t: dict[str, float] = {}
        self._prev: dict[str, tuple[PodServer, float, int, float]] = {}
        """pod -> (server, time, served, active area) at the last Prometheus scrape (rate windows)."""
        self._engine: dict[str, dict[str, float]] = {}
        self._engine_t: dict[str, float] = {}
        self._started = False

    # -- scraping
    def start(self) -> None:
        """Start the scrape loops (idempotent: LoadSystem.start() calls it too)."""
        if self._started:
            return
        self._started = True
        if self.config.scrape_interval > 0:
            self.sim.env.process(self._loop(self.config.scrape_interval, self._scrape_prometheus))
        if self.config.engine_scrape_interval > 0:
            self.sim.env.process(self._loop(self.config.engine_scrape_interval, self._scrape_engine))

    def _loop(self, interval: float, fn: Any) -> Any:
        while True:
            yield self.sim.env.timeout(interval)
            fn(self.sim.now)

    def _servers(self) -> list[tuple[RoleStage, PodServer]]:
        return [(stage, srv) for stage in self.system.roles.values() for srv in stage.servers.values()]

    def _scrape_prometheus(self, now: float) -> None:
        for stage, srv in self._servers():
            self._prom[srv.name] = self._values(stage, srv, now, advance=True)
            self._prom_t[srv.name] = now

    def _scrape_engine(self, now: float) -> None:
        for stage, srv in self._servers():
            self._engine[srv.name] = self._values(stage, srv, now, advance=False)
            self._engine_t[srv.name] = now

    def _engine_of(self, stage: RoleStage) -> str | None:
        if stage.kind not in _ENGINE_KINDS:
            return None
        return self.config.engines.get(stage.name, "vllm")

    def _values(
        self, stage: RoleStage, srv: PodServer, now: float, advance: bool, histograms: bool = True
    ) -> dict[str, float]:
        """Every metric a pod exposes at `now`. `advance` moves the rate / utilization windows on."""
        prev = self._prev.get(srv.name)
        if prev is None or prev[0] is not srv:  # first scrape, or a new pod reusing the name
            prev = (srv, srv.born, 0, 0.0)
        _, t_prev, served_prev, active_prev = prev
        _, active = srv.areas(now)
        span = now - t_prev
        rps = (srv.served - served_prev) / span if span > 0 else 0.0
        busy_frac = min(1.0, (active - active_prev) / span) if span > 0 else (1.0 if srv.running else 0.0)
        if advance:
            self._prev[srv.name] = (srv, now, srv.served, active)
        res = stage.params.resources
        waiting = srv.waiting
        running = srv.running
        vals: dict[str, float] = {
            RPS: rps,
            "cpu": res.cpu_idle_millicores + res.cpu_busy_millicores * busy_frac,
            "memory": float(res.memory_base_bytes + res.memory_per_request_bytes * (running + waiting)),
        }
        if res.gpus:
            used = math.floor(res.gpu_memory_mib * res.gpu_memory_utilization)
            vals[DCGM_GPU_UTIL] = 100.0 * busy_frac
            vals[DCGM_FB_USED] = float(used)
            vals[DCGM_FB_FREE] = float(res.gpu_memory_mib - used)
        engine = self._engine_of(stage)
        if engine == "vllm" and isinstance(srv, EngineServer):
            vals.update(engine_server_values(srv, now, histograms))
        elif engine == "vllm":
            kv = srv.kv_usage(now) if isinstance(srv, DecodeServer) else 0.0
            vals.update(
                {
                    VLLM_RUNNING: float(running),
                    VLLM_WAITING: float(waiting),
                    VLLM_GPU_CACHE: kv,
                    VLLM_KV_CACHE: kv,
                    VLLM_SUCCESS: float(srv.served),
                    VLLM_PROMPT_TOKENS: float(srv.prompt_tokens),
                    VLLM_GEN_TOKENS: float(srv.generation_tokens),
                }
            )
        elif engine == "tgi":
            vals.update(
                {
                    TGI_REQUEST_COUNT: float(srv.served + running + waiting),
                    TGI_QUEUE_SIZE: float(waiting),
                    TGI_BATCH_SIZE: float(running if not isinstance(srv, BatchServer) else len(srv.batch)),
                }
            )
        return vals

    def _find(self, pod: str) -> tuple[RoleStage, PodServer] | None:
        for stage in self.system.roles.values():
            srv = stage.servers.get(pod)
            if srv is not None:
                return stage, srv
        return None

    def _live(self, pod: str, now: float, metric: str | None = None) -> dict[str, float] | None:
        if self.config.engine_scrape_interval > 0:
            return self._engine.get(pod)
        found = self._find(pod)
        if found is None:
            return None
        # an engine's histogram series are built only when asked for (or for the whole exposition)
        histograms = metric is None or metric.startswith(_HISTOGRAMS)
        return self._values(found[0], found[1], now, advance=False, histograms=histograms)

    def _timestamp(self, pod: str, now: float) -> float:
        return self._engine_t.get(pod, now) if self.config.engine_scrape_interval > 0 else now

    # -- MetricsProvider protocol
    def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> MetricSample | None:
        """The pod's /metrics value (engine name, e.g. `vllm:num_requests_waiting`), or None if absent."""
        if namespace != self.system.pipeline.namespace:
            return None
        vals = self._live(pod, now, metric)
        if vals is None or metric not in vals:
            return None
        return MetricSample(vals[metric], self._timestamp(pod, now))

    def external_metric(
        self, namespace: str, metric: str, selector: Mapping[str, Any] | None, now: float
    ) -> list[float]:
        """External-metrics API view: the scraped series of `metric`, one per pod (sorted by pod name).

        A selector's `matchLabels` may narrow by role (`scaler.bud.studio/role` or `role`) or `pod`."""
        if namespace != self.system.pipeline.namespace:
            return []
        labels = dict((selector or {}).get("matchLabels") or {})
        role = labels.get("scaler.bud.studio/role", labels.get("role"))
        pod = labels.get("pod")
        out = []
        for stage, srv in sorted(self._servers(), key=lambda x: x[1].name):
            if (role is not None and stage.name != role) or (pod is not None and srv.name != pod):
                continue
            s = self.prometheus_metric(srv.name, metric, now)
            if s is not None:
                out.append(s.value)
        return out

    def prometheus_metric(self, pod: str, metric: str, now: float) -> MetricSample | None:
        """The last Prometheus scrape of a pod's series, None if never scraped or stale."""
        t = self._prom_t.get(pod)
        if t is None or now - t > self.config.staleness:
            return None
        val = self._prom[pod].get(metric)
        return None if val is None else MetricSample(val, t)

    def resource_usage(self, namespace: str, pod: str, resource: str, now: float) -> MetricSample | None:
        """metrics-server PodMetrics: `cpu` (millicores) or `memory` (bytes), its timestamp and window."""
        if namespace != self.system.pipeline.namespace or resource not in ("cpu", "memory"):
            return None
        s = self.prometheus_metric(pod, resource, now)
        return None if s is None else MetricSample(s.value, s.timestamp, self.config.scrape_interval)

    def exposition(self, pod: str, now: float, only: str | None = None) -> str:
        """The pod's /metrics body in Prometheus text format (engine metrics carry a model_name label).

        `only` keeps just the series of that name (what a line-anchored parse of that name reads anyway)."""
        vals = self._live(pod, now, only)
        if vals is None:
            return ""
        lines = []
        typed: set[str] = set()
        if only is None:
            names = sorted(vals)
        else:  # that name, or its labelled series (histogram buckets)
            names = [only] if only in vals else sorted(n for n in vals if n.startswith(only + "{"))
        for name in names:
            if name in ("cpu", "memory") or name.startswith("DCGM_"):
                continue
            label = f'{{model_name="{self.config.model_name}"}}' if name.startswith(("vllm:", "tgi_")) else ""
            base, brace, le = name.partition("{")
            family = base.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
            if family != base and f"{family}_sum" in vals:  # a histogram (engine servers)
                if family not in typed:
                    typed.add(family)
                    lines.append(f"# TYPE {family} histogram")
                if brace:  # `name_bucket{le="0.1"}`: one label set with model_name
                    label = f"{label[:-1]},{le}" if label else "{" + le
                lines.append(f"{base}{label} {vals[name]!r}")
                continue
            lines.append(f"# TYPE {name} {'counter' if name.endswith(('_total', '_count')) else 'gauge'}")
            lines.append(f"{name}{label} {vals[name]!r}")
        return "\n".join(lines) + "\n"

    # -- upstream collector, per source type
    def collect(
        self,
        source: Mapping[str, Any],
        pods: Sequence[str | Mapping[str, Any]],
        now: float,
        *,
        engine_mapping_unused: bool = True,
        custom_uses_resource_fetcher: bool = True,
    ) -> MetricSnapshot:
        """upstream: pkg/metrics/collector.go DefaultMetricCollector.CollectMetrics (and factory.go For).

        `source` is a BudAIScaler `metricsSources[]` entry (wire form); `pods` are pod dicts (unready ones
        are skipped, as upstream does) or names (taken as ready). The two flags are the upstream quirks
        QUIRK_INFERENCE_ENGINE_MAPPING_UNUSED and QUIRK_CUSTOM_SOURCE_USES_RESOURCE_FETCHER."""
        names = []
        for p in pods:
            if isinstance(p, str):
                names.append(p)
            else:
                from sim.load.endpoints import pod_is_ready

                if pod_is_ready(p):
                    names.append(str(p["metadata"]["name"]))
        if not pods:
            return MetricSnapshot({}, error="no pods to collect metrics from")
        kind = str(source.get("metricSourceType", ""))
        target = str(source.get("targetMetric", ""))
        if kind in ("prometheus", "external"):
            return self._collect_external(kind, source, names, now)
        values: dict[str, MetricSample] = {}
        errors: list[str] = []
        for pod in names:
            try:
                if kind == "resource" or (kind == "custom" and custom_uses_resource_fetcher):
                    val = self._resource_value(pod, target, now)
                elif kind in ("pod", "inferenceEngine", "custom"):
                    metric = target
                    if kind == "inferenceEngine" and not engine_mapping_unused:
                        engine = str((source.get("inferenceEngineConfig") or {}).get("engineType", ""))
                        metric = {"vllm": VLLM_NAME_MAP, "tgi": TGI_NAME_MAP}.get(engine, {}).get(
                            target, target
                        )
                    val = parse_metric_text(self.exposition(pod, now, only=metric), metric)
                else:
                    return MetricSnapshot({}, error=f"unsupported metric source type for pod metrics: {kind}")
            except LookupError as exc:
                errors.append(f"pod {pod}: {exc}")
                continue
            values[pod] = MetricSample(val, now)
        if not values and errors:
            return MetricSnapshot({}, error="failed to collect metrics from any pod: " + "; ".join(errors))
        return _aggregate(values)

    def _resource_value(self, pod: str, metric: str, now: float) -> float:
        # upstream: pkg/metrics/resource_fetcher.go FetchPodMetrics + calculateUtilization
        if metric not in ("cpu", "memory"):
            raise LookupError(f"unsupported resource metric: {metric}")
        s = self.resource_usage(self.system.pipeline.namespace, pod, metric, now)
        found = self._find(pod)
        if s is None or found is None:
            raise LookupError(f"failed to get pod metrics for {pod}")
        res = found[0].params.resources
        request = res.cpu_request_millicores if metric == "cpu" else res.memory_request_bytes
        return s.value if request == 0 else s.value / request * 100.0

    def _collect_external(
        self, kind: str, source: Mapping[str, Any], names: list[str], now: float
    ) -> MetricSnapshot:
        # upstream: collector.go collectExternalMetrics -> one "_aggregate" value
        if kind == "prometheus":
            query = str(source.get("promQL", ""))
            if not query:
                return MetricSnapshot({}, error="promQL query is required for prometheus metric source")
            try:
                value = self.promql(query, now)
            except LookupError as exc:
                return MetricSnapshot({}, error=f"failed to fetch external metrics: {exc}")
        else:
            target = str(source.get("targetMetric", ""))
            series = [s.value for p in names if (s := self.prometheus_metric(p, target, now)) is not None]
            if not series:
                return MetricSnapshot(
                    {}, error=f"failed to fetch external metrics: metric {target} not found"
                )
            value = sum(series) / len(series)
        return _aggregate({"_aggregate": MetricSample(value, now)})

    _PROMQL = re.compile(
        r"^\s*(?:(sum|avg|max|min|count)\s*\(\s*)?([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s*\)?\s*$"
    )
    _LABEL = re.compile(r'(\w+)\s*=\s*"([^"]*)"')

    def promql(self, query: str, now: float) -> float:
        """A PromQL subset: `name`, `name{role="x",pod="y"}`, optionally wrapped in sum/avg/max/min/count.

        A bare selector returns the average of its series, as upstream's prometheus fetcher averages a
        multi-series result."""
        m = self._PROMQL.match(query)
        if not m:
            raise LookupError(
                f'unsupported PromQL (supported: [sum|avg|max|min|count](name{{label="v"}})): {query}'
            )
        agg, name, labels = m.group(1), m.group(2), m.group(3) or ""
        want = dict(self._LABEL.findall(labels))
        series = []
        for stage, srv in self._servers():
            if want.get("role", stage.name) != stage.name or want.get("pod", srv.name) != srv.name:
                continue
            s = self.prometheus_metric(srv.name, name, now)
            if s is not None:
                series.append(s.value)
        if not series:
            raise LookupError("no data returned from Prometheus query")
        if agg == "sum":
            return sum(series)
        if agg == "max":
            return max(series)
        if agg == "min":
            return min(series)
        if agg == "count":
            return float(len(series))
        return sum(series) / len(series)


_BUCKET_KEYS: dict[str, tuple[str, ...]] = {}
"""histogram name -> its `_bucket{le="..."}` series names (vLLM's fixed bucket bounds)."""


def engine_server_values(srv: EngineServer, now: float, histograms: bool = True) -> dict[str, float]:
    """The vLLM metrics of an engine server, derived from its scheduler state: running / waiting requests,
    KV blocks in use / total, preemptions, and the TTFT / TPOT histograms (`_bucket{le=...}`, `_sum`,
    `_count`, with vLLM's bucket bounds)."""
    kv = srv.kv_usage(now)
    vals: dict[str, float] = {
        VLLM_RUNNING: float(srv.running),
        VLLM_WAITING: float(srv.waiting),
        VLLM_GPU_CACHE: kv,
        VLLM_KV_CACHE: kv,
        VLLM_SUCCESS: float(srv.served),
        VLLM_PROMPT_TOKENS: float(srv.prompt_tokens),
        VLLM_GEN_TOKENS: float(srv.generation_tokens),
        VLLM_PREEMPTIONS: float(srv.preemptions),
    }
    if not histograms:
        return vals
    key = (srv.ttft.count, srv.tpot.count)
    cached = srv.metrics_cache
    if cached is None or cached[0] != key:
        hists: dict[str, float] = {}
        for name, hist in ((VLLM_TTFT, srv.ttft), (VLLM_TPOT, srv.tpot)):
            keys = _BUCKET_KEYS.get(name)
            if keys is None or len(keys) != len(hist.counts):
                le = [repr(b) for b in hist.bounds] + ["+Inf"]
                keys = _BUCKET_KEYS[name] = tuple(f'{name}_bucket{{le="{x}"}}' for x in le)
            hists.update(zip(keys, map(float, accumulate(hist.counts)), strict=True))
            hists[f"{name}_sum"] = hist.total
            hists[f"{name}_count"] = float(hist.count)
        cached = srv.metrics_cache = (key, hists)
    vals.update(cached[1])
    return vals


def _aggregate(values: dict[str, MetricSample]) -> MetricSnapshot:
    # upstream: pkg/metrics/collector.go calculateAggregates
    if not values:
        return MetricSnapshot(values)
    vs = [v.value for v in values.values()]
    return MetricSnapshot(
        values=values,
        average=sum(vs) / len(vs),
        total=sum(vs),
        minimum=min(vs),
        maximum=max(vs),
        count=len(vs),
    )


_LINE_PATTERNS: dict[str, re.Pattern[str]] = {}
"""metric name -> its compiled line pattern (the scrape parser runs once per pod per decision)."""


def parse_metric_text(body: str, metric: str) -> float:
    """upstream: pkg/metrics/pod_fetcher.go parseMetricValue: JSON first, then Prometheus text.

    The text match is anchored at the line start (`^name({labels})?\\s+value`); several series of the
    same name are averaged. Raises LookupError when the metric is absent."""
    data = None
    if body.lstrip().startswith("{"):  # only a JSON object can be searched; skip the failing parse
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    if isinstance(data, dict):
        found = _find_json(data, metric)
        if found is not None:
            return found
    pattern = _LINE_PATTERNS.get(metric)
    if pattern is None:
        if len(_LINE_PATTERNS) >= 256:
            _LINE_PATTERNS.clear()
        pattern = _LINE_PATTERNS[metric] = re.compile(
            r"^" + re.escape(metric) + r"(\{[^}]*\})?\s+([0-9eE.+-]+)"
        )
    values = []
    for line in body.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = pattern.match(line)
        if m:
            try:
                values.append(float(m.group(2)))
            except ValueError:
                continue
    if not values:
        raise LookupError(f"metric {metric} not found in response")
    return values[0] if len(values) == 1 else sum(values) / len(values)


def _find_json(data: dict[str, Any], metric: str) -> float | None:
    if metric in data:
        try:
            return float(data[metric])
        except (TypeError, ValueError):
            return None
    for key in sorted(data):  # upstream iterates a Go map (random order); sorted keeps us deterministic
        v = data[key]
        if isinstance(v, dict):
            found = _find_json(v, metric)
            if found is not None:
                return found
    return None
