"""Go's string parsers, re-expressed: what the controller accepts is what we accept.

The BudAIScaler controller reads annotation values and `targetValue` with strconv.ParseFloat,
strconv.ParseInt and time.ParseDuration and silently ignores values they reject; admission and the
lints use these functions to say so up front."""

from __future__ import annotations

import re

_PLAIN_DEC_FLOAT = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_HEX_FLOAT = re.compile(r"^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$")
_SPECIAL = {
    "inf": float("inf"),
    "+inf": float("inf"),
    "-inf": float("-inf"),
    "infinity": float("inf"),
    "+infinity": float("inf"),
    "-infinity": float("-inf"),
    "nan": float("nan"),
}


def parse_float(text: str) -> float:
    """strconv.ParseFloat(text, 64); raises ValueError with Go's message."""
    # upstream: Go strconv/atof.go ParseFloat (decimal, hex, inf/nan; no surrounding spaces)
    low = text.lower()
    if low in _SPECIAL:
        return _SPECIAL[low]
    if _PLAIN_DEC_FLOAT.match(text):
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f'strconv.ParseFloat: parsing "{text}": value out of range')
        return value
    if _HEX_FLOAT.match(text):
        return float.fromhex(text)
    raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')


def parse_int(text: str, bits: int = 64) -> int:
    """strconv.ParseInt(text, 10, bits)."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def parse_bool(text: str) -> bool:
    """strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DUR_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")


def parse_duration(text: str) -> float:
    """time.ParseDuration in seconds ("90s", "1h30m", "1.5h", "300ms"); raises ValueError with Go's message."""
    # upstream: Go time/format.go ParseDuration
    orig = text
    if text in ("0", "+0", "-0"):
        return 0.0
    if not text:
        raise ValueError(f'time: invalid duration "{orig}"')
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if not text:
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0.0
    pos = 0
    while pos < len(text):
        m = _DUR_PART.match(text, pos)
        assert m is not None
        number, unit = m.group(1), m.group(2)
        if number in ("", "."):
            raise ValueError(f'time: invalid duration "{orig}"')
        if unit == "":
            raise ValueError(f'time: missing unit in duration "{orig}"')
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        total += float(number) * _UNITS[unit]
        pos = m.end()
    if total > 9223372036.854775807:
        raise ValueError(f'time: invalid duration "{orig}"')
    return sign * total
