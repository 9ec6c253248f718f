"""The versioned scenario file (`apiVersion: dsim/v1`, `kind: Scenario`).

A scenario is everything a run needs besides the code: seed, duration, profile and quirks, the
cluster, the manifests, per-role lifecycle and service-model overrides, the workload, faults on a
timeline and the expectations that decide the exit code. It is validated here with the same error
quality as manifests (file, line, YAML path, bad value, what is allowed) so a typo never reaches
the simulator. This module is pure: path resolution against the file system is in
`sim/scenario/load.py`.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from model.engine import EngineBlock
from model.quirks import Profile, Quirk
from model.slo import SLO, Cost, FindingsConfig, Severity

API_VERSION = "dsim/v1"
KIND = "Scenario"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION_ALLOWED = "a number of seconds (e.g. 90) or a duration string such as '90s', '10m', '1h30m'"


def parse_duration(value: object) -> float:
    """Seconds from a number or a Go-style duration string ('1h30m', '90s', '250ms').

    Why both: scenario authors write `duration: 600` or `duration: 10m`; Go duration syntax is what
    the BudAIScaler annotations already use, so users know it."""
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_ALLOWED}, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        sign = 1.0
        if text.startswith("-"):
            sign, text = -1.0, text[1:]
        pos = 0
        total = 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != pos:
                break
            total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            pos = match.end()
        if pos == len(text) and pos > 0:
            return sign * total
    raise ValueError(f"expected {DURATION_ALLOWED}, got {value!r}")


Seconds = Annotated[float, Field(ge=0)]


class ScenarioModel(BaseModel):
    """Frozen, strict, camelCase: a scenario is data, never mutated after validation."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=False,
    )


class TimedModel(ScenarioModel):
    """A model some of whose fields are durations: '90s', '10m' and '1h30m' become seconds."""

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: Any) -> Any:
        names = cls._duration_fields()
        if not names or not isinstance(data, dict):
            return data
        out = dict(data)
        for name in sorted(names):
            field = cls.model_fields.get(name)
            if field is None:
                continue
            for key in (field.alias or name, name):
                value = out.get(key)
                if isinstance(value, str):
                    # an unparsable value is left as is: the float validator reports it at its path
                    with contextlib.suppress(ValueError):
                        out[key] = parse_duration(value)
        return out

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset()


# --------------------------------------------------------------------------- cluster


class NodePool(ScenarioModel):
    """`count` identical nodes named `<name>-<i>`; cpu/memory are Kubernetes quantities."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=50)]
    count: Annotated[int, Field(ge=0, le=10_000)] = 1
    cpu: str = "16"
    memory: str = "64Gi"
    gpus: Annotated[int, Field(ge=0, le=64)] = 0
    labels: dict[str, str] = Field(default_factory=dict)


class Cluster(ScenarioModel):
    node_pools: list[NodePool] = Field(
        default_factory=lambda: [NodePool(name="pool", count=8, cpu="32", memory="128Gi", gpus=8)]
    )

    @model_validator(mode="after")
    def _unique_pools(self) -> Cluster:
        seen: set[str] = set()
        for pool in self.node_pools:
            if pool.name in seen:
                raise ValueError(f"node pool name {pool.name!r} is used twice; names must be unique")
            seen.add(pool.name)
        return self


# --------------------------------------------------------------------------- manifests


class ManifestRef(ScenarioModel):
    """Either a path to a multi-document Kubernetes YAML file (relative to the scenario file) or one
    inline object."""

    path: str | None = None
    inline: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ManifestRef:
        if (self.path is None) == (self.inline is None):
            raise ValueError("give exactly one of 'path' (a YAML file) or 'inline' (one object)")
        return self


# --------------------------------------------------------------------------- lifecycle


class DelaySpec(ScenarioModel):
    """A delay distribution in seconds (seeded): constant, uniform, normal, lognormal or empirical."""

    distribution: Literal["constant", "uniform", "normal", "lognormal", "empirical"] = "constant"
    value: float | None = Field(default=None, ge=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)
    mean: float | None = Field(default=None, ge=0)
    stddev: float | None = Field(default=None, ge=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, ge=0)
    values: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _params(self) -> DelaySpec:
        need = {
            "constant": ("value",),
            "uniform": ("low", "high"),
            "normal": ("mean", "stddev"),
            "lognormal": ("median", "sigma"),
            "empirical": ("values",),
        }[self.distribution]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"distribution {self.distribution!r} needs {', '.join(missing)}")
        if self.distribution == "uniform" and (self.low or 0.0) > (self.high or 0.0):
            raise ValueError(f"uniform needs low <= high, got low={self.low} high={self.high}")
        if self.distribution == "empirical" and not self.values:
            raise ValueError("empirical needs a non-empty list of values")
        return self


class LifecycleOverride(ScenarioModel):
    """Per-role pod lifecycle: how long each stage takes for pods of this role (e.g. a multi-minute
    model load for GPU inference). Unset stages keep the project's default stage set."""

    schedule: DelaySpec | None = None
    image_pull: DelaySpec | None = None
    container_start: DelaySpec | None = None
    ready: DelaySpec | None = None
    crash_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    termination: DelaySpec | None = None


