"""Comparisons across runs: what each run cost per role, how its requests fared, and the cost no
scaler can beat.

Cost is read from the replica time series: a role's pod-seconds are the left Riemann sum of its
provisioned pods (ready + starting: a pod holds its GPUs from the moment it is scheduled until it
terminates) over the sample intervals; GPU-hours are pod-hours times the GPUs one pod requests.

The lower bound is the work the trace itself contains: every request's demand on a role at one
pod's peak throughput (batches as full as the model allows, overheads amortised over the largest
batch), summed. A run that completes every request had at least that much busy pod time, so its
pod-hours can never be below the bound; `tests/unit/test_lower_bound.py` asserts it.

Run variants for experiments (another strategy, profile or model-load time) are built from a
resolved scenario so that everything else — seed, trace, cluster — stays identical."""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.load.pipeline import PipelineSpec, RoleStep, params_for, pipeline_from_service
from sim.load.service_models import (
    DecodeParams,
    EmbeddingParams,
    FixedParams,
    ModelKind,
    PrefillParams,
    RouterParams,
    ServiceParams,
    TokenizerParams,
)
from sim.report.events import read_events
from sim.report.summary import read_summary
from sim.report.timeseries import TimeSeries, read_timeseries

if TYPE_CHECKING:
    from sim.report.engine_demand import EngineDemand
    from sim.scenario.load import ResolvedScenario
    from sim.scenario.world import World

GPU_RESOURCE = "nvidia.com/gpu"
DS_KIND = "DisaggregatedService"
SCALER_KIND = "BudAIScaler"
COST_COLUMNS: tuple[str, ...] = ("ready", "starting")
"""What a role pays for: pods that hold their node resources (Ready, or scheduled and starting)."""

# --------------------------------------------------------------------------- the per-role cost model


@dataclass(frozen=True)
class RoleCostModel:
    """What one pod of a role can do at best, and what it costs."""

    role: str
    kind: ModelKind
    params: ServiceParams | EngineDemand
    """The analytic service model's params, or an engine-backed role's profile (sim/report/engine_demand.py)."""
    gpus_per_pod: float


def template_gpus(template: Mapping[str, Any]) -> float | None:
    """GPUs one pod of a template requests (sum over containers of max(request, limit)); None when
    no container names the GPU resource, so the service model's default applies."""
    containers = ((template.get("spec") or {}).get("containers")) or []
    found = False
    total = 0.0
    for c in containers:
        res = c.get("resources") or {}
        values = [
            float(v)
            for part in ("requests", "limits")
            if (v := (res.get(part) or {}).get(GPU_RESOURCE)) is not None
        ]
        if values:
            found = True
            total += max(values)
    return total if found else None


def role_cost_models(
    ds: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, RoleCostModel]:
    """Per role of a DisaggregatedService (pipeline order): its service model with the scenario's
    `services` overrides, and GPUs per pod (pod template first, else the model's resource profile)."""
    spec: PipelineSpec = pipeline_from_service(ds)
    templates = {str(r.get("name")): r.get("template") or {} for r in (ds.get("spec") or {}).get("roles", [])}
    overrides = services or {}
    out: dict[str, RoleCostModel] = {}
    for step in spec.steps:
        if not isinstance(step, RoleStep):
            continue
        params = params_for(step.kind, overrides.get(step.role), f"services.{step.role}")
        gpus = template_gpus(templates.get(step.role, {}))
        if gpus is None:
            gpus = float(params.resources.gpus)
        out[step.role] = RoleCostModel(step.role, step.kind, params, gpus)
    return out


