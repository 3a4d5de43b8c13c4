"""The set_lead_items mutation: replace the lead's cart."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import LeadPayload, SetLeadItemsInput
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import as_payload, errors_payload, parse_decimal, parse_id
from embedcrm.leads import models as lead_models
from embedcrm.leads.service import ItemSpec


async def resolve(info: Info, input: SetLeadItemsInput) -> LeadPayload:
    ctx = info.context

    async def call() -> lead_models.Lead:
        gid = parse_id(input.lead_id, "Lead", "leadId")
        items = [
            ItemSpec(
                product=i.product,
                sku=i.sku,
                quantity=parse_decimal(i.quantity, f"items[{n}].quantity"),
                unit_price=parse_decimal(i.unit_price, f"items[{n}].unitPrice"),
                unit_cost=None
                if i.unit_cost is None
                else parse_decimal(i.unit_cost, f"items[{n}].unitCost"),
            )
            for n, i in enumerate(input.items)
        ]
        return await ctx.services.leads.set_items(
            ctx.principal, gid.workspace_id, gid.row_id, items
        )

    return await as_payload(
        call, lambda lead: LeadPayload(lead=Lead.of(lead)), errors_payload(LeadPayload)
    )
