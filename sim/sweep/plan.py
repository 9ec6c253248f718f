"""From a sweep file to the list of runs: sample the points, apply each point's values to the base
scenario and its manifests, resolve the result through the normal scenario loader, key each run.

Points are deterministic: a grid enumerates values in file order (the first parameter varies
slowest), random and Latin-hypercube draws come from named numpy streams of the sweep's seed
(`sim.seeds.Seeds(seed).stream("sweep.random" | "sweep.lhs")`). Each point is then crossed with
the profiles and seeds; points violating a constraint are dropped before anything runs.

A parameter path that does not exist in the base refuses the whole sweep up front (exit 2, the
sweep file's line); a value the scenario loader rejects makes that point's row `invalid` with the
loader's message."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import InputError
from model.scenario import scenario_from_data
from model.sweep import LoadedSweep, Parameter, check_condition, condition_names, evaluate_condition
from model.yamlio import dump_documents, load_documents, split_path
from sim.scenario.load import Manifest, ResolvedScenario, load_scenario
from sim.seeds import Seeds
from sim.sweep.columns import RUN_COLUMNS, role_columns
from sim.sweep.version import code_version


@dataclass(frozen=True)
class Point:
    index: int
    params: dict[str, Any]
    seed: int
    profile: str

    def env(self) -> dict[str, Any]:
        return {**self.params, "seed": self.seed, "profile": self.profile}


@dataclass(frozen=True)
class PlannedRun:
    point: Point
    key: str | None
    resolved: ResolvedScenario | None
    invalid: str | None = None
    """The loader's message when the point's values make an invalid scenario."""


@dataclass
class Plan:
    loaded: LoadedSweep
    base: ResolvedScenario
    runs: list[PlannedRun]
    dropped_by_constraints: int
    code: str
    params: list[str] = field(default_factory=list)

    @property
    def roles(self) -> tuple[str, ...]:
        return self.base.roles


# --------------------------------------------------------------------------- sampling


def sample(loaded: LoadedSweep) -> list[dict[str, Any]]:
    """Parameter assignments (column -> value), before profiles, seeds and constraints."""
    sweep = loaded.sweep
    params = sweep.parameters
    if not params:
        return [{}]
    method = sweep.sampling.method
    if method == "grid":
        lists = [p.discrete() or [] for p in params]
        return [{p.column: v for p, v in zip(params, combo)} for combo in itertools.product(*lists)]
    n = int(sweep.sampling.points or 0)
    seeds = Seeds(sweep.seed)
    if method == "random":
        gen = seeds.stream("sweep.random")
        units = [[float(gen.random()) for _ in params] for _ in range(n)]
    else:  # lhs: one stratum of [0, 1) per point and parameter, strata shuffled per parameter
        gen = seeds.stream("sweep.lhs")
        cols = []
        for _ in params:
            perm = gen.permutation(n)
            cols.append([(int(perm[i]) + float(gen.random())) / n for i in range(n)])
        units = [[cols[j][i] for j in range(len(params))] for i in range(n)]
    return [{p.column: _from_unit(p, u) for p, u in zip(params, row)} for row in units]


def _from_unit(p: Parameter, u: float) -> Any:
    values = p.discrete()
    if values is not None:
        return values[min(int(u * len(values)), len(values) - 1)]
    assert p.distribution is not None
    v = p.distribution.from_unit(u)
    return v if isinstance(v, int) else round(float(v), 9)


# --------------------------------------------------------------------------- paths


def _walk(root: Any, tokens: Sequence[str | int]) -> tuple[bool, Any]:
    """(True, parent container) when every token but the last exists and the parent can hold it."""
    node = root
    for tok in tokens[:-1]:
        in_dict = isinstance(node, dict) and isinstance(tok, str) and tok in node
        in_list = isinstance(node, list) and isinstance(tok, int) and 0 <= tok < len(node)
        if not (in_dict or in_list):
            return False, None
        node = node[tok]
    last = tokens[-1] if tokens else None
    if isinstance(node, dict) and isinstance(last, str):
        return True, node
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        return True, node
    return False, None


def _coerce(old: Any, new: Any) -> Any:
    """Kubernetes quantities and metric targets are strings: a number replacing a string becomes
    its text (4 -> "4", 0.5 -> "0.5")."""
    if isinstance(old, str) and isinstance(new, int | float) and not isinstance(new, bool):
        return str(new) if isinstance(new, int) or not float(new).is_integer() else str(int(new))
    return new


def _set(root: Any, tokens: Sequence[str | int], value: Any) -> None:
    ok, parent = _walk(root, tokens)
    assert ok
    last = tokens[-1]
    old = parent.get(last) if isinstance(parent, dict) else parent[last]  # type: ignore[index]
    parent[last] = _coerce(old, value)


def _find_manifest(manifests: Sequence[Manifest], ref: tuple[str, str | None, str]) -> int | None:
    kind, ns, name = ref
    for i, m in enumerate(manifests):
        meta = m.obj.get("metadata") or {}
        same_ns = ns is None or (meta.get("namespace") or "default") == ns
        if m.obj.get("kind") == kind and meta.get("name") == name and same_ns:
            return i
    return None


def check_paths(loaded: LoadedSweep, base: ResolvedScenario, base_data: Mapping[str, Any]) -> None:
    """Refuse the sweep when a parameter's path does not exist in the base scenario."""
    for i, p in enumerate(loaded.sweep.parameters):
        where = f"parameters[{i}].path"
        ref = p.manifest_ref()
        tokens = split_path(p.path)
        if ref is not None:
            idx = _find_manifest(base.manifests, ref)
            if idx is None:
                have = [
                    f"{m.obj.get('kind')}/{(m.obj.get('metadata') or {}).get('name')}" for m in base.manifests
                ]
                raise loaded.error(
                    f"no manifest {ref[0]}/{ref[2]} in the base scenario",
                    where,
                    value=p.path,
                    allowed=", ".join(f"manifests[{h}]" for h in have),
                )
            rest = tokens[2:]
            if not rest:
                raise loaded.error("the path must name a field of the manifest", where, value=p.path)
            ok, _ = _walk(base.manifests[idx].obj, rest)
            if not ok:
                raise loaded.error(
                    f"{ref[0]}/{ref[2]} has no field {'.'.join(str(t) for t in rest[:-1]) or '(root)'} "
                    "to set this in; add it to the manifest first",
                    where,
                    value=p.path,
                )
            continue
        if tokens[0] in ("seed", "profile"):
            raise loaded.error(
                f"{tokens[0]} is a dimension of its own",
                where,
                value=p.path,
                allowed=f"the sweep's '{tokens[0]}s' list",
            )
        ok, _ = _walk(base_data, tokens)
        if not ok:
            raise loaded.error(
                f"the base scenario has nothing at {p.path!r} to set (its parent is missing)",
                where,
                value=p.path,
                allowed="a path into the base scenario (add the enclosing block to it first)",
            )
        # a key the Scenario model does not know is a typo in the sweep, not a bad value
        probe = copy.deepcopy(dict(base_data))
        first = (p.discrete() or [None])[0]
        _set(probe, tokens, first if first is not None else 0)
        try:
            scenario_from_data(probe)
        except InputError as err:
            if err.message.startswith("unknown field") and p.path.startswith(err.path):
                raise loaded.error(
                    f"the scenario has no field {err.path!r}: {err.message}",
                    where,
                    value=p.path,
                    allowed=err.allowed,
                ) from None


