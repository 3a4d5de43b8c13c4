"""The set_lead_items mutation: replace the lead's cart."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import LeadPayload, SetLeadItemsInput
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import (
    parse_decimal,
    parse_id,
    scoped_id,
    user_errors_in,
)
from embedcrm.leads.service import ItemSpec


@user_errors_in(LeadPayload)
async def resolve(info: Info, input: SetLeadItemsInput) -> LeadPayload:
    ctx = info.context
    gid = parse_id(input.lead_id, "Lead", "leadId")
    items = [
        ItemSpec(
            product=i.product,
            sku=i.sku,
            product_id=scoped_id(
                i.product_id, "Product", f"items[{n}].productId", gid.workspace_id
            ),
            quantity=parse_decimal(i.quantity, f"items[{n}].quantity"),
            unit_price=None
            if i.unit_price is None
            else parse_decimal(i.unit_price, f"items[{n}].unitPrice"),
            unit_cost=None
            if i.unit_cost is None
            else parse_decimal(i.unit_cost, f"items[{n}].unitCost"),
        )
        for n, i in enumerate(input.items)
    ]
    return LeadPayload(
        lead=Lead.of(
            await ctx.services.leads.set_items(ctx.principal, gid.workspace_id, gid.row_id, items)
        )
    )
