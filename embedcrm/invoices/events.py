"""Events about invoices, written to the outbox in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import InvoicePayload, PaymentPayload
from embedcrm.ids import optional_global_id, to_global_id
from embedcrm.invoices.models import Invoice, Payment
from embedcrm.webhooks.outbox import OutboxRepository


def invoice_payload(invoice: Invoice) -> InvoicePayload:
    ws = invoice.workspace_id
    return {
        "id": to_global_id("Invoice", ws, invoice.id),
        "number": invoice.number,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "total": str(invoice.total),
        "paid": str(invoice.paid_total),
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        "lead_id": optional_global_id("Lead", ws, invoice.lead_id),
        "contact_id": optional_global_id("Contact", ws, invoice.contact_id),
    }


async def emit_invoice_event(
    session: AsyncSession,
    invoice: Invoice,
    event_type: str,
    *,
    now: datetime,
    site_id: uuid.UUID | None = None,
) -> None:
    outbox = OutboxRepository(session, invoice.workspace_id)
    outbox.record(
        Event(
            type=event_type,
            occurred_at=now,
            data={**await outbox.scope(site_id), "invoice": invoice_payload(invoice)},
        )
    )


def payment_payload(payment: Payment) -> PaymentPayload:
    ws = payment.workspace_id
    return {
        "id": to_global_id("Payment", ws, payment.id),
        "invoice_id": to_global_id("Invoice", ws, payment.invoice_id),
        "amount": str(payment.amount),
        "currency": payment.currency,
        "source": payment.source.value,
        "provider": payment.provider,
        "provider_payment_id": payment.provider_payment_id,
        "paid_at": payment.paid_at,
    }


async def emit_payment_received(session: AsyncSession, invoice: Invoice, payment: Payment) -> None:
    outbox = OutboxRepository(session, invoice.workspace_id)
    outbox.record(
        Event(
            type="payment.received",
            occurred_at=payment.created_at,
            data={
                **await outbox.scope(None),
                "invoice": invoice_payload(invoice),
                "payment": payment_payload(payment),
            },
        )
    )
