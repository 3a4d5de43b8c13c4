"""Money as Decimal: amounts checked at the edge, aggregates rounded to the kopeck once."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from embedcrm.errors import ValidationFailed

CENT = Decimal("0.01")
# Numeric(14, 2) holds up to 10^12; larger amounts are refused before they reach the database.
MAX_AMOUNT = Decimal("1e12")


def to_cents(value: Any) -> Decimal:
    """An amount or an aggregate rounded half up to the kopeck. SQLite sums NUMERIC as floating
    point, so a sum read back is rounded here, once."""
    if value is None:
        return Decimal("0.00")
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def checked_amount(value: Decimal, field: str) -> Decimal:
    """A non-negative, finite amount below 10^12, in kopecks; anything else is refused."""
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
        raise ValidationFailed("A non-negative amount below 10^12 is required.", field=field)
    return to_cents(value)


def parse_amount(raw: str, field: str) -> Decimal:
    """Text as typed by a person or a spreadsheet: spaces and a decimal comma allowed."""
    text = raw.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except ArithmeticError as exc:
        raise ValidationFailed("Not a number.", field=field) from exc
    return checked_amount(value, field)
