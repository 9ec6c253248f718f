"""events.jsonl: every API write, reconcile decision, pod transition and fault, in simulated time.

One canonical JSON object per line (`sim.report.jsonfmt`), in the order the simulation produced
them, which is itself deterministic. Each event has at least `t` (simulated seconds) and `type`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.report.jsonfmt import dumps


class EventLog:
    """An append-only list of events; the runner passes `log.emit` as the `events` sink to
    controllers, the API server audit hook and the fault scheduler."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._counts: Counter[str] = Counter()

    def emit(self, event: dict[str, Any]) -> None:
        if "t" not in event or "type" not in event:
            raise ValueError(f"an event needs 't' and 'type', got keys {sorted(event)}")
        self._lines.append(dumps(event))
        self._counts[str(event["type"])] += 1

    def __len__(self) -> int:
        return len(self._lines)

    def counts(self) -> dict[str, int]:
        return dict(sorted(self._counts.items()))

    def to_bytes(self) -> bytes:
        return "".join(line + "\n" for line in self._lines).encode("utf-8")

    def write(self, path: Path) -> None:
        path.write_bytes(self.to_bytes())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for line in self._lines:
            yield json.loads(line)


def read_events(path: Path) -> list[dict[str, Any]]:
    """All events of a finished run (empty when the file is absent)."""
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line))
    return out


def of_type(events: Iterable[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    wanted = set(types)
    return [e for e in events if e.get("type") in wanted]
