"""Kubernetes resource.Quantity parsing, reduced to what the HPA needs: a milli-value.

Why: HPA targets and metric values travel as quantity strings ("500m", "1.5", "2Ki"); the Go
controller works on `Quantity.MilliValue()` (rounded up to the next integer milli-unit)."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


class QuantityError(ValueError):
    """A string that resource.ParseQuantity would reject."""


def parse_quantity(text: str | int | float) -> Decimal:
    """The exact value of a quantity. Accepts numbers (YAML may give ints/floats) and strings."""
    # upstream: k8s.io/apimachinery/pkg/api/resource/quantity.go ParseQuantity
    if isinstance(text, bool):
        raise QuantityError(f"quantities must be numbers or strings, got {text!r}")
    if isinstance(text, int | float):
        return Decimal(str(text))
    s = text.strip()
    if not s:
        raise QuantityError(
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    for suffix, factor in _BINARY.items():
        if s.endswith(suffix):
            return _number(s[: -len(suffix)], text) * factor
    for suffix in ("n", "u", "m", "k", "M", "G", "T", "P", "E"):
        if s.endswith(suffix):
            return _number(s[:-1], text) * _DECIMAL[suffix]
    return _number(s, text)


def _number(body: str, original: str | int | float) -> Decimal:
    if not body or body.lower().startswith(("inf", "nan")) or body.strip("+-") != body.lstrip("+-"):
        raise QuantityError(f"unable to parse quantity's suffix or number: {original!r}")
    try:
        value = Decimal(body)
    except InvalidOperation as exc:
        raise QuantityError(f"unable to parse quantity {original!r}") from exc
    if not value.is_finite():
        raise QuantityError(f"unable to parse quantity {original!r}")
    return value


def milli_value(text: str | int | float) -> int:
    """`Quantity.MilliValue()`: the value in milli-units, rounded up (away from zero for positives)."""
    return math.ceil(parse_quantity(text) * 1000)


def milli_quantity(milli: int) -> str:
    """`resource.NewMilliQuantity(v, DecimalSI).String()` in canonical form: whole units when exact."""
    if milli % 1000 == 0:
        return str(milli // 1000)
    return f"{milli}m"
