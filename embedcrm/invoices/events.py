"""Events about invoices, written to the outbox in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import InvoicePayload, PaymentPayload
from embedcrm.invoices.models import Invoice, Payment
from embedcrm.kit.events import scope_data
from embedcrm.webhooks.outbox import OutboxRepository


def invoice_payload(invoice: Invoice) -> InvoicePayload:
    return {
        "id": str(invoice.id),
        "number": invoice.number,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "total": str(invoice.total),
        "paid": str(invoice.paid_total),
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        "lead_id": str(invoice.lead_id) if invoice.lead_id else None,
        "contact_id": str(invoice.contact_id) if invoice.contact_id else None,
    }


def emit_invoice_event(
    session: AsyncSession,
    invoice: Invoice,
    event_type: str,
    *,
    now: datetime,
    site_id: uuid.UUID | None = None,
) -> None:
    OutboxRepository(session, invoice.workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={**scope_data(invoice.workspace_id, site_id), "invoice": invoice_payload(invoice)},
        )
    )


def payment_payload(payment: Payment) -> PaymentPayload:
    return {
        "id": str(payment.id),
        "invoice_id": str(payment.invoice_id),
        "amount": str(payment.amount),
        "currency": payment.currency,
        "source": payment.source.value,
        "provider": payment.provider,
        "provider_payment_id": payment.provider_payment_id,
        "paid_at": payment.paid_at,
    }


def emit_payment_received(session: AsyncSession, invoice: Invoice, payment: Payment) -> None:
    OutboxRepository(session, invoice.workspace_id).record(
        Event(
            type="payment.received",
            occurred_at=payment.created_at,
            data={
                **scope_data(invoice.workspace_id, None),
                "invoice": invoice_payload(invoice),
                "payment": payment_payload(payment),
            },
        )
    )