# --------------------------------------------------------------------------- keys


_TRACE_DIGESTS: dict[str, str] = {}


def _file_digest(path: Path) -> str:
    key = str(path)
    if key not in _TRACE_DIGESTS:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _TRACE_DIGESTS[key] = h.hexdigest()
    return _TRACE_DIGESTS[key]


def run_key(resolved: ResolvedScenario, code: str) -> str:
    """SHA-256 (24 hex digits) of everything a run depends on: the scenario after parameter
    application (seed and profile included), the manifests, the trace's content and the code."""
    payload = {
        "scenario": resolved.scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
        "manifests": [m.obj for m in resolved.manifests],
        "trace": _file_digest(resolved.trace) if resolved.trace is not None else None,
        "code": code,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


# --------------------------------------------------------------------------- the plan


def _point_text(
    loaded: LoadedSweep, base: ResolvedScenario, base_data: Mapping[str, Any], values: Mapping[str, Any]
) -> str:
    data = copy.deepcopy(dict(base_data))
    manifests: list[dict[str, Any]] | None = None
    for p in loaded.sweep.parameters:
        value = values[p.column]
        tokens = split_path(p.path)
        ref = p.manifest_ref()
        if ref is None:
            _set(data, tokens, value)
            continue
        if manifests is None:
            manifests = [copy.deepcopy(m.obj) for m in base.manifests]
        idx = _find_manifest(base.manifests, ref)
        assert idx is not None
        _set(manifests[idx], tokens[2:], value)
    if manifests is not None:
        data["manifests"] = [{"inline": obj} for obj in manifests]
    return dump_documents([data])


def build_plan(loaded: LoadedSweep, *, allow_outside: bool = False) -> Plan:
    """Every run of the sweep, resolved and keyed (raises InputError for a bad sweep)."""
    sweep = loaded.sweep
    base_path = (loaded.file.resolve().parent / sweep.base).resolve()
    if not base_path.is_file():
        raise loaded.error(
            f"base scenario not found: {base_path}",
            "base",
            value=sweep.base,
            allowed="a scenario file, relative to the sweep file",
        )
    base = load_scenario(base_path, allow_outside=allow_outside)
    base_data = load_documents(base_path)[0].data
    check_paths(loaded, base, base_data)
    _check_slo(loaded, base)

    profiles = [p.value for p in sweep.profiles] if sweep.profiles else [base.scenario.profile.value]
    seeds = list(sweep.seeds) if sweep.seeds else [base.scenario.seed]
    code = code_version()
    runs: list[PlannedRun] = []
    dropped = 0
    index = 0
    for values in sample(loaded):
        text: str | None = None
        for profile, seed in itertools.product(profiles, seeds):
            point = Point(index, dict(values), seed, profile)
            index += 1
            if not all(evaluate_condition(c, point.env()) is True for c in sweep.constraints):
                dropped += 1
                continue
            if text is None:
                text = _point_text(loaded, base, base_data, values)
            try:
                resolved = load_scenario(
                    base_path, text=text, seed=seed, profile=profile, allow_outside=allow_outside
                )
            except InputError as err:
                parts = [p for p in (err.path, err.message) if p]
                msg = ": ".join(parts)
                if err.allowed and err.allowed not in msg:
                    msg += f" (allowed: {err.allowed})"
                runs.append(PlannedRun(point, None, None, msg))
                continue
            runs.append(PlannedRun(point, run_key(resolved, code), resolved))
    return Plan(loaded, base, runs, dropped, code, [p.column for p in sweep.parameters])


def _check_slo(loaded: LoadedSweep, base: ResolvedScenario) -> None:
    sweep = loaded.sweep
    names = [
        *[p.column for p in sweep.parameters],
        "seed",
        *[c.name for c in RUN_COLUMNS],
        *[c.name for c in role_columns(base.roles)],
    ]
    for i, cond in enumerate(sweep.slo):
        extra = [n for n in condition_names(cond) if n.startswith("findings.")]
        check_condition(cond, [*names, *extra], path=f"slo[{i}]", line_of=loaded.line_of, file=loaded.name)
    for what in ("cost", "quality"):
        col = getattr(sweep.objective, what)
        if col is not None and col not in names:
            raise loaded.error(
                f"no result column {col!r}",
                f"objective.{what}",
                value=col,
                allowed=", ".join(names[len(sweep.parameters) + 1 :]),
            )
