"""The cancel_invoice mutation: cancel a draft or an unpaid invoice; it keeps its number."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.invoices.inputs import InvoiceIdInput, InvoicePayload
from embedcrm.graphql.invoices.types import Invoice
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(InvoicePayload)
async def resolve(info: Info, input: InvoiceIdInput) -> InvoicePayload:
    ctx = info.context
    gid = parse_id(input.id, "Invoice")
    view = await ctx.services.invoices.cancel(ctx.principal, gid.workspace_id, gid.row_id)
    return InvoicePayload(invoice=Invoice.of(view.invoice, view.lines, view.payments))
