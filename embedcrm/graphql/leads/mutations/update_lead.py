"""The update_lead mutation: title, value and currency, order details, custom fields."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.leads.inputs import LeadPayload, UpdateLeadInput
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.support import (
    UNSET,
    given,
    parse_decimal,
    parse_id,
    user_errors_in,
)


@user_errors_in(LeadPayload)
async def resolve(info: Info, input: UpdateLeadInput) -> LeadPayload:
    ctx = info.context
    gid = parse_id(input.id, "Lead")
    changes = given(
        title=input.title,
        value=input.value if input.value in (UNSET, None) else parse_decimal(input.value, "value"),
        currency=input.currency,
        payment_method=input.payment_method,
        ordered_at=input.ordered_at,
        delivery_method=input.delivery_method,
        delivery_address=input.delivery_address,
        delivery_from=input.delivery_from,
        delivery_to=input.delivery_to,
        custom_fields=input.custom_fields,
    )
    return LeadPayload(
        lead=Lead.of(
            await ctx.services.leads.update_lead(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )
        )
    )
