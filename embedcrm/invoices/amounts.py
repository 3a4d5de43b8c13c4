"""An invoice's arithmetic: each line rounded to the kopeck, then the lines summed, so the
printed lines always add up to the printed totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from embedcrm.catalog.models import VatRate
from embedcrm.invoices.models import VatMode
from embedcrm.kit.money import to_cents

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    vat: Decimal
    total: Decimal


def line_amounts(
    quantity: Decimal, unit_price: Decimal, rate: VatRate, mode: VatMode
) -> LineAmounts:
    """Price × quantity rounded half up to the kopeck is the line's amount as printed; the
    VAT is taken out of it (included: amount × r / (100 + r)) or added to it (on top:
    amount × r / 100), rounded once more, so that net + vat = total on every line."""
    amount = to_cents(quantity * unit_price)
    percent = rate.percent
    if not percent:
        return LineAmounts(net=amount, vat=ZERO, total=amount)
    if mode is VatMode.INCLUDED:
        vat = to_cents(amount * percent / (100 + percent))
        return LineAmounts(net=amount - vat, vat=vat, total=amount)
    vat = to_cents(amount * percent / 100)
    return LineAmounts(net=amount, vat=vat, total=amount + vat)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    vat_total: Decimal
    total: Decimal
    # The VAT of each rate that has any, for the «в том числе НДС 20 %» lines of the page.
    vat_by_rate: dict[VatRate, Decimal]


def totals(lines: Iterable[tuple[VatRate, LineAmounts]]) -> Totals:
    subtotal = vat_total = total = ZERO
    by_rate: dict[VatRate, Decimal] = {}
    for rate, amounts in lines:
        subtotal += amounts.net
        vat_total += amounts.vat
        total += amounts.total
        if rate.percent is not None:
            by_rate[rate] = by_rate.get(rate, ZERO) + amounts.vat
    return Totals(subtotal=subtotal, vat_total=vat_total, total=total, vat_by_rate=by_rate)