# --------------------------------------------------------------------------- workload


class TokenDistribution(ScenarioModel):
    """Token counts drawn per request (seeded, one stream per request class), rounded to integers and
    clipped to [min, max]: `constant` (value), `lognormal` (median, sigma), bounded `normal` (mean,
    stddev, min, max), or `empirical` (a column of a trace file: Azure `ContextTokens` /
    `GeneratedTokens`, Mooncake `input_length` / `output_length`; path relative to the scenario file)."""

    distribution: Literal["constant", "lognormal", "normal", "empirical"]
    value: Annotated[int, Field(ge=0)] | None = None
    median: Annotated[float, Field(gt=0)] | None = None
    sigma: Annotated[float, Field(ge=0)] | None = None
    mean: Annotated[float, Field(ge=0)] | None = None
    stddev: Annotated[float, Field(ge=0)] | None = None
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=1)] | None = None
    trace: str | None = None
    column: str | None = None

    @model_validator(mode="after")
    def _params(self) -> TokenDistribution:
        need = {
            "constant": ("value",),
            "lognormal": ("median", "sigma"),
            "normal": ("mean", "stddev", "min", "max"),
            "empirical": ("trace", "column"),
        }[self.distribution]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"distribution {self.distribution!r} needs {', '.join(missing)}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


def _mapping_or_value(value: Any) -> str:
    return "distribution-spec" if isinstance(value, dict | TokenDistribution) else "constant-count"


TokenSize = Annotated[
    Annotated[TokenDistribution, Tag("distribution-spec")]
    | Annotated[int, Field(ge=0), Tag("constant-count")],
    Discriminator(_mapping_or_value),
]
"""A constant token count or a `TokenDistribution` (errors name the member the value was meant for)."""


class RetryOn(StrEnum):
    TIMEOUT = "timeout"
    """The client gave up on the attempt (its deadline or TTFT deadline passed)."""
    DROPPED = "dropped"
    """The pipeline refused or lost it (BufferFull, BufferTimeout, PodTerminated; never ExceedsKVCapacity)."""


DEFAULT_CLIENT_TIMEOUT_S = 600.0
"""The OpenAI Python client's default request timeout (openai/_constants.py DEFAULT_TIMEOUT, 600 s; it
also retries twice by default, DEFAULT_MAX_RETRIES, which this simulator does not assume: retries are
opt-in so a drop stays a drop unless the scenario says otherwise), the
client most LLM traffic goes through: finite, so no run holds a request forever, and long enough not to
cut an answer a healthy pipeline gives."""


class RetrySpec(TimedModel):
    """Retry k (1 = the first) starts `min(maxBackoffSeconds, backoffSeconds x multiplier^(k-1)) x
    (1 + jitter x u)` seconds after the failed attempt, u uniform in [-1, 1) from the `client-retry` seed
    stream (no draw when jitter is 0)."""

    limit: Annotated[int, Field(ge=0, le=100)] = 0
    """Retries after the first attempt (0 = never retry)."""
    backoff_seconds: Seconds = 1.0
    multiplier: Annotated[float, Field(ge=1)] = 2.0
    max_backoff_seconds: Seconds = 30.0
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.0

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"backoff_seconds", "max_backoff_seconds"})


