"""What a run is judged against: service-level objectives (`slo:`), prices (`cost:`) and the
thresholds of the findings (`findings:`) of a scenario. Pure schema: the evaluation is in
`sim/report/slo.py`, `sim/report/cost.py` and `sim/findings/`.

```yaml
slo:
  ttft: {p99: 2.0}        # the 99th percentile of time to first token is at most 2 s
  tpot: {p95: 0.1}        # ... of time per output token after the first (TPOT/ITL)
  e2e: {p99: 30}          # ... of end-to-end latency
  perRequest: false       # true: a request meets the SLO when every threshold holds for it,
  target: 0.99            #   and the SLO is met when at least `target` of the requests do
  roles: {prefill: 1.5}   # optional: seconds a request may spend at a role (queue + service)
  classes:                # optional per-class overrides (request classes of the workload)
    chat: {ttft: {p99: 1.0}}
cost:
  currency: USD
  prices: {H100-SXM-80GB: 4.0, gpu: 2.5}   # per GPU-hour, by GPU type (node label) or node pool
findings:
  flapping: {window: 15m, minReversals: 2}
```
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

_PCT = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


def _duration(value: object) -> object:
    """'15m' -> 900.0 (the scenario's duration syntax); anything else is left to the validator."""
    if isinstance(value, str):
        from model.scenario import parse_duration

        try:
            return parse_duration(value)
        except ValueError:
            return value
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    _durations: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _parse_durations(cls, data: Any) -> Any:
        if not cls._durations or not isinstance(data, dict):
            return data
        out = dict(data)
        for name in cls._durations:
            for key in (to_camel(name), name):
                if key in out:
                    out[key] = _duration(out[key])
        return out


class Threshold(_Model):
    """One latency threshold: `{p99: 2.0}` = the 99th percentile is at most 2 s (a bare number
    means p99). In per-request mode the seconds bound every request and the percentile is unused."""

    percentile: Annotated[float, Field(gt=0, le=100)]
    seconds: Annotated[float, Field(gt=0)]

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError(f"expected {{pNN: seconds}} such as {{p99: 2.0}}, got {data!r}")
        if isinstance(data, int | float | str):
            return {"percentile": 99.0, "seconds": _duration(data)}
        if isinstance(data, dict) and len(data) == 1:
            ((key, value),) = data.items()
            match = _PCT.match(str(key))
            if match is None:
                raise ValueError(
                    f"{key!r} is not a percentile; write the threshold as {{pNN: seconds}}, e.g. {{p99: 2.0}}"
                )
            return {"percentile": float(match.group(1)), "seconds": _duration(value)}
        return data

    @property
    def key(self) -> str:
        return f"p{self.percentile:g}"


class Objectives(_Model):
    """TTFT, TPOT (inter-token latency) and end-to-end thresholds; any may be omitted."""

    ttft: Threshold | None = None
    tpot: Threshold | None = None
    e2e: Threshold | None = None

    def metrics(self) -> dict[str, Threshold]:
        pairs = (("ttft", self.ttft), ("tpot", self.tpot), ("e2e", self.e2e))
        return {k: v for k, v in pairs if v is not None}


class SLO(Objectives):
    """A scenario's service-level objectives (see the module docstring)."""

    per_request: bool = False
    target: Annotated[float, Field(gt=0, le=1)] = 0.99
    """Per-request mode: the share of finished requests that must meet every threshold."""
    roles: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    """Seconds a request may spend at a role (queue + service); judged per request."""
    classes: dict[str, Objectives] = Field(default_factory=dict)
    """Per request class: thresholds that replace the top-level ones for requests of the class."""

    @field_validator("roles", mode="before")
    @classmethod
    def _role_durations(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _duration(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _something(self) -> SLO:
        if not self.metrics() and not self.roles and not self.classes:
            raise ValueError("an slo needs at least one of ttft, tpot, e2e or roles")
        return self

    def for_class(self, klass: str) -> dict[str, Threshold]:
        """The thresholds that apply to a request of `klass` ('' = no class)."""
        base = self.metrics()
        override = self.classes.get(klass) if klass else None
        if override is not None:
            base = {**base, **override.metrics()}
        return base


class Cost(_Model):
    """Prices per GPU-hour, by GPU type (the node label `nvidia.com/gpu.product`) or by node pool
    name; the first match wins in that order. Without prices only GPU-hours are reported."""

    currency: str = "USD"
    prices: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)


class FindingKind(StrEnum):
    """What went wrong in a run (sim/findings/ detects each from the recorded series)."""

    FLAPPING = "flapping"
    SATURATION = "saturation"
    STUCK_SCALER = "stuck_scaler"
    STRANDED_BACKLOG = "stranded_backlog"
    SCALE_UP_LAG = "scale_up_lag"
    SLO_BREACH = "slo_breach"
    OVER_PROVISIONED = "over_provisioned"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


class FlappingConfig(_Model):
    _durations = ("window",)
    window: Annotated[float, Field(gt=0)] = 900.0
    """Seconds within which direction reversals count together."""
    min_reversals: Annotated[int, Field(ge=1)] = 2
    min_amplitude: Annotated[int, Field(ge=1)] = 1
    """Replicas between the highest and lowest value of the reversals."""
    load_change: Annotated[float, Field(ge=0)] = 0.2
    """A reversal that follows the load (a write down after the role's arrival rate fell by this
    fraction since the previous write up, or up after it rose) is not flapping."""


class StuckConfig(_Model):
    _durations = ("min_seconds",)
    min_seconds: Annotated[float, Field(gt=0)] = 120.0
    """A scaler without metrics (or with a False condition) for longer than this is stuck."""


class StrandedConfig(_Model):
    _durations = ("min_seconds",)
    min_queue: Annotated[float, Field(ge=0)] = 5.0
    """Requests waiting at a role while some of its Ready pods are idle."""
    min_seconds: Annotated[float, Field(gt=0)] = 30.0


class ScaleUpLagConfig(_Model):
    _durations = ("max_seconds",)
    max_seconds: Annotated[float, Field(gt=0)] = 120.0
    """From a rise in load above Ready capacity until Ready capacity covers it again."""
    min_rise: Annotated[float, Field(ge=0)] = 0.25
    """A rise counts when the arrival rate grows by at least this fraction."""


class BreachConfig(_Model):
    _durations = ("min_seconds",)
    min_seconds: Annotated[float, Field(ge=0)] = 0.0
    """Breach windows shorter than this are not reported."""
    error_below: Annotated[float, Field(ge=0, le=1)] = 0.5
    """A breach window whose attainment is below this is an error (else a warning)."""


class OverProvisionedConfig(_Model):
    max_ratio: Annotated[float, Field(gt=1)] = 3.0
    """GPU-hours used above this multiple of the lower bound is a finding."""


class FindingsConfig(_Model):
    """Thresholds of the findings (`docs/findings.md` lists their defaults and meaning)."""

    flapping: FlappingConfig = FlappingConfig()
    stuck_scaler: StuckConfig = StuckConfig()
    stranded_backlog: StrandedConfig = StrandedConfig()
    scale_up_lag: ScaleUpLagConfig = ScaleUpLagConfig()
    slo_breach: BreachConfig = BreachConfig()
    over_provisioned: OverProvisionedConfig = OverProvisionedConfig()
    disabled: list[FindingKind] = Field(default_factory=list)
    """Finding kinds not to report."""
