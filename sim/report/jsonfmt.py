"""Deterministic JSON: sorted keys, no whitespace, floats rounded to a fixed precision.

Why: the digest is a SHA-256 over these bytes, so the same run must produce the same bytes on every
machine and under every PYTHONHASHSEED."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

FLOAT_DIGITS = 6


def normalise(value: Any) -> Any:
    """JSON-ready data with floats rounded to FLOAT_DIGITS places; sets become sorted lists;
    tuples become lists; enums become their values; NaN and infinities become strings."""
    # fast path on the exact built-in types (subclasses such as enums take the general path below)
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is dict:
        return {str(k): normalise(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [normalise(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return normalise(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        rounded = round(value, FLOAT_DIGITS)
        if rounded == 0.0:
            return 0.0
        return rounded
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((normalise(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if hasattr(value, "item"):  # numpy scalars
        return normalise(value.item())
    return str(value)


def dumps(value: Any) -> str:
    """One canonical line of JSON."""
    return json.dumps(normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps_pretty(value: Any) -> str:
    """Indented canonical JSON (summary.json: diffable and readable)."""
    return json.dumps(normalise(value), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
