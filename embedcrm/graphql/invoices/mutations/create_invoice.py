"""The create_invoice mutation: a draft from a lead's cart or typed by hand."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.invoices.inputs import CreateInvoiceInput, InvoicePayload
from embedcrm.graphql.invoices.mutations.lines import line_specs
from embedcrm.graphql.invoices.types import Invoice
from embedcrm.graphql.support import parse_id, scoped_id, user_errors_in, workspace_arg
from embedcrm.invoices.service import InvoiceDraft


@user_errors_in(InvoicePayload)
async def resolve(info: Info, input: CreateInvoiceInput) -> InvoicePayload:
    ctx = info.context
    owner = None
    if input.lead_id is not None:
        owner = parse_id(input.lead_id, "Lead", "leadId").workspace_id
    elif input.contact_id is not None:
        owner = parse_id(input.contact_id, "Contact", "contactId").workspace_id
    workspace = owner or ctx.workspace_for(workspace_arg(input.workspace_id))
    draft = InvoiceDraft(
        lead_id=scoped_id(input.lead_id, "Lead", "leadId", workspace),
        contact_id=scoped_id(input.contact_id, "Contact", "contactId", workspace),
        lines=None if input.lines is None else line_specs(input.lines, workspace),
        vat_mode=input.vat_mode,
        default_vat_rate=input.default_vat_rate,
        buyer_name=input.buyer_name,
        buyer_details=input.buyer_details,
        currency=input.currency,
        due_on=input.due_on,
        language=input.language,
        note=input.note,
    )
    view = await ctx.services.invoices.create(ctx.principal, workspace, draft)
    return InvoicePayload(invoice=Invoice.of(view.invoice, view.lines, view.payments))