def scenario_cost_models(resolved: ResolvedScenario) -> dict[str, RoleCostModel]:
    """`role_cost_models` of the DisaggregatedService a scenario's workload targets."""
    sc = resolved.scenario
    target = (sc.workload.target if sc.workload is not None else None) or resolved.ds_names[0]
    ds = next(
        m.obj
        for m in resolved.manifests
        if m.obj.get("kind") == DS_KIND and (m.obj.get("metadata") or {}).get("name") == target
    )
    models = role_cost_models(ds, {r: dict(v) for r, v in sc.services.items()})
    if resolved.engines:
        # engine-backed roles: the calibrated step-time model, not the analytic service params
        from sim.load.engine import engine_modes
        from sim.report.engine_demand import EngineDemand

        modes = engine_modes(pipeline_from_service(ds), resolved.engines)
        for role, profile in resolved.engines.items():
            if role in models and role in modes:
                m = models[role]
                models[role] = RoleCostModel(role, m.kind, EngineDemand(profile, modes[role]), m.gpus_per_pod)
    return models


# --------------------------------------------------------------------------- the lower bound


@dataclass(frozen=True)
class RoleBound:
    """The least busy pod time a role needs for a set of requests."""

    role: str
    requests: int
    pod_seconds: float
    gpus_per_pod: float
    unservable: int = 0
    """Requests no pod of the role can ever admit (decode footprint above the KV capacity)."""

    @property
    def pod_hours(self) -> float:
        return self.pod_seconds / 3600.0

    @property
    def gpu_hours(self) -> float:
        return self.pod_hours * self.gpus_per_pod


DemandFn = Callable[[Any, int, int], float]
"""(service params, input tokens, output tokens) -> pod-seconds one request needs at one pod's peak
throughput (its share of a full batch)."""

_DEMAND_HOOKS: dict[type, DemandFn] = {}


def register_demand(params_type: type, fn: DemandFn) -> None:
    """The per-pod capacity of a service model the lower bound does not know: engine-backed roles
    (calibrated vLLM step times) register how many pod-seconds one request needs at one pod's
    peak throughput, and `work_lower_bound` / `windowed_lower_bound` use it for roles whose
    service params are of `params_type`."""
    _DEMAND_HOOKS[params_type] = fn


def request_pod_seconds(params: Any, input_tokens: int, output_tokens: int) -> float:
    """Pod-seconds one request needs at one pod's peak throughput (the inverse of the per-pod
    capacity in requests per second for requests of this size)."""
    d = _Demand(RoleCostModel("", ModelKind.FIXED, params, 0.0))
    d.add(input_tokens, output_tokens)
    return d.pod_seconds()


class _Demand:
    """Running sums for one role; `pod_seconds()` closes them into the bound."""

    def __init__(self, model: RoleCostModel) -> None:
        self.model = model
        self.n = 0
        self.unservable = 0
        self.linear = 0.0  # the part that does not depend on batching
        self.by_count = 0.0  # batches (or decode steps) needed by the batch-size limit
        self.by_tokens = 0.0  # ... and by the token (or KV-cache) limit

    def add(self, input_tokens: int, output_tokens: int) -> None:
        p = self.model.params
        self.n += 1
        hook = _DEMAND_HOOKS.get(type(p))
        if hook is not None:
            self.linear += hook(p, input_tokens, output_tokens)
        elif isinstance(p, RouterParams | FixedParams):
            # sim/load/service_models.py MultiServer: `concurrency` workers, service time = overhead
            self.linear += p.overhead_s / p.concurrency
        elif isinstance(p, TokenizerParams):
            self.linear += (p.overhead_s + input_tokens / p.tokens_per_s) / p.concurrency
        elif isinstance(p, EmbeddingParams | PrefillParams):
            # batch time a + b x tokens; a batch holds <= max size requests and <= max tokens (or one
            # longer request alone), so batches >= n / size and >= sum(min(1, tokens / budget)).
            b = p.seconds_per_token if isinstance(p, EmbeddingParams) else 1.0 / p.tokens_per_s
            self.linear += b * input_tokens
            self.by_count += 1.0 / p.max_batch_size
            self.by_tokens += min(1.0, input_tokens / p.max_batch_tokens)
        elif isinstance(p, DecodeParams):
            # step time c + d x running; each step gives every running sequence one token, at most
            # max_num_seqs run and their reserved footprints fit the KV cache, so
            # steps >= sum(out) / max_num_seqs and steps >= sum(out x footprint) / capacity.
            out = max(output_tokens, 1)
            footprint = input_tokens + out
            if footprint > p.kv_capacity_tokens:
                self.unservable += 1
                return
            self.linear += p.step_per_seq_s * out
            self.by_count += out / p.max_num_seqs
            self.by_tokens += out * footprint / p.kv_capacity_tokens
        else:  # pragma: no cover - every ServiceParams is handled above
            raise TypeError(type(p).__name__)

    def pod_seconds(self) -> float:
        p = self.model.params
        fixed = 0.0
        if isinstance(p, EmbeddingParams | PrefillParams):
            fixed = p.batch_overhead_s * max(self.by_count, self.by_tokens)
        elif isinstance(p, DecodeParams):
            fixed = p.step_overhead_s * max(self.by_count, self.by_tokens)
        return self.linear + fixed


