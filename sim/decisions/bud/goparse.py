"""Go's string parsers, re-expressed, because upstream silently ignores whatever they reject.

The scaling context (pkg/context/context.go) reads annotations and string fields with
`strconv.ParseFloat`, `strconv.ParseInt(v, 10, 32)` and `time.ParseDuration`; a value those reject
leaves the default in place without any message. Python's `float()` accepts more ("1_0", " 1 ",
"+nan", out-of-range "1e400") and rejects Go forms ("0x1p-2"), so a faithful port needs Go's grammar.
Each parser returns None where Go returns an error.
"""

from __future__ import annotations

import math
import re

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"([+-]?)0[xX]((?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*)|(?:\.[0-9a-fA-F_]+))[pP]([+-]?[0-9]+)")
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def _special(s: str) -> float | None:
    # upstream (Go stdlib): strconv/atof.go special — sign allowed for inf, not for nan.
    low = s.lower()
    sign = 1.0
    body = low
    if low[:1] in ("+", "-"):
        sign = -1.0 if low[0] == "-" else 1.0
        body = low[1:]
        if body in ("inf", "infinity"):
            return sign * math.inf
        return None
    if body in ("inf", "infinity"):
        return math.inf
    if body == "nan":
        return math.nan
    return None


def _hex_underscores_ok(digits: str) -> bool:
    # Go: underscores only between digits (or after the base prefix) when a base prefix is present.
    return "__" not in digits and not digits.endswith("_") and "_." not in digits and "._" not in digits


def parse_float(s: str) -> float | None:
    """strconv.ParseFloat(s, 64): None on syntax error or out-of-range (Go's ErrRange)."""
    if not s:
        return None
    special = _special(s)
    if special is not None:
        return special
    if _DECIMAL.fullmatch(s):
        value = float(s)
        return None if math.isinf(value) else value
    m = _HEX.fullmatch(s)
    if m and _hex_underscores_ok(m.group(2)):
        mantissa = m.group(2).replace("_", "")
        if mantissa in ("", "."):
            return None
        try:
            value = float.fromhex(f"{m.group(1)}0x{mantissa}p{m.group(3)}")
        except (OverflowError, ValueError):
            return None
        return None if math.isinf(value) else value
    return None


def parse_int32(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 32): optional sign, decimal digits only, int32 range."""
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        return None
    value = int(s)
    if value < _INT32_MIN or value > _INT32_MAX:
        return None
    return value


_UNIT_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]+)")
_MAX_DURATION_NS = 2**63 - 1


def parse_duration_seconds(s: str) -> float | None:
    """time.ParseDuration(s) in seconds: "[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+", or exactly "0"."""

    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        return None
    total_ns = 0
    pos = 0
    while pos < len(s):
        m = _COMPONENT.match(s, pos)
        if m is None:
            return None
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            return None  # Go: "time: invalid duration" when no digits before the unit
        scale = _UNIT_NS.get(unit)
        if scale is None:
            return None
        ns = int(whole or "0") * scale
        if frac:
            ns += int(int(frac) * scale / (10 ** len(frac)))
        total_ns += ns
        if total_ns > _MAX_DURATION_NS:
            return None
        pos = m.end()
    return (-total_ns if neg else total_ns) / 1e9


_QUANTITY = re.compile(
    r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)
_SUFFIX: dict[str, float] = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def quantity_as_float(value: object) -> float | None:
    """resource.Quantity.AsApproximateFloat64 for a wire value (string or number); None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    m = _QUANTITY.fullmatch(value)
    if m is None:
        return None
    number, suffix = m.group(1), m.group(2) or ""
    if suffix[:1] in ("e", "E"):
        return float(number) * 10.0 ** int(suffix[1:])
    return float(number) * _SUFFIX[suffix]
