"""The sweep file (`apiVersion: dsim/v1`, `kind: Sweep`): many runs of one base scenario.

A sweep names a base scenario, the parameters to vary (each addressed by a path into the scenario,
`workload.synthetic.rate`, or into one of its manifests,
`manifests[BudAIScaler/prefill-scaler].spec.maxReplicas`), their values (a list, a range with a
step, or a distribution for random sampling), the profiles and seeds to cross them with, how to
pick the points (the full grid, or N random or Latin-hypercube points from the sweep's seed) and
optional constraints between parameters. `slo` says which results count as meeting the objective.

Constraints and the SLO use a small expression language written as YAML data (never `eval`):

    {le: [prefill.maxReplicas, decode.maxReplicas]}     # le lt ge gt eq ne: two operands
    {all: [COND, ...]} / {any: [COND, ...]} / {not: COND}
    operands: a number, a parameter (or result column) name, or {add|sub|mul|div: [a, b]}

This module is pure (no file system beyond reading the sweep file, no `sim`): sampling and path
application live in `sim/sweep/`."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from model.errors import InputError
from model.quirks import Profile
from model.scenario import scenario_error, yaml_path
from model.yamlio import LoadedDocument, load_documents, split_path

SWEEP_KIND = "Sweep"
COMPARISONS = ("le", "lt", "ge", "gt", "eq", "ne")
COMBINATORS = ("all", "any", "not")
ARITHMETIC = ("add", "sub", "mul", "div")
CONDITION_ALLOWED = (
    "a mapping with one key: le, lt, ge, gt, eq, ne (two operands), all or any (a list of conditions), "
    "or not (one condition)"
)
OPERAND_ALLOWED = "a number, a name, or {add|sub|mul|div: [a, b]}"
RESERVED_COLUMNS = ("key", "seed", "profile", "status", "error", "digest", "point")
"""Names a parameter cannot take (they are result columns of every row)."""


class SweepModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Range(SweepModel):
    """`start`, `start + step`, ... up to and including `stop` (within a millionth of a step)."""

    start: float
    stop: float
    step: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.stop < self.start:
            raise ValueError(f"stop ({self.stop:g}) must be >= start ({self.start:g})")
        if (self.stop - self.start) / self.step > 100_000:
            raise ValueError("a range of more than 100,000 values; use a larger step")
        return self

    def values(self) -> list[float | int]:
        count = math.floor((self.stop - self.start) / self.step + 1e-6) + 1
        whole = all(float(x).is_integer() for x in (self.start, self.stop, self.step))
        out: list[float | int] = []
        for i in range(count):
            v = self.start + i * self.step
            out.append(round(v) if whole else round(v, 12))
        return out


class Distribution(SweepModel):
    """A distribution for random and Latin-hypercube sampling (not for grids):
    `uniform` and `loguniform` over [low, high], `integer` over low..high inclusive, `normal`."""

    kind: Literal["uniform", "loguniform", "integer", "normal"]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    stddev: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _params(self) -> Distribution:
        need = ("mean", "stddev") if self.kind == "normal" else ("low", "high")
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"distribution {self.kind!r} needs {', '.join(missing)}")
        if self.kind != "normal":
            assert self.low is not None and self.high is not None
            if self.low > self.high:
                raise ValueError(f"low ({self.low:g}) must be <= high ({self.high:g})")
            if self.kind == "loguniform" and self.low <= 0:
                raise ValueError(f"loguniform needs low > 0, got {self.low:g}")
            if self.kind == "integer" and not (self.low.is_integer() and self.high.is_integer()):
                raise ValueError("integer needs whole numbers for low and high")
        return self

    def from_unit(self, u: float) -> float | int:
        """The value at quantile `u` in [0, 1) (inverse CDF), so random and LHS share one mapping."""
        if self.kind == "uniform":
            assert self.low is not None and self.high is not None
            return self.low + u * (self.high - self.low)
        if self.kind == "loguniform":
            assert self.low is not None and self.high is not None
            return float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        if self.kind == "integer":
            assert self.low is not None and self.high is not None
            n = int(self.high) - int(self.low) + 1
            return int(self.low) + min(int(u * n), n - 1)
        assert self.mean is not None and self.stddev is not None
        from statistics import NormalDist

        return NormalDist(self.mean, self.stddev).inv_cdf(min(max(u, 1e-12), 1 - 1e-12))


ParamValue = float | int | str | bool | None


class Parameter(SweepModel):
    """One varied input: where it goes (`path`) and its values (exactly one of values, range,
    distribution). `name` is its column in the results (default: derived from the path)."""

    path: Annotated[str, Field(min_length=1)]
    name: str | None = None
    values: list[Any] | None = None
    range: Range | None = None
    distribution: Distribution | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Parameter:
        given = [n for n in ("values", "range", "distribution") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'values' (a list), 'range' ({start, stop, step}) or 'distribution'"
                + (f"; got {', '.join(given)}" if given else "")
            )
        if self.values is not None and not self.values:
            raise ValueError("values must not be empty")
        if self.path.startswith("manifests[") and self.manifest_ref() is None:
            raise ValueError(
                "a manifest path is manifests[KIND/NAME].field... or manifests[KIND/NAMESPACE/NAME]...,"
                f" got {self.path!r}"
            )
        return self

    @property
    def column(self) -> str:
        if self.name:
            return self.name
        ref = self.manifest_ref()
        if ref is not None:
            rest = [t for t in split_path(self.path)[1:] if isinstance(t, str)]
            return f"{ref[2]}.{rest[-1]}" if rest else ref[2]
        return self.path

    def manifest_ref(self) -> tuple[str, str | None, str] | None:
        """(kind, namespace or None, name) of a `manifests[KIND/NAME]` path; None for scenario paths."""
        tokens = split_path(self.path)
        if len(tokens) < 2 or tokens[0] != "manifests" or not isinstance(tokens[1], str):
            return None
        parts = tokens[1].split("/")
        if len(parts) == 2 and all(parts):
            return parts[0], None, parts[1]
        if len(parts) == 3 and all(parts):
            return parts[0], parts[1], parts[2]
        return None

    def discrete(self) -> list[Any] | None:
        """The finite list of values (values or range); None for a distribution."""
        if self.values is not None:
            return list(self.values)
        if self.range is not None:
            return list(self.range.values())
        return None


class Sampling(SweepModel):
    """`grid`: every combination; `random` / `lhs`: `points` draws from the sweep's seed."""

    method: Literal["grid", "random", "lhs"] = "grid"
    points: Annotated[int, Field(ge=1, le=1_000_000)] | None = None

    @model_validator(mode="after")
    def _points(self) -> Sampling:
        if self.method == "grid" and self.points is not None:
            raise ValueError("a grid takes every combination; 'points' is for random and lhs")
        if self.method != "grid" and self.points is None:
            raise ValueError(f"sampling method {self.method!r} needs 'points'")
        return self


