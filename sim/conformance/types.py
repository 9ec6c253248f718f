"""Types shared by the conformance adapters and the runner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VectorResult:
    passed: bool
    detail: str = ""
    """On failure: what was expected and what the production code returned."""


Vector = Mapping[str, Any]
"""One vector as read from the JSON file: id, kind, function, source, inputs, expected, note?"""

Handler = Callable[[Vector], VectorResult]