def work_lower_bound(
    requests: Iterable[tuple[Any, ...]], models: Mapping[str, RoleCostModel]
) -> dict[str, RoleBound]:
    """Per role, the pod time the requests need at one pod's peak throughput.

    `requests` yields `sim.load.Arrival`s (t, input tokens, output tokens) or (input, output)
    pairs; every request passes every role of the pipeline."""
    sums = {role: _Demand(m) for role, m in models.items()}
    for req in requests:
        if len(req) >= 3:
            inp, out = int(req[1]), int(req[2])
        else:
            inp, out = int(req[0]), int(req[1])
        for d in sums.values():
            d.add(inp, out)
    return {
        role: RoleBound(role, d.n, d.pod_seconds(), d.model.gpus_per_pod, d.unservable)
        for role, d in sums.items()
    }


@dataclass(frozen=True)
class WindowedBound:
    """The fewest Ready replicas per role and time window that could have served the arrivals."""

    window_s: float
    replicas: dict[str, list[int]]
    """Role -> replicas needed in each window (window i covers [i x window_s, (i + 1) x window_s))."""
    gpus_per_pod: dict[str, float]

    def pod_hours(self, role: str) -> float:
        return sum(self.replicas[role]) * self.window_s / 3600.0

    def gpu_hours(self, role: str) -> float:
        return self.pod_hours(role) * self.gpus_per_pod.get(role, 0.0)

    @property
    def total_gpu_hours(self) -> float:
        return sum(self.gpu_hours(r) for r in self.replicas)


