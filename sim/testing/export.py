"""Counterexamples become scenarios: a failing example (manifests, workload, faults, seed, profile)
is written as a self-contained `dsim/v1` Scenario whose expectations are the violated invariants
(`{type: invariant, invariant: NAME}`), so `dsim run FILE` reproduces the same violation (exit 1)
and reports it in summary.json. Manifests are inlined: the file runs from anywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from model.scenario import Scenario, scenario_from_data
from model.yamlio import dump_documents


def counterexample_document(
    *,
    name: str,
    manifests: Sequence[Mapping[str, Any]],
    seed: int,
    duration: float,
    profile: str,
    invariants: Sequence[str],
    workload: Any = None,
    faults: Sequence[Any] = (),
    description: str = "",
    base: Scenario | None = None,
) -> dict[str, Any]:
    """The scenario as plain data. `workload` is a `Synthetic` shape (or a full `Workload`); faults
    are `model.scenario` fault models. `base` contributes cluster, lifecycle, services, start and
    quirk overrides of the scenario the exploration started from."""
    doc: dict[str, Any] = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": name,
        "description": description,
        "seed": int(seed),
        "duration": float(duration),
        "profile": profile,
    }
    if base is not None:
        dumped = base.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key in ("start", "quirks", "sampleInterval", "cluster", "lifecycle", "services"):
            if dumped.get(key):
                doc[key] = dumped[key]
    doc["manifests"] = [{"inline": dict(m)} for m in manifests]
    if workload is not None:
        wl = workload.model_dump(mode="json", by_alias=True, exclude_none=True)
        doc["workload"] = wl if "synthetic" in wl or "trace" in wl else {"synthetic": wl}
    if faults:
        doc["faults"] = [f.model_dump(mode="json", by_alias=True, exclude_none=True) for f in faults]
    if workload is not None and getattr(workload, "trace", None):
        doc["allowOutside"] = True
    doc["expectations"] = [{"type": "invariant", "invariant": n} for n in invariants]
    scenario_from_data(doc, file=f"<counterexample {name}>")  # never write a scenario dsim run rejects
    return doc


def write_counterexample(path: Path, doc: Mapping[str, Any], violations: Sequence[Any] = ()) -> Path:
    """Write `doc` as YAML with a header naming the violations; returns the path."""
    lines = [
        "# Counterexample found by `dsim check` (disagg-sim property testing).",
        f"# Reproduce: dsim run {path.name} --profile {doc.get('profile')}",
    ]
    for v in violations:
        lines.append(f"# {v.name} at {v.time:g}s: {v.detail}")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(line.replace("\n", " ") for line in lines) + "\n" + dump_documents([doc])
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
