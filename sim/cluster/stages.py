"""Pod lifecycle stages as data, in the manner of kwok's Stage resources.

A stage moves a pod from one lifecycle state to the next after a seeded delay. Each stage has a
name, a label selector (so a role can have its own), a delay distribution (`model.scenario.DelaySpec`:
constant, uniform, normal, lognormal, empirical) and a probability. For a pod in state S the
kubelet takes, per stage *name* (in the default set's order), the first stage of that name
whose selector matches the pod; then tries those stages in order, each winning its probability
draw. Overrides therefore go first and replace a default stage of the same name for the pods they
select. `default_stages.yaml` ships the default set."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from importlib import resources
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from model.errors import InputError
from model.meta import selector_matches
from model.scenario import DelaySpec

ROLE_LABEL = "scaler.bud.studio/role"


class LifecycleState(StrEnum):
    PENDING = "Pending"  # created, not yet bound (the scheduler's `schedule` stage)
    SCHEDULED = "Scheduled"  # bound; the kubelet reports ContainerCreating
    PULLED = "Pulled"  # image present (no API write)
    RUNNING = "Running"  # containers started, not ready yet
    READY = "Ready"  # the app is ready: Ready=True at the next readiness-probe tick
    CRASHED = "Crashed"  # container exited; CrashLoopBackOff then restart
    TERMINATING = "Terminating"  # deletionTimestamp set
    DELETED = "Deleted"  # the kubelet confirmed deletion (grace 0)


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    name: str
    from_state: LifecycleState = Field(alias="from")
    to_state: LifecycleState = Field(alias="to")
    selector: dict[str, Any] | None = None
    delay: DelaySpec = DelaySpec(distribution="constant", value=0.0)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("selector")
    @classmethod
    def _selector_keys(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            extra = set(v) - {"matchLabels", "matchExpressions"}
            if extra:
                raise ValueError(f"selector keys must be matchLabels/matchExpressions, got {sorted(extra)}")
        return v

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        return self.selector is None or selector_matches(self.selector, labels)


def sample_delay(spec: DelaySpec, rng: np.random.Generator) -> float:
    """One draw in seconds (never negative). Constant delays draw nothing from the stream."""
    d = spec.distribution
    if d == "constant":
        return float(spec.value or 0.0)
    if d == "uniform":
        return float(rng.uniform(spec.low or 0.0, spec.high or 0.0))
    if d == "normal":
        return max(0.0, float(rng.normal(spec.mean or 0.0, spec.stddev or 0.0)))
    if d == "lognormal":
        # sigma is bounded at load (model.scenario.MAX_LOGNORMAL_SIGMA); the exponent is clamped too so
        # that no draw can overflow (exp(709) is the largest finite double)
        exponent = min(700.0, (spec.sigma or 0.0) * float(rng.standard_normal()))
        return float((spec.median or 0.0) * math.exp(exponent))
    values = spec.values or [0.0]
    return float(values[int(rng.integers(len(values)))])


def label_key_of(labels: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((labels or {}).items()))


class StageSet:
    """An ordered list of stages with per-(state, labels) resolution cached."""

    def __init__(self, stages: Sequence[Stage], name_order: Sequence[str] = ()) -> None:
        self.stages = list(stages)
        # Names are tried in this order (defaults first), so overrides never reorder crash vs ready.
        order = list(name_order)
        for st in self.stages:
            if st.name not in order:
                order.append(st.name)
        self.name_order = order
        self._cache: dict[tuple[LifecycleState, tuple[tuple[str, str], ...]], list[Stage]] = {}

    def candidates(
        self,
        state: LifecycleState,
        labels: Mapping[str, str] | None,
        label_key: tuple[tuple[str, str], ...] | None = None,
    ) -> list[Stage]:
        """`label_key` (= `label_key(labels)`) may be passed by callers that resolve often."""
        key = (state, label_key if label_key is not None else label_key_of(labels))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        chosen: dict[str, Stage] = {}
        for st in self.stages:
            if st.from_state is state and st.name not in chosen and st.matches(labels):
                chosen[st.name] = st
        out = [chosen[n] for n in self.name_order if n in chosen]
        self._cache[key] = out
        return out

    def next_stage(
        self,
        state: LifecycleState,
        labels: Mapping[str, str] | None,
        rng: np.random.Generator,
        label_key: tuple[tuple[str, str], ...] | None = None,
    ) -> Stage | None:
        for st in self.candidates(state, labels, label_key):
            if st.probability >= 1.0:
                return st
            if st.probability > 0.0 and float(rng.random()) < st.probability:
                return st
        return None

    def with_overrides(self, overrides: Sequence[Stage]) -> StageSet:
        return StageSet([*overrides, *self.stages], name_order=self.name_order)


# The LifecycleOverride fields of a scenario (model.scenario) mapped onto stage names.
_OVERRIDE_FIELDS = {
    "schedule": "schedule",
    "imagePull": "image-pull",
    "image_pull": "image-pull",
    "containerStart": "container-start",
    "container_start": "container-start",
    "ready": "ready",
    "termination": "termination",
}


def role_overrides(base: StageSet, per_role: Mapping[str, Mapping[str, Any] | Any]) -> StageSet:
    """Stages for `{role: LifecycleOverride-or-dict}`: same-name stages selecting `scaler.bud.studio/role`."""
    by_name: dict[str, Stage] = {}
    for st in base.stages:
        by_name.setdefault(st.name, st)
    extra: list[Stage] = []
    for role in sorted(per_role):
        raw = per_role[role]
        fields: Mapping[str, Any] = (
            raw if isinstance(raw, Mapping) else raw.model_dump(by_alias=True, exclude_none=True)
        )
        selector = {"matchLabels": {ROLE_LABEL: role}}
        for key, value in fields.items():
            if value is None:
                continue
            if key in ("crashProbability", "crash_probability"):
                default = by_name["crash"]
                extra.append(default.model_copy(update={"selector": selector, "probability": float(value)}))
                continue
            name = _OVERRIDE_FIELDS.get(key)
            if name is None:
                raise InputError(
                    f"unknown lifecycle stage {key!r} for role {role!r}",
                    path=f"lifecycle.{role}.{key}",
                    value=key,
                    allowed=", ".join(sorted({*_OVERRIDE_FIELDS, "crashProbability"})),
                )
            delay = value if isinstance(value, DelaySpec) else DelaySpec.model_validate(value)
            extra.append(by_name[name].model_copy(update={"selector": selector, "delay": delay}))
    return base.with_overrides(extra)


def parse_stages(data: Any, source: str = "<stages>") -> StageSet:
    """Stages from YAML data `{stages: [...]}`; bad input raises InputError naming the path."""
    if not isinstance(data, Mapping) or not isinstance(data.get("stages"), list):
        raise InputError("a stage file must be a mapping with a 'stages' list", file=source, path="stages")
    out: list[Stage] = []
    for i, raw in enumerate(data["stages"]):
        try:
            out.append(Stage.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise InputError(
                err["msg"],
                file=source,
                path=f"stages[{i}]" + (f".{loc}" if loc else ""),
                value=err.get("input"),
                allowed="states: " + ", ".join(s.value for s in LifecycleState),
            ) from None
    return StageSet(out)


def load_stages(path: str) -> StageSet:
    with open(path, encoding="utf-8") as fh:
        return parse_stages(yaml.safe_load(fh), source=path)


def default_stages() -> StageSet:
    """The default stage set shipped in `sim/cluster/default_stages.yaml`."""
    text = resources.files("sim.cluster").joinpath("default_stages.yaml").read_text(encoding="utf-8")
    return parse_stages(yaml.safe_load(text), source="sim/cluster/default_stages.yaml")
