"""The record_payment mutation: a payment received, in full or in part, recorded by hand."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.invoices.inputs import RecordPaymentInput, RecordPaymentPayload
from embedcrm.graphql.invoices.types import Invoice, Payment
from embedcrm.graphql.support import parse_id, user_errors_in
from embedcrm.kit.money import parse_amount


@user_errors_in(RecordPaymentPayload)
async def resolve(info: Info, input: RecordPaymentInput) -> RecordPaymentPayload:
    ctx = info.context
    gid = parse_id(input.invoice_id, "Invoice", "invoiceId")
    service = ctx.services.invoices
    payment, invoice = await service.record_payment(
        ctx.principal,
        gid.workspace_id,
        gid.row_id,
        amount=parse_amount(input.amount, "amount"),
        paid_at=input.paid_at,
        note=input.note,
    )
    lines = await service.lines_of(gid.workspace_id, [invoice.id])
    payments = await service.payments_of(gid.workspace_id, [invoice.id])
    return RecordPaymentPayload(
        payment=Payment.of(payment),
        invoice=Invoice.of(invoice, lines[invoice.id], payments[invoice.id]),
    )
