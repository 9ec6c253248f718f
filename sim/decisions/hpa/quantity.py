"""Kubernetes resource.Quantity as the HPA needs it: parsing and milli-values come from
`model.quantity` (the one parser in the project); this module adds only the canonical formatting of
a milli-value that the HPA status and the conformance vectors use."""

from __future__ import annotations

from model.quantity import QuantityError, milli_value, parse_quantity

__all__ = ["QuantityError", "milli_quantity", "milli_value", "parse_quantity"]


def milli_quantity(milli: int) -> str:
    """`resource.NewMilliQuantity(v, DecimalSI).String()` in canonical form: whole units when exact."""
    if milli % 1000 == 0:
        return str(milli // 1000)
    return f"{milli}m"