class ClientSpec(TimedModel):
    """How clients behave (`workload.client`): per-attempt deadlines, retries, what is retried."""

    timeout_seconds: Seconds = DEFAULT_CLIENT_TIMEOUT_S
    """Per attempt, from sending it to its last token; 0 = wait forever."""
    ttft_timeout_seconds: Annotated[float, Field(gt=0)] | None = None
    """Per attempt, from sending it to its first token (unset: no TTFT deadline)."""
    retries: RetrySpec = Field(default_factory=RetrySpec)
    retry_on: list[RetryOn] = Field(default_factory=lambda: [RetryOn.TIMEOUT, RetryOn.DROPPED])

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"timeout_seconds", "ttft_timeout_seconds"})

    @model_validator(mode="after")
    def _ttft_within(self) -> ClientSpec:
        t, f = self.timeout_seconds, self.ttft_timeout_seconds
        if t and f is not None and f > t:
            raise ValueError(f"ttftTimeoutSeconds ({f:g}) must be <= timeoutSeconds ({t:g})")
        return self


class ClassSlo(ScenarioModel):
    """Per-class SLO thresholds, carried for the SLO layer (which defines how they are judged)."""

    model_config = ConfigDict(frozen=True, extra="allow", alias_generator=to_camel, populate_by_name=True)

    ttft_seconds: Annotated[float, Field(gt=0)] | None = None
    tpot_seconds: Annotated[float, Field(gt=0)] | None = None
    e2e_seconds: Annotated[float, Field(gt=0)] | None = None
    percentile: Annotated[float, Field(gt=0, le=100)] | None = None


