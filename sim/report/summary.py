"""summary.json: the one-screen facts of a run, and the digest that proves two runs identical.

The digest is a SHA-256 over the bytes of events.jsonl and timeseries.csv (in that order, each
prefixed by its name and length), so it changes when any simulated fact changes and never with
wall-clock time, output folder or PYTHONHASHSEED. `wall_seconds` is therefore not part of it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.report.jsonfmt import dumps_pretty

PERCENTILES: tuple[float, ...] = (50.0, 90.0, 95.0, 99.0)


def compute_digest(events_bytes: bytes, timeseries_bytes: bytes) -> str:
    h = hashlib.sha256()
    for name, blob in (("events.jsonl", events_bytes), ("timeseries.csv", timeseries_bytes)):
        h.update(f"{name}\0{len(blob)}\0".encode())
        h.update(blob)
    return h.hexdigest()


def percentiles(values: Sequence[float], ps: Sequence[float] = PERCENTILES) -> dict[str, float | None]:
    """{"p50": ..., "p99": ...} with numpy's linear interpolation; None when there is no sample."""
    if len(values) == 0:
        return {f"p{p:g}": None for p in ps}
    arr = np.asarray(values, dtype=float)
    return {f"p{p:g}": float(np.percentile(arr, p)) for p in ps}


def write_summary(path: Path, summary: Mapping[str, Any]) -> None:
    path.write_text(dumps_pretty(summary), encoding="utf-8")


def read_summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: summary.json must hold an object")
    return data