def windowed_lower_bound(
    requests: Iterable[tuple[float, int, int]],
    models: Mapping[str, RoleCostModel],
    *,
    window: float,
    duration: float,
) -> WindowedBound:
    """The oracle: per role and window, ceil(pod-seconds the window's arrivals need at one pod's
    peak throughput / window length) replicas (0 in a window without arrivals).

    No scaler can meet any latency SLO with fewer Ready replicas than that, because a smaller
    fleet cannot even keep up with the window's work; so the GPU-hours of these replicas are a
    lower bound of what meeting the SLOs costs with the same arrivals and service models. Windows
    are offline and independent (no start-up time, no carry-over), which keeps it a bound."""
    n = max(1, math.ceil(duration / window - 1e-9))
    per_window: list[dict[str, _Demand]] = [{r: _Demand(m) for r, m in models.items()} for _ in range(n)]
    for t, inp, out in requests:
        i = min(n - 1, max(0, int(float(t) // window)))
        for d in per_window[i].values():
            d.add(int(inp), int(out))
    replicas = {
        role: [math.ceil(w[role].pod_seconds() / window - 1e-9) if w[role].n else 0 for w in per_window]
        for role in models
    }
    return WindowedBound(window, replicas, {r: m.gpus_per_pod for r, m in models.items()})


def scenario_requests(resolved: ResolvedScenario, until: float | None = None) -> list[tuple[float, int, int]]:
    """The requests a run of the scenario receives (same seed, same trace slice, same shaping);
    with `until`, only those arriving by then (an interrupted run is judged on what it simulated,
    and must not generate a week of arrivals on the way out)."""
    from itertools import takewhile

    from sim.scenario.world import World

    world = World(resolved)
    # the runner's own arrival pipeline, so the bound sees exactly the run's requests
    arrivals = world._arrivals()
    if until is not None:
        arrivals = takewhile(lambda a: float(a.t) <= until, arrivals)
    return [(float(a.t), int(a.input_tokens), int(a.output_tokens)) for a in arrivals]


def scenario_lower_bound(resolved: ResolvedScenario) -> dict[str, RoleBound]:
    return work_lower_bound(scenario_requests(resolved), scenario_cost_models(resolved))


# --------------------------------------------------------------------------- run cost and metrics


def pod_seconds(ts: TimeSeries, role: str, columns: Sequence[str] = COST_COLUMNS) -> float:
    """Left Riemann sum of sum(columns) over the role's samples (the value at a sample holds until
    the next one; the last sample closes the run)."""
    times, _ = ts.series(role, columns[0])
    if len(times) < 2:
        return 0.0
    totals = [0.0] * len(times)
    for col in columns:
        _, values = ts.series(role, col)
        for i, v in enumerate(values):
            if v is not None:
                totals[i] += v
    return sum(totals[i] * (times[i + 1] - times[i]) for i in range(len(times) - 1))


@dataclass(frozen=True)
class RoleRun:
    role: str
    pod_hours: float
    gpu_hours: float
    latency: dict[str, float | None]
    """Time at the role (queue + service): p50, p90, p95, p99 in seconds."""
    scale_ups: int
    scale_downs: int
    replicas_max: int | None


@dataclass(frozen=True)
class RunData:
    """One finished run, as its folder holds it."""

    label: str
    folder: Path
    summary: dict[str, Any]
    ts: TimeSeries
    events: list[dict[str, Any]]
    roles: dict[str, RoleRun] = field(default_factory=dict)

    @property
    def role_order(self) -> list[str]:
        return list(self.summary.get("role_order") or self.roles)

    @property
    def requests(self) -> dict[str, int]:
        return dict(self.summary.get("requests") or {})

    @property
    def completed_everything(self) -> bool:
        """Every request that arrived completed: no drop, none left in flight."""
        r = self.requests
        return bool(r) and r.get("arrived", 0) == r.get("completed", -1)

    @property
    def scale_events(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "scale"]


def load_run(folder: Path, models: Mapping[str, RoleCostModel], *, label: str = "") -> RunData:
    """Read a run folder (summary.json, timeseries.csv, events.jsonl) and cost each role."""
    summary = read_summary(folder / "summary.json")
    ts = read_timeseries(folder / "timeseries.csv")
    events = read_events(folder / "events.jsonl")
    return _run_data(label or folder.name, folder, summary, ts, events, models)


def _run_data(
    label: str,
    folder: Path,
    summary: dict[str, Any],
    ts: TimeSeries,
    events: list[dict[str, Any]],
    models: Mapping[str, RoleCostModel],
) -> RunData:
    roles: dict[str, RoleRun] = {}
    per_role = summary.get("roles") or {}
    for role in summary.get("role_order") or list(models):
        info = per_role.get(role) or {}
        secs = pod_seconds(ts, role)
        gpus = models[role].gpus_per_pod if role in models else 0.0
        roles[role] = RoleRun(
            role=role,
            pod_hours=secs / 3600.0,
            gpu_hours=secs / 3600.0 * gpus,
            latency=dict(info.get("latency") or {}),
            scale_ups=int(info.get("scale_ups") or 0),
            scale_downs=int(info.get("scale_downs") or 0),
            replicas_max=info.get("replicas_max"),
        )
    return RunData(label, folder, summary, ts, events, roles)


def comparison_rows(
    runs: Sequence[RunData], bounds: Mapping[str, RoleBound] | None = None
) -> list[dict[str, Any]]:
    """One row per (run, role), plus a `lower bound` row per role: the side-by-side table."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        req = run.requests
        e2e = (run.summary.get("latency") or {}).get("e2e") or {}
        for role in run.role_order:
            r = run.roles.get(role)
            if r is None:
                continue
            rows.append(
                {
                    "run": run.label,
                    "role": role,
                    "GPU-hours": r.gpu_hours,
                    "pod-hours": r.pod_hours,
                    "p50 (s)": r.latency.get("p50"),
                    "p99 (s)": r.latency.get("p99"),
                    "scale ups": r.scale_ups,
                    "scale downs": r.scale_downs,
                    "max ready": r.replicas_max,
                    "completed": req.get("completed"),
                    "dropped": req.get("dropped"),
                    "e2e p99 (s)": e2e.get("p99"),
                }
            )
    for role, b in (bounds or {}).items():
        rows.append({"run": "lower bound", "role": role, "GPU-hours": b.gpu_hours, "pod-hours": b.pod_hours})
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value).replace("\n", ", ").replace("|", "\\|")


def rows_to_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table (columns in first-seen order) for notebooks and docs."""
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in cols) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- scaling decisions


@dataclass(frozen=True)
class ScalingDecision:
    """A write of a role's replicas, with the decision (and its reason) that caused it."""

    index: int
    t: float
    role: str
    from_replicas: int
    to_replicas: int
    actor: str
    reason: str
    detail: str


def _decision_text(ev: Mapping[str, Any]) -> tuple[str, str]:
    """(reason, detail) of a BudAIScaler decision or an HPA event."""
    if ev.get("event") == "decision":
        d = ev.get("details") or {}
        parts: list[str] = []
        if d.get("metricUsed") is not None:
            parts.append(
                f"{d.get('metricUsed')} = {d.get('currentMetricValue')} (target {d.get('targetMetricValue')})"
            )
        if d.get("inPanicMode"):
            parts.append("panic mode")
        fired = d.get("quirksTriggered") or []
        if fired:
            parts.append("quirks: " + ", ".join(str(q) for q in fired))
        return str(ev.get("reason") or ""), "; ".join(parts)
    return str(ev.get("reason") or ev.get("event") or ""), str(ev.get("message") or "")


def scaling_decisions(events: Sequence[Mapping[str, Any]]) -> list[ScalingDecision]:
    """Every replica write (`scale` events) joined with the controller decision made at the same
    simulated instant that asked for the new value (BudAIScaler `decision`, HPA
    `hpa-SuccessfulRescale`); writes no decision explains (manual, DS controller) keep an empty reason."""
    by_time: dict[float, list[Mapping[str, Any]]] = {}
    for ev in events:
        if ev.get("type") == "decision" and ev.get("event") in ("decision", "hpa-SuccessfulRescale"):
            by_time.setdefault(round(float(ev["t"]), 6), []).append(ev)
    out: list[ScalingDecision] = []
    for ev in events:
        if ev.get("type") != "scale":
            continue
        role, to = str(ev.get("role")), int(ev["to"])
        reason = detail = ""
        for cand in by_time.get(round(float(ev["t"]), 6), []):
            if cand.get("event") == "decision":
                target = str(cand.get("target") or "")
                if cand.get("desired") == to and (target.endswith(f"/{role}") or target.endswith(f"-{role}")):
                    reason, detail = _decision_text(cand)
                    break
            elif str(cand.get("message") or "").startswith(f"New size: {to};"):
                reason, detail = _decision_text(cand)
                break
        out.append(
            ScalingDecision(
                len(out) + 1,
                float(ev["t"]),
                role,
                int(ev["from"]),
                to,
                str(ev.get("actor") or ""),
                reason,
                detail,
            )
        )
    return out


def decisions_markdown(decisions: Sequence[ScalingDecision]) -> str:
    rows = [
        {
            "#": d.index,
            "t (s)": f"{d.t:.1f}",
            "role": d.role,
            "replicas": f"{d.from_replicas} -> {d.to_replicas}",
            "by": d.actor,
            "reason": d.reason,
            "detail": d.detail,
        }
        for d in decisions
    ]
    return rows_to_markdown(rows) if rows else "(no scaling decisions)"


# --------------------------------------------------------------------------- run variants


def _rebuilt(resolved: ResolvedScenario, scenario_update: Mapping[str, Any]) -> ResolvedScenario:
    from model.scenario import scenario_from_data

    data = resolved.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.update(scenario_update)
    scenario = scenario_from_data(data, file=str(resolved.file))
    return dataclasses.replace(resolved, scenario=scenario)


def with_profile(resolved: ResolvedScenario, profile: str) -> ResolvedScenario:
    return dataclasses.replace(resolved, scenario=resolved.scenario.with_overrides(profile=profile))


def with_duration(resolved: ResolvedScenario, seconds: float) -> ResolvedScenario:
    return dataclasses.replace(resolved, scenario=resolved.scenario.with_overrides(until=seconds))


LIFECYCLE_STAGES = ("schedule", "imagePull", "containerStart", "ready", "termination")


def with_stage(resolved: ResolvedScenario, stage: str, seconds: Mapping[str, float]) -> ResolvedScenario:
    """Per role, one pod lifecycle stage (`schedule`, `imagePull`, `containerStart`, `ready` = the
    model load, `termination`) set to a constant number of seconds."""
    if stage not in LIFECYCLE_STAGES:
        raise ValueError(f"unknown lifecycle stage {stage!r}; one of {', '.join(LIFECYCLE_STAGES)}")
    data = resolved.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    lifecycle = dict(data.get("lifecycle") or {})
    for role, s in seconds.items():
        stages = dict(lifecycle.get(role) or {})
        stages[stage] = {"distribution": "constant", "value": float(s)}
        lifecycle[role] = stages
    return _rebuilt(resolved, {"lifecycle": lifecycle})


def with_model_load(resolved: ResolvedScenario, seconds: Mapping[str, float]) -> ResolvedScenario:
    """Per role, the time from container start to Ready (the model load) set to a constant."""
    return with_stage(resolved, "ready", seconds)


HPA_STRATEGY = "HPA"


def _as_hpa_source(source: Mapping[str, Any]) -> dict[str, Any]:
    """HPA reads only resource/custom/external sources (upstream hpa.go buildMetricSpec skips the
    rest): a per-pod engine metric becomes the same metric as a custom Pods metric."""
    # upstream: pkg/controller/budaiscaler/algorithm/hpa.go buildMetricSpec (resource, custom, external only)
    out = dict(source)
    if out.get("metricSourceType") in ("pod", "prometheus", "inferenceEngine"):
        out = {
            "metricSourceType": "custom",
            "targetMetric": out.get("targetMetric"),
            "targetValue": out.get("targetValue"),
        }
    return out


def with_strategy(
    resolved: ResolvedScenario, strategy: str, *, roles: Sequence[str] | None = None
) -> ResolvedScenario:
    """Every BudAIScaler (or those of `roles`) switched to `strategy` (KPA, BudScaler, HPA);
    for HPA, per-pod metric sources are re-expressed as custom Pods metrics."""
    from sim.scenario.load import Manifest

    manifests: list[Manifest] = []
    for m in resolved.manifests:
        obj = m.obj
        if obj.get("kind") == SCALER_KIND:
            spec = obj.get("spec") or {}
            role = (spec.get("subTargetSelector") or {}).get("roleName")
            if roles is None or role in roles:
                obj = copy.deepcopy(obj)
                obj["spec"]["scalingStrategy"] = strategy
                if strategy == HPA_STRATEGY:
                    obj["spec"]["metricsSources"] = [
                        _as_hpa_source(s) for s in obj["spec"].get("metricsSources") or []
                    ]
        manifests.append(Manifest(obj, m.file, m.line))
    return dataclasses.replace(resolved, manifests=tuple(manifests))


# --------------------------------------------------------------------------- running and tabulating


def run_variant(
    resolved: ResolvedScenario,
    out: Path,
    *,
    label: str,
    models: Mapping[str, RoleCostModel] | None = None,
) -> RunData:
    """Run a (possibly modified) scenario through the runner into `out` and read it back; a run
    that crashed raises with the runner's error text."""
    from sim.scenario.runner import run_scenario

    result = run_scenario(resolved, out)
    if result.error:
        raise RuntimeError(f"run {label!r} crashed:\n{result.error}")
    return load_run(out, models if models is not None else scenario_cost_models(resolved), label=label)


def simulate_world(resolved: ResolvedScenario) -> tuple[World, dict[str, Any], list[dict[str, Any]]]:
    """The runner's world, run in memory: the world, the core of its summary and its event log."""
    from sim.scenario.world import World

    world = World(resolved)
    world.build()
    world.run()
    summary: dict[str, Any] = {
        "scenario": resolved.scenario.name,
        "seed": resolved.scenario.seed,
        "profile": resolved.scenario.profile.value,
        "sim_seconds": world.now,
        "requests": world.request_counts(),
        "latency": world.latency_summary(),
        "role_order": list(resolved.roles),
        "roles": world.role_summary(),
    }
    return world, summary, list(world.event_log())


def simulate(
    resolved: ResolvedScenario, *, label: str, models: Mapping[str, RoleCostModel] | None = None
) -> RunData:
    """The same simulation as `run_variant` (same digest inputs) without writing a run folder or
    rendering its report, for sweeps of many short runs."""
    world, summary, events = simulate_world(resolved)
    costs = models if models is not None else scenario_cost_models(resolved)
    return _run_data(label, Path(), summary, world.timeseries(), events, costs)


def costs_by_run(runs: Sequence[RunData], unit: str = "GPU-hours") -> dict[str, dict[str, float]]:
    """{run label: {role: GPU-hours (or pod-hours)}} for `plots.plot_cost_by_run`."""
    gpu = unit == "GPU-hours"
    return {
        r.label: {role: (rr.gpu_hours if gpu else rr.pod_hours) for role, rr in r.roles.items()} for r in runs
    }


def bounds_in(bounds: Mapping[str, RoleBound], unit: str = "GPU-hours") -> dict[str, float]:
    return {role: (b.gpu_hours if unit == "GPU-hours" else b.pod_hours) for role, b in bounds.items()}


def latency_by_run(runs: Sequence[RunData]) -> dict[str, dict[str, dict[str, float | None]]]:
    return {r.label: {role: dict(rr.latency) for role, rr in r.roles.items()} for r in runs}


def actions_by_run(runs: Sequence[RunData]) -> dict[str, dict[str, tuple[int, int]]]:
    return {r.label: {role: (rr.scale_ups, rr.scale_downs) for role, rr in r.roles.items()} for r in runs}


def drops_by_run(runs: Sequence[RunData]) -> dict[str, int]:
    return {r.label: int(r.requests.get("dropped", 0)) for r in runs}


def with_traffic_start(resolved: ResolvedScenario, start_at: float) -> ResolvedScenario:
    """The workload starts at `start_at` instead: the synthetic shape's times (scenario times) move
    with it and the run is lengthened or shortened by the same amount, so the traffic pattern
    after the start, and the time left after it, are unchanged."""
    sc = resolved.scenario
    if sc.workload is None:
        raise ValueError("the scenario has no workload")
    shift = float(start_at) - sc.workload.start_at
    data = resolved.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    workload = dict(data["workload"])
    workload["startAt"] = float(start_at)
    synthetic = workload.get("synthetic")
    if synthetic is not None:
        synthetic = dict(synthetic)
        if synthetic.get("at") is not None:
            synthetic["at"] = float(synthetic["at"]) + shift
        if synthetic.get("phases"):
            synthetic["phases"] = [{**ph, "at": float(ph["at"]) + shift} for ph in synthetic["phases"]]
        workload["synthetic"] = synthetic
    return _rebuilt(resolved, {"workload": workload, "duration": sc.duration + shift})


def with_synthetic(resolved: ResolvedScenario, **fields: Any) -> ResolvedScenario:
    """The synthetic workload with some fields replaced (camelCase names as in the scenario file,
    e.g. `rate=3, peakRate=10, inputTokens=2048`); times are scenario times."""
    data = resolved.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    workload = dict(data.get("workload") or {})
    if "synthetic" not in workload:
        raise ValueError("the scenario's workload is not synthetic")
    workload["synthetic"] = {**workload["synthetic"], **fields}
    return _rebuilt(resolved, {"workload": workload})