class RequestClass(ScenarioModel):
    """One kind of request in the mix: chosen with probability weight / sum of weights; its sizes
    replace the trace's or the synthetic shape's when given."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$", max_length=63)]
    weight: Annotated[float, Field(gt=0)] = 1.0
    input_tokens: TokenSize | None = None
    output_tokens: TokenSize | None = None
    slo: ClassSlo | None = None


RoutingMode = Literal["round-robin", "least-loaded", "least-outstanding", "kv-aware", "router-queue"]


def _per_role_or_one(value: Any) -> str:
    return "per-role" if isinstance(value, dict) else "one-mode"


Routing = Annotated[
    Annotated[RoutingMode, Tag("one-mode")] | Annotated[dict[str, RoutingMode], Tag("per-role")],
    Discriminator(_per_role_or_one),
]
"""One routing mode for every role, or `{role: mode}`."""


class SyntheticShape(StrEnum):
    CONSTANT = "constant"
    STEP = "step"
    RAMP = "ramp"
    DIURNAL = "diurnal"
    SPIKE = "spike"
    PHASES = "phases"


class RatePhase(TimedModel):
    """From simulated second `at` on, arrivals come at `rate` requests per second."""

    at: Seconds
    rate: Annotated[float, Field(ge=0)]

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"at"})


class Synthetic(TimedModel):
    """A synthetic arrival shape in requests per second, with Poisson (cv 1) or Gamma arrivals."""

    shape: SyntheticShape = SyntheticShape.CONSTANT
    rate: Annotated[float, Field(ge=0)] = 1.0
    """Base rate (req/s): constant level; step/spike level before the change; ramp start."""
    peak_rate: Annotated[float, Field(ge=0)] | None = None
    """Step level after `at`; ramp end; spike level; diurnal peak."""
    at: Seconds | None = None
    """Step/spike start, seconds."""
    length: Seconds | None = None
    """Spike length, ramp length, diurnal period (seconds)."""
    cv: Annotated[float, Field(gt=0)] = 1.0
    """Coefficient of variation of inter-arrival times (1 = Poisson)."""
    phases: list[RatePhase] | None = None
    """Shape `phases`: piecewise-constant rates (`rate` applies before the first phase)."""
    input_tokens: Annotated[
        Annotated[TokenDistribution, Tag("distribution-spec")]
        | Annotated[int, Field(ge=1), Tag("constant-count")],
        Discriminator(_mapping_or_value),
    ] = 512
    output_tokens: TokenSize = 128

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"at", "length"})

    @model_validator(mode="after")
    def _needs(self) -> Synthetic:
        needs: dict[SyntheticShape, tuple[str, ...]] = {
            SyntheticShape.CONSTANT: (),
            SyntheticShape.STEP: ("peak_rate", "at"),
            SyntheticShape.RAMP: ("peak_rate", "length"),
            SyntheticShape.DIURNAL: ("peak_rate", "length"),
            SyntheticShape.SPIKE: ("peak_rate", "at", "length"),
            SyntheticShape.PHASES: ("phases",),
        }
        missing = [to_camel(n) for n in needs[self.shape] if getattr(self, n) is None]
        if missing:
            raise ValueError(f"shape {self.shape.value!r} needs {', '.join(missing)}")
        if self.phases:
            times = [p.at for p in self.phases]
            if times != sorted(times):
                raise ValueError(f"phases must be in time order, got at = {times}")
        return self


class TraceFormat(StrEnum):
    AZURE = "azure"
    MOONCAKE = "mooncake"


class Workload(TimedModel):
    """Where requests come from: a trace file (Azure CSV or Mooncake JSONL) or a synthetic shape."""

    target: str | None = None
    """The DisaggregatedService the requests enter (its router); defaults to the only one."""
    trace: str | None = None
    format: TraceFormat | None = None
    synthetic: Synthetic | None = None
    rate_multiplier: Annotated[float, Field(gt=0)] = 1.0
    time_scale: Annotated[float, Field(gt=0)] = 1.0
    """Trace time is divided by this (2 = twice as fast)."""
    loop: bool = False
    start_at: Seconds = 0.0
    """Simulated second at which the first request may arrive (lets the pipeline come up)."""
    queue_capacity: Annotated[int, Field(ge=0)] | None = None
    queue_timeout: Annotated[float, Field(gt=0)] | None = None
    routing: Routing | None = None
    """One mode for every role, or `{role: mode}` (roles not named: round-robin). docs/load.md "Routing"."""
    client: ClientSpec | None = None
    """Client deadlines and retries; unset = `ClientSpec()`: a 600 s timeout, no retries."""
    classes: list[RequestClass] | None = None
    """A mix of request classes (sizes and SLOs per class), chosen per request by weight."""

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"start_at", "queue_timeout"})

    @model_validator(mode="after")
    def _one_source(self) -> Workload:
        if (self.trace is None) == (self.synthetic is None):
            raise ValueError("give exactly one of 'trace' (a file) or 'synthetic' (a shape)")
        if self.classes:
            names = [c.name for c in self.classes]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"request class name {dup[0]!r} is used twice; names must be unique")
        return self

    def trace_format(self) -> TraceFormat | None:
        if self.trace is None:
            return None
        if self.format is not None:
            return self.format
        return TraceFormat.MOONCAKE if self.trace.endswith((".jsonl", ".json")) else TraceFormat.AZURE


# --------------------------------------------------------------------------- faults


class FaultBase(TimedModel):
    at: float
    """Simulated second at which the fault starts (>= 0)."""

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"at", "until"})

    @field_validator("at")
    @classmethod
    def _non_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"a fault cannot start before the run: at must be >= 0 seconds, got {value:g}")
        return value


class WindowFault(FaultBase):
    until: float
    """Simulated second at which the fault window ends."""

    @model_validator(mode="after")
    def _ordered(self) -> WindowFault:
        if self.until <= self.at:
            raise ValueError(f"until ({self.until:g}) must be after at ({self.at:g})")
        return self


class KillPods(FaultBase):
    type: Literal["killPods"]
    role: str | None = None
    """Role of the DisaggregatedService (label scaler.bud.studio/role); or use selector."""
    selector: dict[str, str] | None = None
    count: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _target(self) -> KillPods:
        if self.role is None and self.selector is None:
            raise ValueError("killPods needs 'role' or 'selector'")
        return self


class FailNode(FaultBase):
    type: Literal["failNode"]
    node: str
    """Node name, e.g. 'gpu-0' (pool name + index)."""


class ConflictRate(WindowFault):
    type: Literal["conflicts"]
    probability: Annotated[float, Field(ge=0, le=1)]
    kinds: list[str] | None = None


class ErrorRate(WindowFault):
    type: Literal["errors"]
    probability: Annotated[float, Field(ge=0, le=1)]
    verbs: list[str] | None = None
    kinds: list[str] | None = None
    timeout: bool = False


class WatchLatency(WindowFault):
    type: Literal["watchLatency"]
    latency: Annotated[float, Field(ge=0)]


class MetricsOutage(WindowFault):
    type: Literal["metricsOutage"]
    role: str | None = None


class RestartController(FaultBase):
    """The controller process restarts: everything it held in memory is lost; what the API server
    holds (objects, status, ConfigMaps) survives. Today: the BudAIScaler controller."""

    type: Literal["restartController"]
    controller: Literal["budaiscaler"] = "budaiscaler"


Fault = Annotated[
    KillPods | FailNode | ConflictRate | ErrorRate | WatchLatency | MetricsOutage | RestartController,
    Field(discriminator="type"),
]
FAULT_TYPES = (
    "killPods",
    "failNode",
    "conflicts",
    "errors",
    "watchLatency",
    "metricsOutage",
    "restartController",
)


# --------------------------------------------------------------------------- expectations


class ExpectationBase(TimedModel):
    name: str | None = None
    profiles: list[Profile] | None = None
    """Check this expectation only under these profiles (e.g. a defect only `upstream` shows)."""

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"from_", "to", "by", "max_seconds"})


class ReplicaBounds(ExpectationBase):
    """Ready replicas of a role stay within [min, max] during [from, to]."""

    type: Literal["replicas"]
    role: str
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None
    from_: Annotated[float, Field(alias="from", ge=0)] = 0.0
    to: Annotated[float, Field(ge=0)] | None = None
    series: Literal["ready", "spec", "desired", "starting"] = "ready"

    @model_validator(mode="after")
    def _bounds(self) -> ReplicaBounds:
        if self.min is None and self.max is None:
            raise ValueError("replicas expectation needs 'min' or 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


class RoleReady(ExpectationBase):
    """A role is Ready (DisaggregatedService status) by simulated second `by`; `never: true`
    asserts it does not become Ready within the run (e.g. upstream scale-to-zero)."""

    type: Literal["roleReady"]
    role: str
    by: Annotated[float, Field(ge=0)] | None = None
    never: bool = False

    @model_validator(mode="after")
    def _one(self) -> RoleReady:
        if (self.by is None) == (not self.never):
            raise ValueError("roleReady needs exactly one of 'by' (seconds) or 'never: true'")
        return self


class Latency(ExpectationBase):
    """A latency percentile (seconds) over completed requests: per role (queue + service at that
    role) or end to end (role omitted)."""

    type: Literal["latency"]
    role: str | None = None
    percentile: Annotated[float, Field(gt=0, le=100)] = 99.0
    max_seconds: Annotated[float, Field(gt=0)]
    metric: Literal["e2e", "ttft", "tpot"] = "e2e"


class Dropped(ExpectationBase):
    """Requests dropped (queue full or timed out) stay within bounds."""

    type: Literal["dropped"]
    max: Annotated[int, Field(ge=0)] | None = None
    max_fraction: Annotated[float, Field(ge=0, le=1)] | None = None
    min: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Dropped:
        if self.max is None and self.max_fraction is None and self.min is None:
            raise ValueError("dropped expectation needs 'max', 'maxFraction' or 'min'")
        return self


class NoConflictDetected(ExpectationBase):
    """No BudAIScaler reports Ready=False ConflictDetected (or, with `expect: true`, at least one
    does: used by scenarios that demonstrate the conflict rules)."""

    type: Literal["noConflictDetected"]
    expect: bool = False
    scaler: str | None = None


class ScalingActions(ExpectationBase):
    """Number of replica changes written for a role (spec.replicas writes), within bounds."""

    type: Literal["scalingActions"]
    role: str
    direction: Literal["up", "down", "any"] = "any"
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ScalingActions:
        if self.min is None and self.max is None:
            raise ValueError("scalingActions expectation needs 'min' or 'max'")
        return self


class ScalerCondition(ExpectationBase):
    """At the end of the run, the named BudAIScaler (or HorizontalPodAutoscaler, `kind`) has a
    condition of `conditionType` with `status` (and `reason`, when given)."""

    type: Literal["scalerCondition"]
    scaler: str
    kind: Literal["BudAIScaler", "HorizontalPodAutoscaler"] = "BudAIScaler"
    condition_type: str
    status: Literal["True", "False", "Unknown"] = "True"
    reason: str | None = None


class Completed(ExpectationBase):
    """Requests completed at least `min` (guards against a pipeline that never serves)."""

    type: Literal["completed"]
    min: Annotated[int, Field(ge=0)]


class SloMet(ExpectationBase):
    """The scenario's `slo` holds (every percentile threshold, or per request the `target` share),
    or, with `minAttainment`, at least that share of finished requests met it; `role` / `class`
    narrow it to one role's attributed thresholds or one request class (docs/slo.md)."""

    type: Literal["slo"]
    min_attainment: Annotated[float, Field(ge=0, le=1)] | None = None
    min_goodput: Annotated[float, Field(ge=0)] | None = None
    """Requests per second meeting every threshold."""
    role: str | None = None
    klass: str | None = Field(default=None, alias="class")


