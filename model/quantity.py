"""Kubernetes resource quantities ("500m", "1Gi", "2", "1e3") with resource.Quantity semantics.

Values are kept as written on the wire (so dumping round-trips) and parsed to exact `Decimal`s when
a number is needed."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, StrictFloat, StrictInt, StrictStr

QUANTITY_PATTERN = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)
_NUMBER_RE = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$")

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

QUANTITY_ALLOWED = 'a Kubernetes quantity such as "2", "500m", "1.5", "1Gi", "100M" or "1e3"'


class QuantityError(ValueError):
    pass


def is_quantity(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and _QUANTITY_RE.match(value) is not None


def parse_quantity(value: str | int | float) -> Decimal:
    """Exact value of a quantity (`"500m"` -> 0.5, `"1Gi"` -> 1073741824); raises QuantityError."""
    # upstream: k8s.io/apimachinery/pkg/api/resource/quantity.go ParseQuantity
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(f"{value!r} is not a quantity: {NOT_FINITE}")
        return Decimal(repr(value))
    text = value if isinstance(value, str) else ""
    if not text or _QUANTITY_RE.match(text) is None:
        raise QuantityError(f"{value!r} is not a quantity: expected {QUANTITY_ALLOWED}")
    m = _NUMBER_RE.match(text)
    assert m is not None
    number, suffix = m.group(1), m.group(2)
    try:
        base = Decimal(number)
        if suffix in _BINARY:
            return base * _BINARY[suffix]
        if suffix in _DECIMAL:
            return base * _DECIMAL[suffix]
        return base * (Decimal(10) ** int(suffix[1:]))
    except (InvalidOperation, ValueError) as exc:
        raise QuantityError(f"{value!r} is not a quantity: {exc}") from None


def quantity_as_float(value: str | int | float) -> float:
    """resource.Quantity.AsApproximateFloat64."""
    return float(parse_quantity(value))


def milli_value(value: str | int | float) -> int:
    """resource.Quantity.MilliValue (rounded up, as Kubernetes does)."""
    d = parse_quantity(value) * 1000
    return int(d.to_integral_value(rounding="ROUND_CEILING"))


NOT_FINITE = "quantities must be finite numbers (NaN and infinity are not quantities)"


def _check_str(value: object) -> object:
    # upstream: k8s.io/apimachinery/pkg/api/resource/quantity.go UnmarshalJSON parses the number's text
    # with ParseQuantity, which has no NaN or Inf: a real API server rejects them
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(NOT_FINITE)
    if isinstance(value, str) and _QUANTITY_RE.match(value) is None:
        raise ValueError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    return value


IntOrStringQuantity = Annotated[StrictInt | StrictStr, AfterValidator(_check_str)]
"""A Quantity in a CRD schema (anyOf integer/string, pattern): floats rejected like the API server does."""
Quantity = Annotated[StrictInt | StrictFloat | StrictStr, AfterValidator(_check_str)]
"""A Quantity in a built-in type (JSON numbers and strings accepted)."""
