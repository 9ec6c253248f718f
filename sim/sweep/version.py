"""The code version that keys a sweep's runs: a digest of the simulator's own source.

A rerun skips a run only when its inputs *and* the code that simulates them are unchanged, so the
key includes this digest of every source and data file under `model/` and `sim/` (sorted by path;
the command-line, report, progress, engine and executor modules excluded: they never change a
row)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

_EXCLUDED = (
    "sim/commands/",
    "sim/sweep/report.py",
    "sim/sweep/progress.py",
    "sim/sweep/engine.py",
    "sim/sweep/executors.py",
)
_SUFFIXES = (".py", ".yaml", ".json")


@lru_cache(maxsize=1)
def code_version() -> str:
    """`<package version>+<12 hex digits of the source digest>`."""
    import model
    import sim

    h = hashlib.sha256()
    for package in (model, sim):
        root = Path(str(package.__file__)).resolve().parent
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and p.suffix in _SUFFIXES and "__pycache__" not in p.parts
        )
        for path in files:
            rel = f"{root.name}/{path.relative_to(root).as_posix()}"
            if rel.startswith(_EXCLUDED):
                continue
            blob = path.read_bytes()
            h.update(f"{rel}\0{len(blob)}\0".encode())
            h.update(blob)
    try:
        version = metadata.version("disagg-sim")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"{version}+{h.hexdigest()[:12]}"