class NoFindings(ExpectationBase):
    """No finding (sim/findings/) of at least `minSeverity` was reported, optionally only of the
    listed `kinds`."""

    type: Literal["noFindings"]
    min_severity: Severity = Severity.WARNING
    kinds: list[str] | None = None


INVARIANT_NAMES = (
    "request_conservation",
    "dependency_ordering",
    "dependents_start",
    "conflict_rules",
    "no_orphans",
    "replica_bounds",
    "no_fights",
    "convergence",
    "panic_threshold",
    "wakes_from_zero",
    "load_served",
)
"""The named invariants of `sim/invariants.py` (kept equal by tests/unit/test_invariants.py)."""


class InvariantHolds(ExpectationBase):
    """A named invariant (sim/invariants.py) holds at the end of the run: `dsim check` exports its
    counterexamples with this expectation, so `dsim run` shows the same violation."""

    type: Literal["invariant"]
    invariant: str

    @field_validator("invariant")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in INVARIANT_NAMES:
            import difflib

            hint = difflib.get_close_matches(value, INVARIANT_NAMES, n=1)
            raise ValueError(
                f"unknown invariant {value!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (allowed: {', '.join(INVARIANT_NAMES)})"
            )
        return value


Expectation = Annotated[
    ReplicaBounds
    | RoleReady
    | Latency
    | Dropped
    | NoConflictDetected
    | ScalingActions
    | ScalerCondition
    | Completed
    | InvariantHolds
    | SloMet
    | NoFindings,
    Field(discriminator="type"),
]
EXPECTATION_TYPES = (
    "replicas",
    "roleReady",
    "latency",
    "dropped",
    "noConflictDetected",
    "scalingActions",
    "scalerCondition",
    "completed",
    "invariant",
    "slo",
    "noFindings",
)


