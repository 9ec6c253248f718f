"""Invariants for scenario runs: the observer a `World` attaches and the observation built from it.

`dsim run` checks `{type: invariant, invariant: <name>}` expectations with these; `dsim check` and
the exported counterexamples use the same path, so a violation found while exploring reappears
exactly when the exported scenario is run."""

from __future__ import annotations

from typing import Any

from sim.invariants import Disturbance, Observation, Violation, check
from sim.testing.observer import Observer

INVARIANT_EXPECTATION = "invariant"


def wants_invariants(scenario: Any) -> bool:
    return any(getattr(e, "type", None) == INVARIANT_EXPECTATION for e in scenario.expectations)


def attach_observer(world: Any, *, force: bool = False) -> Observer | None:
    """Observe the world's API server (call right after it is created, before manifests are
    applied); None when no expectation needs invariants and `force` is False."""
    if not force and not wants_invariants(world.scenario):
        return None
    return Observer.attach(world.api)


def world_observation(world: Any, observer: Observer) -> Observation:
    """The world's observable state now: audit, snapshots, controller events, load samples, and the
    scenario's faults as disturbances."""
    extra = []
    for fault in world.scenario.faults:
        end = float(getattr(fault, "until", fault.at))
        if fault.type == "failNode":
            end = float(fault.at) + 60.0
        extra.append(Disturbance(float(fault.at), end, f"fault {fault.type}"))
    samples = [v["sample"] for _, v in sorted(world._load_samples.items())]
    events = [e for e in world.events if e.get("actor") or e.get("type") == "reconcile"]
    return observer.observation(
        world.quirks,
        events=events,
        requests=world.request_counts(),
        load_samples=samples,
        extra_disturbances=extra,
    )


def world_violations(world: Any, observer: Observer, names: list[str] | None = None) -> list[Violation]:
    return check(world_observation(world, observer), names)
