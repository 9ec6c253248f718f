"""The audit log: one entry per write request, successful or not.

Later analyses answer "who wrote spec.replicas" and "are two controllers fighting over a field"
from `changed_fields`; `to_jsonl()` is a byte-stable serialisation for determinism checks."""

from __future__ import annotations

import json
from typing import NamedTuple


class AuditEntry(NamedTuple):
    """One audited write (immutable; a NamedTuple because ~10^5 are built per large run)."""

    t: float
    actor: str
    verb: str  # create | update | patch | delete | bind
    kind: str
    namespace: str
    name: str
    rv_before: str | None
    rv_after: str | None
    changed_fields: tuple[str, ...]
    subresource: str | None = None  # None | "status" | "scale" | "binding"
    result: str = "ok"  # "ok" or the StatusReason of the error returned


class AuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def writers_of(self, kind: str, field: str) -> list[AuditEntry]:
        """Successful writes that changed `field` (or a field below it) of objects of `kind`."""
        dotted = field + "."
        return [
            e
            for e in self.entries
            if e.kind == kind
            and e.result == "ok"
            and any(f == field or f.startswith(dotted) or field.startswith(f + ".") for f in e.changed_fields)
        ]

    def to_jsonl(self) -> str:
        lines = []
        for e in self.entries:
            d = e._asdict()
            d["t"] = round(float(e.t), 9)
            d["changed_fields"] = list(e.changed_fields)
            lines.append(json.dumps(d, sort_keys=True, separators=(",", ":")))
        return "\n".join(lines) + ("\n" if lines else "")

    def __len__(self) -> int:
        return len(self.entries)
