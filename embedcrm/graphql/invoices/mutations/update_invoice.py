"""The update_invoice mutation: change a draft."""

from __future__ import annotations

from typing import Any

from embedcrm.graphql.context import Info
from embedcrm.graphql.invoices.inputs import InvoicePayload, UpdateInvoiceInput
from embedcrm.graphql.invoices.mutations.lines import line_specs
from embedcrm.graphql.invoices.types import Invoice
from embedcrm.graphql.support import UNSET, given, parse_id, user_errors_in


@user_errors_in(InvoicePayload)
async def resolve(info: Info, input: UpdateInvoiceInput) -> InvoicePayload:
    ctx = info.context
    gid = parse_id(input.id, "Invoice")
    changes: dict[str, Any] = given(
        vat_mode=input.vat_mode,
        buyer_name=input.buyer_name,
        buyer_details=input.buyer_details,
        currency=input.currency,
        due_on=input.due_on,
        language=input.language,
        note=input.note,
    )
    if input.lines is not UNSET:
        changes["lines"] = line_specs(input.lines or [], gid.workspace_id)
    view = await ctx.services.invoices.update_draft(
        ctx.principal, gid.workspace_id, gid.row_id, changes
    )
    return InvoicePayload(invoice=Invoice.of(view.invoice, view.lines, view.payments))