class Objective(SweepModel):
    """What the report optimises: `cost` (a result column, minimised) against `quality`
    (`slo_attainment`, maximised, or a latency column such as `ttft_p99_s`, minimised)."""

    cost: str = "gpu_hours_total"
    quality: str | None = None
    """Default: `slo_attainment` when the runs report it, else `ttft_p99_s`."""


class Sweep(SweepModel):
    api_version: Literal["dsim/v1"]
    kind: Literal["Sweep"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    description: str = ""
    base: Annotated[str, Field(min_length=1)]
    """The base scenario, relative to the sweep file."""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    """Seed of the sampling (random, lhs); the runs' seeds are `seeds`."""
    sampling: Sampling = Field(default_factory=Sampling)
    parameters: list[Parameter] = Field(default_factory=list)
    profiles: list[Profile] | None = None
    """Profiles to cross every point with (default: the base scenario's)."""
    seeds: list[Annotated[int, Field(ge=0, le=2**63 - 1)]] | None = None
    """Run seeds to cross every point with (default: the base scenario's)."""
    constraints: list[dict[str, Any]] = Field(default_factory=list)
    """Conditions over parameter names (and `seed`); points violating one are not run."""
    slo: list[dict[str, Any]] = Field(default_factory=list)
    """Conditions over result columns a run must meet (`meets_slo`), e.g. {le: [ttft_p99_s, 2]}."""
    objective: Objective = Field(default_factory=Objective)

    @model_validator(mode="after")
    def _checks(self) -> Sweep:
        if self.seeds is not None and not self.seeds:
            raise ValueError("seeds must not be empty (leave it out to use the scenario's seed)")
        if self.profiles is not None and not self.profiles:
            raise ValueError("profiles must not be empty (leave it out to use the scenario's profile)")
        return self


# --------------------------------------------------------------------------- expressions


def check_condition(
    expr: Any, names: Sequence[str], *, path: str, line_of: Callable[[str], int | None], file: str
) -> None:
    """Reject a malformed condition or an unknown name with file, line and YAML path."""

    def fail(message: str, at: str, value: Any = None, allowed: str = CONDITION_ALLOWED) -> InputError:
        return InputError(message, file=file, line=line_of(at), path=at, value=value, allowed=allowed)

    def operand(node: Any, at: str) -> None:
        if isinstance(node, bool):
            raise fail("a boolean is not an operand", at, node, OPERAND_ALLOWED)
        if isinstance(node, int | float):
            return
        if isinstance(node, str):
            if node not in names:
                hint = difflib.get_close_matches(node, list(names), n=1)
                raise fail(
                    f"unknown name {node!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                    at,
                    node,
                    ", ".join(names)
                    if len(names) <= 12
                    else "a parameter name, seed, or a result column such as ttft_p99_s (docs/sweeps.md)",
                )
            return
        if isinstance(node, dict) and len(node) == 1:
            ((op, args),) = node.items()
            if op in ARITHMETIC:
                if not isinstance(args, list) or len(args) != 2:
                    raise fail(f"{op} takes a list of two operands", f"{at}.{op}", args, OPERAND_ALLOWED)
                for j, arg in enumerate(args):
                    operand(arg, f"{at}.{op}[{j}]")
                return
        raise fail("not an operand", at, node, OPERAND_ALLOWED)

    def cond(node: Any, at: str) -> None:
        if not isinstance(node, dict) or len(node) != 1:
            raise fail("a condition is a mapping with exactly one operator", at, node)
        ((op, args),) = node.items()
        where = f"{at}.{op}"
        if op in COMPARISONS:
            if not isinstance(args, list) or len(args) != 2:
                raise fail(f"{op} takes a list of two operands", where, args, OPERAND_ALLOWED)
            for j, arg in enumerate(args):
                operand(arg, f"{where}[{j}]")
        elif op in ("all", "any"):
            if not isinstance(args, list) or not args:
                raise fail(f"{op} takes a non-empty list of conditions", where, args)
            for j, arg in enumerate(args):
                cond(arg, f"{where}[{j}]")
        elif op == "not":
            cond(args, where)
        else:
            hint = difflib.get_close_matches(str(op), [*COMPARISONS, *COMBINATORS], n=1)
            raise fail(
                f"unknown operator {op!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                where,
                op,
                ", ".join((*COMPARISONS, *COMBINATORS)),
            )

    cond(expr, path)


def _value(node: Any, env: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        return env.get(node)
    if isinstance(node, dict):
        ((op, (a, b)),) = node.items()
        x, y = _value(a, env), _value(b, env)
        if x is None or y is None:
            return None
        if op == "add":
            return x + y
        if op == "sub":
            return x - y
        if op == "mul":
            return x * y
        return None if y == 0 else x / y
    return node


def evaluate_condition(expr: Mapping[str, Any], env: Mapping[str, Any]) -> bool | None:
    """True/False, or None when a value it needs is missing (NaN or null)."""
    ((op, args),) = expr.items()
    if op in ("all", "any"):
        results = [evaluate_condition(a, env) for a in args]
        if op == "all":
            return False if False in results else (None if None in results else True)
        return True if True in results else (None if None in results else False)
    if op == "not":
        r = evaluate_condition(args, env)
        return None if r is None else not r
    x, y = _value(args[0], env), _value(args[1], env)
    if (
        x is None
        or y is None
        or (isinstance(x, float) and math.isnan(x))
        or (isinstance(y, float) and math.isnan(y))
    ):
        return None
    try:
        if op == "le":
            return bool(x <= y)
        if op == "lt":
            return bool(x < y)
        if op == "ge":
            return bool(x >= y)
        if op == "gt":
            return bool(x > y)
        if op == "eq":
            return bool(x == y)
        return bool(x != y)
    except TypeError:
        return None


def condition_names(expr: Any) -> list[str]:
    """Every name an expression reads (for column checks)."""
    out: list[str] = []
    if isinstance(expr, str):
        out.append(expr)
    elif isinstance(expr, dict):
        for args in expr.values():
            out.extend(condition_names(args))
    elif isinstance(expr, list):
        for a in expr:
            out.extend(condition_names(a))
    return out


# --------------------------------------------------------------------------- loading


class LoadedSweep:
    """A validated sweep and the document it came from (for line numbers of later checks)."""

    def __init__(self, sweep: Sweep, file: Path, doc: LoadedDocument) -> None:
        self.sweep = sweep
        self.file = file
        self.doc = doc

    @property
    def name(self) -> str:
        return str(self.file)

    def line_of(self, path: str) -> int | None:
        return self.doc.line_of(path)

    def error(self, message: str, path: str, *, value: Any = None, allowed: str = "") -> InputError:
        return InputError(
            message, file=self.name, line=self.line_of(path), path=path, value=value, allowed=allowed
        )


def load_sweep(path: str | Path) -> LoadedSweep:
    """Read and validate a sweep file; every problem is an `InputError` with file, line and path."""
    file = Path(path)
    docs = load_documents(file)
    name = str(file)
    if len(docs) != 1:
        raise InputError(
            f"a sweep file holds exactly one YAML document, found {len(docs)}",
            file=name,
            line=docs[1].line if len(docs) > 1 else 1,
            allowed="one mapping with apiVersion: dsim/v1 and kind: Sweep",
        )
    doc = docs[0]
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(
            "a sweep file must hold one mapping",
            file=name,
            line=1,
            allowed="apiVersion: dsim/v1, kind: Sweep, ...",
        )
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        err = scenario_error(exc, data, file=name, line_of=doc.line_of)
        if err.message.startswith("unknown field"):
            # scenario_error knows the Scenario's keys; name the sweep's instead
            keys = _allowed_at(err.path)
            hint = difflib.get_close_matches(str(err.value), keys, n=1)
            err.message = "unknown field" + (f"; did you mean {hint[0]!r}?" if hint else "")
            err.allowed = ", ".join(keys)
        raise err from None
    loaded = LoadedSweep(sweep, file, doc)
    if sweep.sampling.method == "grid":
        for i, p in enumerate(sweep.parameters):
            if p.distribution is not None:
                raise loaded.error(
                    "a grid cannot enumerate a distribution",
                    f"parameters[{i}].distribution",
                    allowed="values or a range, or sampling: {method: random|lhs, points: N}",
                )
    columns: dict[str, int] = {}
    for i, p in enumerate(sweep.parameters):
        col = p.column
        if col in RESERVED_COLUMNS:
            raise loaded.error(
                f"parameter name {col!r} is a result column",
                f"parameters[{i}].name",
                value=col,
                allowed="any other name (give the parameter a 'name')",
            )
        if col in columns:
            raise loaded.error(
                f"two parameters are named {col!r} (parameters[{columns[col]}] and parameters[{i}])",
                f"parameters[{i}]",
                value=col,
                allowed="unique names; give one a 'name'",
            )
        columns[col] = i
    names = [*columns, "seed"]
    for i, c in enumerate(sweep.constraints):
        check_condition(c, names, path=f"constraints[{i}]", line_of=doc.line_of, file=name)
    return loaded


def _allowed_at(path: str) -> list[str]:
    """Allowed keys of the sweep model at a YAML path (for 'unknown field' messages)."""
    tokens = split_path(path)
    model: type[BaseModel] = Sweep
    for tok in tokens[:-1]:
        if isinstance(tok, int):
            continue
        field = next((f for n, f in model.model_fields.items() if tok in (f.alias, n)), None)
        if field is None:
            return []
        ann = field.annotation
        candidates = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)]
        inner = [c for c in candidates if issubclass(c, BaseModel)]
        if not inner:
            for a in getattr(ann, "__args__", ()):
                inner += [
                    b for b in getattr(a, "__args__", ()) if isinstance(b, type) and issubclass(b, BaseModel)
                ]
        if not inner:
            return []
        model = inner[0]
    return [f.alias or n for n, f in model.model_fields.items()]


__all__ = [
    "Distribution",
    "LoadedSweep",
    "Objective",
    "Parameter",
    "Range",
    "Sampling",
    "Sweep",
    "check_condition",
    "condition_names",
    "evaluate_condition",
    "load_sweep",
    "yaml_path",
]
