"""Quantities with Kubernetes semantics, and Go's ParseFloat/ParseInt/ParseDuration as the controller applies them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from model.goparse import parse_bool, parse_duration, parse_float, parse_int
from model.quantity import QuantityError, is_quantity, milli_value, parse_quantity, quantity_as_float


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("1Gi", Decimal(2**30)),
        ("2", Decimal(2)),
        ("1e3", Decimal(1000)),
        ("1.5", Decimal("1.5")),
        ("100M", Decimal(100_000_000)),
        ("128974848", Decimal(128974848)),
        ("129e6", Decimal(129_000_000)),
        ("123Mi", Decimal(123 * 2**20)),
        (".5", Decimal("0.5")),
        ("-1", Decimal(-1)),
        (3, Decimal(3)),
    ],
)
def test_parse_quantity(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1 core", "1GB", "1.2.3", "Gi", "e3", "0.5 "])
def test_bad_quantities(text: str) -> None:
    assert not is_quantity(text)
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_quantity_helpers() -> None:
    assert milli_value("250m") == 250
    assert milli_value("0.0001") == 1  # rounds up like resource.Quantity.MilliValue
    assert quantity_as_float("1Ki") == 1024.0
    assert is_quantity(2) and not is_quantity(True)


def test_go_parse_duration() -> None:
    assert parse_duration("60s") == 60.0
    assert parse_duration("1h30m") == 5400.0
    assert parse_duration("1.5h") == 5400.0
    assert parse_duration("300ms") == pytest.approx(0.3)
    assert parse_duration("0") == 0.0
    assert parse_duration("-5m") == -300.0
    for bad, message in [
        ("60", 'time: missing unit in duration "60"'),
        ("12x", 'time: unknown unit "x" in duration "12x"'),
        ("", 'time: invalid duration ""'),
        ("s", 'time: invalid duration "s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
    ]:
        with pytest.raises(ValueError) as info:
            parse_duration(bad)
        assert str(info.value) == message


def test_go_parse_float_and_int() -> None:
    assert parse_float("70") == 70.0
    assert parse_float("1e3") == 1000.0
    assert parse_float("0x1p-2") == 0.25
    assert parse_float("+Inf") == float("inf")
    for bad in ["70%", " 7", "1_000", "", "1e999"]:
        with pytest.raises(ValueError):
            parse_float(bad)
    assert parse_int("80", 32) == 80
    with pytest.raises(ValueError, match="invalid syntax"):
        parse_int("80.5", 32)
    with pytest.raises(ValueError, match="out of range"):
        parse_int("2147483648", 32)
    assert parse_bool("T") is True and parse_bool("0") is False
    with pytest.raises(ValueError):
        parse_bool("yes")
