"""Explore load and faults around a user's manifests and look for invariant violations.

The starting point is a scenario (or bare manifests, wrapped in a default scenario). Hypothesis
draws a seed, a synthetic workload shape (`load_traces`) and a fault schedule (`fault_schedules`);
each example is a scenario variant run through the same `World` as `dsim run`, with the named
invariants as its expectations. The first failing example is shrunk (within a wall-clock budget)
and handed back for export, so the exported file reproduces exactly what was found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import InputError
from model.scenario import InvariantHolds, Scenario, Synthetic, Workload, scenario_from_data
from sim.invariants import Violation
from sim.scenario.load import DS_KIND, Manifest, ResolvedScenario, load_scenario

DEFAULT_DURATION = 300.0
CRASH = "simulation_crash"
"""Pseudo-invariant reported when an example crashes the simulator."""


@dataclass(frozen=True)
class Example:
    seed: int
    workload: Workload | None
    faults: tuple[Any, ...] = ()

    def key(self) -> str:
        wl = self.workload.model_dump_json() if self.workload is not None else "-"
        return f"{self.seed}|{wl}|" + "|".join(f.model_dump_json() for f in self.faults)


@dataclass
class Finding:
    example: Example
    violations: list[Violation]
    runs: int = 0


@dataclass
class Exploration:
    base: ResolvedScenario
    names: list[str]
    profile: str
    runs: int = 0
    cache: dict[str, list[Violation]] = field(default_factory=dict)

    def run(self, ex: Example) -> list[Violation]:
        key = ex.key()
        if key not in self.cache:
            self.runs += 1
            self.cache[key] = run_example(self.base, ex, self.names, self.profile)
        return self.cache[key]


def resolve_input(
    path: Path, *, duration: float | None = None, allow_outside: bool = False
) -> ResolvedScenario:
    """A scenario file as `dsim run` reads it, or manifests (a YAML file or a folder of them)
    wrapped in a default scenario: one 300 s run, default cluster, no workload (explored)."""
    from model.admission import admit
    from model.yamlio import load_documents

    if not path.exists():
        raise InputError(
            "no such file or folder", file=str(path), allowed="a scenario file or Kubernetes manifests"
        )
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    if path.is_file():
        docs = load_documents(path)
        if len(docs) == 1 and docs[0].data.get("apiVersion") == "dsim/v1":
            return load_scenario(path, until=duration, allow_outside=allow_outside)
    manifests: list[Manifest] = []
    seen: dict[tuple[str, str, str], str] = {}
    for f in files:
        for d in load_documents(f):
            issues = [i for i in admit(d.data) if i.severity == "error"]
            if issues:
                kind, name = d.data.get("kind", "?"), (d.data.get("metadata") or {}).get("name", "?")
                raise InputError(
                    f"{kind}/{name}: {issues[0].message}",
                    file=str(f),
                    line=issues[0].line or d.line,
                    path=issues[0].path,
                    value=issues[0].value,
                )
            key = (
                str(d.data.get("kind")),
                str((d.data.get("metadata") or {}).get("namespace") or "default"),
                str((d.data.get("metadata") or {}).get("name")),
            )
            if key in seen:
                raise InputError(
                    f"{key[0]} {key[1]}/{key[2]} is defined twice (first in {seen[key]})",
                    file=str(f),
                    line=d.line,
                    path="metadata.name",
                    value=key[2],
                    allowed="each object once across the files checked together",
                )
            seen[key] = f"{f}:{d.line}"
            manifests.append(Manifest(d.data, str(f), d.line))
    if not manifests:
        raise InputError(
            "no Kubernetes objects found", file=str(path), allowed="YAML manifests or a scenario"
        )
    doc = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": _scenario_name(path),
        "seed": 0,
        "duration": duration or DEFAULT_DURATION,
        "manifests": [{"inline": m.obj} for m in manifests],
    }
    scenario = scenario_from_data(doc, file=str(path))
    return _resolved(scenario, path, tuple(manifests))


def _scenario_name(path: Path) -> str:
    import re

    stem = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-")[:40].strip("-")
    return stem or "check"


def _resolved(scenario: Scenario, file: Path, manifests: tuple[Manifest, ...]) -> ResolvedScenario:
    ds = [m.obj for m in manifests if m.obj.get("kind") == DS_KIND]
    roles: list[str] = []
    for obj in ds:
        for r in (obj.get("spec") or {}).get("roles") or []:
            if str(r.get("name")) not in roles:
                roles.append(str(r.get("name")))
    names = tuple(str((o.get("metadata") or {}).get("name")) for o in ds)
    root = file.resolve().parent if file.is_file() else file.resolve()
    return ResolvedScenario(scenario, file.resolve(), root, manifests, None, tuple(roles), names)


def nodes_of(base: ResolvedScenario) -> list[str]:
    return [f"{p.name}-{i}" for p in base.scenario.cluster.node_pools for i in range(p.count)]


def with_synthetic(base: ResolvedScenario, shape: Synthetic | None) -> Workload | None:
    """The base workload's target and queue settings with `shape` as its source."""
    if shape is None or not base.ds_names:
        return None
    wl = base.scenario.workload
    keep: dict[str, Any] = {}
    if wl is not None:
        keep = wl.model_dump(
            exclude={"trace", "format", "synthetic", "rate_multiplier", "time_scale", "loop"}
        )
    keep.setdefault("target", base.ds_names[0])
    if keep.get("target") is None:
        keep["target"] = base.ds_names[0]
    return Workload(synthetic=shape, **keep)


