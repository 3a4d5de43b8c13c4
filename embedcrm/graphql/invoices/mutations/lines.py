"""Invoice lines typed by hand, parsed into the service's specs."""

from __future__ import annotations

import uuid

from embedcrm.graphql.invoices.inputs import InvoiceLineInput
from embedcrm.graphql.support import parse_decimal, scoped_id
from embedcrm.invoices.service import LineSpec


def line_specs(lines: list[InvoiceLineInput], workspace_id: uuid.UUID) -> list[LineSpec]:
    return [
        LineSpec(
            name=line.name,
            quantity=parse_decimal(line.quantity, f"lines[{n}].quantity"),
            unit_price=parse_decimal(line.unit_price, f"lines[{n}].unitPrice"),
            vat_rate=line.vat_rate,
            unit=line.unit,
            sku=line.sku,
            product_id=scoped_id(line.product_id, "Product", f"lines[{n}].productId", workspace_id),
            unit_cost=None
            if line.unit_cost is None
            else parse_decimal(line.unit_cost, f"lines[{n}].unitCost"),
        )
        for n, line in enumerate(lines)
    ]