def expectation_name(exp: Any) -> str:
    """A stable human-readable name for an expectation without one."""
    if exp.name:
        return str(exp.name)
    base = _derived_name(exp)
    if exp.profiles:
        base += f" [{', '.join(p.value for p in exp.profiles)} only]"
    return base


def _derived_name(exp: Any) -> str:
    if isinstance(exp, ReplicaBounds):
        window = f"[{exp.from_:g}s, {'end' if exp.to is None else f'{exp.to:g}s'}]"
        lo = "" if exp.min is None else f"{exp.min} <= "
        hi = "" if exp.max is None else f" <= {exp.max}"
        return f"{lo}{exp.role} {exp.series} replicas{hi} in {window}"
    if isinstance(exp, RoleReady):
        return f"{exp.role} never Ready" if exp.never else f"{exp.role} Ready by {exp.by:g}s"
    if isinstance(exp, Latency):
        where = exp.role or "end-to-end"
        return f"{where} {exp.metric} p{exp.percentile:g} <= {exp.max_seconds:g}s"
    if isinstance(exp, Dropped):
        parts = []
        if exp.max is not None:
            parts.append(f"<= {exp.max}")
        if exp.max_fraction is not None:
            parts.append(f"<= {exp.max_fraction:.2%}")
        if exp.min is not None:
            parts.append(f">= {exp.min}")
        return "requests dropped " + " and ".join(parts)
    if isinstance(exp, NoConflictDetected):
        who = f" for {exp.scaler}" if exp.scaler else ""
        return f"ConflictDetected reported{who}" if exp.expect else f"no ConflictDetected{who}"
    if isinstance(exp, ScalingActions):
        lo = "" if exp.min is None else f"{exp.min} <= "
        hi = "" if exp.max is None else f" <= {exp.max}"
        return f"{lo}{exp.role} scale-{exp.direction} actions{hi}"
    if isinstance(exp, Completed):
        return f"requests completed >= {exp.min}"
    if isinstance(exp, ScalerCondition):
        why = f" ({exp.reason})" if exp.reason else ""
        return f"{exp.kind} {exp.scaler}: {exp.condition_type}={exp.status}{why} at the end"
    if isinstance(exp, InvariantHolds):
        return f"invariant {exp.invariant} holds"
    if isinstance(exp, SloMet):
        scope = " ".join(
            x for x in (exp.role and f"role {exp.role}", exp.klass and f"class {exp.klass}") if x
        )
        what = "SLO" + (f" ({scope})" if scope else "")
        parts = []
        if exp.min_attainment is not None:
            parts.append(f"attainment >= {exp.min_attainment:.1%}")
        if exp.min_goodput is not None:
            parts.append(f"goodput >= {exp.min_goodput:g} req/s")
        return f"{what} " + (" and ".join(parts) if parts else "met")
    if isinstance(exp, NoFindings):
        kinds = f" ({', '.join(exp.kinds)})" if exp.kinds else ""
        return f"no findings of severity >= {exp.min_severity.value}{kinds}"
    return type(exp).__name__