def variant(base: ResolvedScenario, ex: Example, names: Sequence[str], profile: str) -> ResolvedScenario:
    from model.quirks import Profile

    scenario = base.scenario.model_copy(
        update={
            "seed": ex.seed,
            "profile": Profile(profile),
            "workload": ex.workload,
            "faults": list(ex.faults),
            "expectations": [InvariantHolds(type="invariant", invariant=n) for n in names],
        }
    )
    trace = base.trace if ex.workload is not None and ex.workload.trace is not None else None
    return ResolvedScenario(scenario, base.file, base.root, base.manifests, trace, base.roles, base.ds_names)


def run_example(base: ResolvedScenario, ex: Example, names: Sequence[str], profile: str) -> list[Violation]:
    """Run one example like `dsim run` (no artefacts) and return the named invariants' violations."""
    from sim.scenario.world import World
    from sim.testing.world_observer import world_violations

    world = World(variant(base, ex, names, profile))
    try:
        world.build()
        world.run()
    except Exception as exc:  # a crash inside a layer is a finding too (dsim run exits 1 on it)
        return [Violation(CRASH, world.now, f"the simulation crashed: {type(exc).__name__}: {exc}")]
    assert world.observer is not None
    return world_violations(world, world.observer, list(names))


def explore(
    base: ResolvedScenario,
    names: Sequence[str],
    *,
    profile: str,
    examples: int = 20,
    seed: int | None = None,
    shrink_seconds: float = 120.0,
    max_rate: float = 40.0,
    progress: Callable[[int, list[Violation]], None] | None = None,
) -> tuple[Finding | None, int]:
    """Search for an example violating one of `names`; returns (the shrunk finding or None, runs).

    The scenario as given (its own seed, workload and faults) is tried first; the search runs at
    most `examples` simulations in all (the given one included) unless it finds a violation, which
    is then shrunk within `shrink_seconds`."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    from sim.report.wallclock import wall_seconds
    from sim.testing.strategies import fault_schedules, load_traces

    ex_state = Exploration(base, list(names), profile)
    sc = base.scenario
    given = Example(sc.seed if seed is None else seed, sc.workload, tuple(sc.faults))
    found = ex_state.run(given)
    if progress is not None:
        progress(ex_state.runs, found)
    if found:
        return Finding(given, found, ex_state.runs), ex_state.runs

    duration = float(sc.duration)
    seeds = st.just(seed) if seed is not None else st.integers(0, 1000)
    shapes = load_traces(max_rate=max_rate, duration=duration) if base.ds_names else st.none()
    faults = fault_schedules(duration=duration, roles=base.roles, nodes=nodes_of(base))
    strategy = st.builds(
        lambda s, shape, fs: Example(s, with_synthetic(base, shape), tuple(fs)), seeds, shapes, faults
    )
    first_hit: list[float] = []

    def violates(ex: Example) -> bool:
        key = ex.key()
        if key not in ex_state.cache and first_hit and wall_seconds() - first_hit[0] > shrink_seconds:
            return False  # shrinking budget spent: keep the smallest example found so far
        new = key not in ex_state.cache
        if new and not first_hit and ex_state.runs >= examples:
            return False  # the search budget is `examples` runs, the given scenario included
        result = ex_state.run(ex)
        if progress is not None and new:
            progress(ex_state.runs, result)
        if result and not first_hit:
            first_hit.append(wall_seconds())
        return bool(result)

    try:
        example = find(
            strategy,
            violates,
            settings=settings(
                # Hypothesis counts its calls, not our runs (duplicates, the given scenario): the
                # exact budget is enforced in `violates`, this only bounds the generation
                max_examples=max(100, 10 * examples),
                database=None,
                derandomize=True,
                deadline=None,
                phases=(Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck),
            ),
        )
    except NoSuchExample:
        return None, ex_state.runs
    return Finding(example, ex_state.run(example), ex_state.runs), ex_state.runs


def export_finding(
    base: ResolvedScenario, finding: Finding, names: Sequence[str], profile: str, out: Path
) -> Path:
    """Write the finding as `<out>/<scenario>-<invariant>.yaml`; returns its path."""
    from sim.testing.export import counterexample_document, write_counterexample

    order = [*names, CRASH]
    violated = sorted({v.name for v in finding.violations}, key=order.index)
    name = f"{base.scenario.name}-{violated[0].replace('_', '-')}"[:63].strip("-")
    violated = [n for n in violated if n != CRASH] or list(names)
    workload = finding.example.workload
    if workload is not None and workload.trace is not None and base.trace is not None:
        workload = workload.model_copy(update={"trace": str(base.trace)})  # the file runs from anywhere
    doc = counterexample_document(
        name=name,
        manifests=[m.obj for m in base.manifests],
        seed=finding.example.seed,
        duration=float(base.scenario.duration),
        profile=profile,
        invariants=violated,
        workload=workload,
        faults=finding.example.faults,
        description=f"Counterexample for {', '.join(violated)} found by dsim check from {base.file.name}.",
        base=base.scenario,
    )
    return write_counterexample(out / f"{name}.yaml", doc, finding.violations)