# --------------------------------------------------------------------------- the scenario


class Scenario(TimedModel):
    api_version: Literal["dsim/v1"]
    kind: Literal["Scenario"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    duration: Annotated[float, Field(gt=0, le=7 * 24 * 3600)]
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    """Simulated wall-clock time at t=0 (cron schedule hints are evaluated against it)."""
    profile: Profile = Profile.UPSTREAM
    quirks: dict[Quirk, bool] = Field(default_factory=dict)
    """Per-quirk overrides on top of the profile."""
    sample_interval: Annotated[float, Field(gt=0, le=60)] = 1.0
    cluster: Cluster = Field(default_factory=Cluster)
    manifests: list[ManifestRef] = Field(min_length=1)
    lifecycle: dict[str, LifecycleOverride] = Field(default_factory=dict)
    """Per-role lifecycle stage overrides, keyed by role name."""
    services: dict[str, dict[str, float | int | str | bool]] = Field(default_factory=dict)
    """Per-role service-model parameters, keyed by role name (see docs/load.md for the names)."""
    engines: dict[str, EngineBlock] = Field(default_factory=dict)
    """Per-role engine (model, GPU, tp, vLLM arguments), keyed by role name (see docs/engines.md)."""
    workload: Workload | None = None
    faults: list[Fault] = Field(default_factory=list)
    expectations: list[Expectation] = Field(default_factory=list)
    slo: SLO | None = None
    """Service-level objectives the run is judged against (model/slo.py, docs/slo.md)."""
    cost: Cost | None = None
    """Prices per GPU-hour (by GPU type or node pool) for the money figure of the cost."""
    findings: FindingsConfig = Field(default_factory=FindingsConfig)
    """Thresholds of the findings (docs/findings.md)."""
    allow_outside: bool = False
    """Allow manifest/trace paths outside the scenario's folder tree (also `--allow-outside`)."""

    @classmethod
    def _duration_fields(cls) -> frozenset[str]:
        return frozenset({"duration"})

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _int_seed(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"seed must be a non-negative integer, got {value!r}")
        return value

    def with_overrides(
        self,
        *,
        seed: int | None = None,
        profile: str | None = None,
        until: float | None = None,
    ) -> Scenario:
        """The command line's --seed/--profile/--until applied on top of the file."""
        update: dict[str, Any] = {}
        if seed is not None:
            update["seed"] = seed
        if profile is not None:
            update["profile"] = Profile(profile)
        if until is not None:
            update["duration"] = until
        return self.model_copy(update=update) if update else self


# --------------------------------------------------------------------------- validation errors


def yaml_path(loc: tuple[int | str, ...]) -> str:
    """`('faults', 2, 'at')` -> `faults[2].at`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _data_loc(data: Any, loc: tuple[int | str, ...]) -> tuple[tuple[int | str, ...], bool]:
    """Drop pydantic's synthetic loc parts (union tags, validator names) by walking the data.

    Returns the loc as it exists in the data and whether the last element exists (False for a
    missing required field)."""
    kept: list[int | str] = []
    node = data
    exists = True
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        if _has(node, part):
            kept.append(part)
            node = node[part]
        elif i == len(loc) - 1:
            if isinstance(node, dict) and node.get("type") == part:
                break  # a discriminated union's tag closing a model-level error
            if isinstance(part, str) and ("-" in part or "[" in part):
                break  # a union member's tag (e.g. "distribution-spec") closing a model-level error
            kept.append(part)
            exists = False
        # else: a synthetic segment such as a discriminated-union tag; skip it
    return tuple(kept), exists


def _model_at(loc: tuple[int | str, ...], data: Any) -> type[BaseModel] | None:
    """The pydantic model class validating the mapping at `loc` (for 'did you mean')."""
    import typing

    current: Any = Scenario
    node = data
    for part in loc:
        current = _unwrap(current, node)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_by_alias(current, str(part))
            if field is None:
                return None
            current = field
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin is list and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            else:
                return None
        node = node[part] if _has(node, part) else None
    current = _unwrap(current, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _unwrap(tp: Any, node: Any) -> Any:
    import types
    import typing

    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            tag = node.get("type") if isinstance(node, dict) else None
            chosen = members[0] if len(members) == 1 else None
            for member in members:
                field = getattr(member, "model_fields", {}).get("type")
                if field is not None and tag in typing.get_args(field.annotation):
                    chosen = member
            if chosen is None:
                return None
            tp = chosen
            continue
        return tp


def _field_by_alias(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (field.alias, name):
            return field.annotation
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def scenario_error(
    exc: Any,
    data: Any,
    *,
    file: str | None,
    line_of: Any = None,
) -> Any:
    """Turn a pydantic ValidationError into one `model.errors.InputError` (the first problem, with
    a count of the others): file, line, YAML path, bad value, what is allowed."""
    import difflib

    from model.errors import InputError

    errors = exc.errors(include_url=False)
    err = errors[0]
    loc, exists = _data_loc(data, tuple(err["loc"]))
    path = yaml_path(loc)
    kind = err["type"]
    value = err.get("input")
    allowed = ""
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1], data)
        keys = _allowed_keys(parent) if parent else []
        hint = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        message = "unknown field" + (f"; did you mean {hint[0]!r}?" if hint else "")
        allowed = ", ".join(keys)
        value = loc[-1]
    elif kind == "missing":
        message = "required field is missing"
        parent = _model_at(loc[:-1], data)
        allowed = ""
        value = None
        if parent is not None and str(loc[-1]) == "type":
            allowed = "one of " + ", ".join(FAULT_TYPES if "fault" in path else EXPECTATION_TYPES)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        ctx = err.get("ctx", {})
        names = FAULT_TYPES if loc and loc[0] == "faults" else EXPECTATION_TYPES
        what = "fault" if loc and loc[0] == "faults" else "expectation"
        if kind == "union_tag_not_found":
            message = f"each {what} needs a 'type'"
            path = yaml_path((*loc, "type")) if exists else path
        else:
            tag = ctx.get("tag")
            hint = difflib.get_close_matches(str(tag), names, n=1)
            message = f"unknown {what} type {tag!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            path = yaml_path((*loc, "type"))
            value = tag
        allowed = ", ".join(names)
    elif kind == "enum" or kind == "literal_error":
        ctx = err.get("ctx", {})
        expected = str(ctx.get("expected", ""))
        hint = difflib.get_close_matches(
            str(value), [s.strip(" '") for s in expected.replace(" or ", ",").split(",")], n=1
        )
        message = f"{value!r} is not allowed" + (f"; did you mean {hint[0]!r}?" if hint else "")
        allowed = expected
    else:
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        message = msg[:1].lower() + msg[1:] if msg else kind
        if kind == "float_parsing" and isinstance(value, str):
            message = "not a number or a duration"
            allowed = DURATION_ALLOWED
        if not isinstance(value, dict | list) and value is not None and repr(value) not in message:
            message = f"{message} (got {value!r})"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    line = None
    if line_of is not None:
        probe = loc if exists else loc[:-1]
        while line is None:
            line = line_of(yaml_path(probe)) if probe else line_of("")
            if not probe:
                break
            probe = probe[:-1]
    return InputError(message, file=file, line=line, path=path, value=value, allowed=allowed)


def scenario_from_data(data: Any, *, file: str | None = None, line_of: Any = None) -> Scenario:
    """Validate one loaded YAML document as a Scenario, raising `model.errors.InputError`."""
    from pydantic import ValidationError

    from model.errors import InputError

    if not isinstance(data, dict):
        raise InputError(
            f"a scenario file must hold one mapping, got {type(data).__name__}",
            file=file,
            line=1,
            allowed="a mapping with apiVersion: dsim/v1, kind: Scenario, ...",
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(exc, data, file=file, line_of=line_of) from None
