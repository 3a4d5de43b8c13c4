"""GraphQL types of invoices: money as decimal strings rounded to the kopeck."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry

from embedcrm.graphql.catalog.types import VatRate
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import GlobalId, to_global_id
from embedcrm.graphql.nodes import loads, loads_visible
from embedcrm.invoices import models as invoice_models

ProviderName = strawberry.enum(invoice_models.ProviderName, name="PaymentProviderName")
PaymentSource = strawberry.enum(invoice_models.PaymentSource, name="PaymentSource")
InvoiceStatus = strawberry.enum(invoice_models.InvoiceStatus, name="InvoiceStatus")
VatMode = strawberry.enum(
    invoice_models.VatMode,
    name="VatMode",
    description="INCLUDED: the prices include VAT; ON_TOP: VAT is added to them.",
)


def _global(
    type_name: str, workspace_id: uuid.UUID, row_id: uuid.UUID | None
) -> strawberry.ID | None:
    return None if row_id is None else strawberry.ID(to_global_id(type_name, workspace_id, row_id))


@strawberry.type(description="A line of an invoice; net + vat = total on every line.")
class InvoiceLine:
    product_id: strawberry.ID | None
    name: str
    sku: str | None
    unit: str
    quantity: str
    unit_price: str
    unit_cost: str | None
    vat_rate: VatRate  # type: ignore[valid-type]
    net: str
    vat: str
    total: str

    @classmethod
    def of(cls, row: invoice_models.InvoiceLine) -> InvoiceLine:
        return cls(
            product_id=_global("Product", row.workspace_id, row.product_id),
            name=row.name,
            sku=row.sku,
            unit=row.unit,
            quantity=str(row.quantity.normalize()),
            unit_price=str(row.unit_price),
            unit_cost=None if row.unit_cost is None else str(row.unit_cost),
            vat_rate=row.vat_rate,
            net=str(row.net),
            vat=str(row.vat),
            total=str(row.total),
        )


@strawberry.type(description="Money received against one invoice.")
class Payment(Node):
    invoice_id: strawberry.ID
    amount: str
    currency: str
    source: PaymentSource  # type: ignore[valid-type]
    provider: str | None
    provider_payment_id: str | None
    note: str | None
    paid_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, row: invoice_models.Payment) -> Payment:
        return cls(
            id=node_id("Payment", row),
            invoice_id=strawberry.ID(to_global_id("Invoice", row.workspace_id, row.invoice_id)),
            amount=str(row.amount),
            currency=row.currency,
            source=row.source,
            provider=row.provider,
            provider_payment_id=row.provider_payment_id,
            note=row.note,
            paid_at=row.paid_at,
            created_at=row.created_at,
        )


@strawberry.type(description="An invoice; a draft has no number until it is issued.")
class Invoice(Node):
    number: int | None
    status: InvoiceStatus  # type: ignore[valid-type]
    buyer_name: str
    buyer_details: str | None
    currency: str
    vat_mode: VatMode  # type: ignore[valid-type]
    language: str
    note: str | None
    due_on: date | None
    subtotal: str = strawberry.field(description="The lines without VAT.")
    vat_total: str
    total: str
    paid: str = strawberry.field(description="What the payments applied to it add up to.")
    outstanding: str = strawberry.field(description="What is left to pay (0 once cancelled).")
    paid_at: datetime | None
    issued_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    lead_id: strawberry.ID | None
    contact_id: strawberry.ID | None
    lines: list[InvoiceLine]
    payments: list[Payment]
    _row: strawberry.Private[invoice_models.Invoice]

    @strawberry.field(
        description="The signed link to the printable page for the client (add ?lang=en or "
        "?lang=ru for the other language)."
    )
    def print_url(self, info: Info) -> str:
        return info.context.services.invoices.print_url(self._row)

    @classmethod
    def of(
        cls,
        row: invoice_models.Invoice,
        lines: list[invoice_models.InvoiceLine],
        payments: list[invoice_models.Payment],
    ) -> Invoice:
        open_ = row.status in (
            invoice_models.InvoiceStatus.ISSUED,
            invoice_models.InvoiceStatus.PARTLY_PAID,
            invoice_models.InvoiceStatus.DRAFT,
        )
        return cls(
            id=node_id("Invoice", row),
            number=row.number,
            status=row.status,
            buyer_name=row.buyer_name,
            buyer_details=row.buyer_details,
            currency=row.currency,
            vat_mode=row.vat_mode,
            language=row.language,
            note=row.note,
            due_on=row.due_on,
            subtotal=str(row.subtotal),
            vat_total=str(row.vat_total),
            total=str(row.total),
            paid=str(row.paid_total),
            outstanding=str(row.total - row.paid_total if open_ else Decimal("0.00")),
            paid_at=row.paid_at,
            issued_at=row.issued_at,
            cancelled_at=row.cancelled_at,
            created_at=row.created_at,
            lead_id=_global("Lead", row.workspace_id, row.lead_id),
            contact_id=_global("Contact", row.workspace_id, row.contact_id),
            lines=[InvoiceLine.of(line) for line in lines],
            payments=[Payment.of(p) for p in payments],
            _row=row,
        )


@strawberry.type(description="The shop's legal details, printed on its invoices.")
class Requisites:
    legal_name: str
    inn: str
    kpp: str | None
    ogrn: str | None
    address: str | None
    bank_name: str | None
    bik: str | None
    bank_account: str | None
    correspondent_account: str | None

    @classmethod
    def of(cls, row: invoice_models.Requisites) -> Requisites:
        return cls(
            legal_name=row.legal_name,
            inn=row.inn,
            kpp=row.kpp,
            ogrn=row.ogrn,
            address=row.address,
            bank_name=row.bank_name,
            bik=row.bik,
            bank_account=row.bank_account,
            correspondent_account=row.correspondent_account,
        )


@strawberry.type(description="What one client owes in one currency.")
class Debt:
    contact_id: strawberry.ID | None = strawberry.field(
        description="Null for invoices made out to a name alone."
    )
    buyer_name: str
    currency: str
    invoices: int
    outstanding: str
    overdue: str = strawberry.field(description="The part of it past its due date.")
    oldest_due_on: date | None = strawberry.field(description="The oldest overdue due date.")
    days_late: int = strawberry.field(description="Days since the oldest overdue due date.")


@strawberry.type(description="Who owes what on the issued invoices, the most overdue first.")
class Receivables:
    today: date
    rows: list[Debt]


@strawberry.type(description="A client's invoices in one currency.")
class ClientBalance:
    currency: str
    invoiced: str
    paid: str
    outstanding: str
    overdue: str


@strawberry.type
class MoneyAmount:
    currency: str | None = strawberry.field(description="Null for won leads without a currency.")
    amount: str


@strawberry.type(
    description="One period's revenue two ways: payments received in it, and the values of "
    "the leads won in it."
)
class Revenue:
    starts: datetime
    ends: datetime
    by_paid_date: list[MoneyAmount]
    by_won_date: list[MoneyAmount]


NOTIFICATION_PATHS = {
    invoice_models.ProviderName.ROBOKASSA: "robokassa/result",
    invoice_models.ProviderName.YOOKASSA: "yookassa/notifications",
}


@strawberry.type(description="A payment provider account; its secret is never shown.")
class PaymentProviderAccount:
    provider: ProviderName  # type: ignore[valid-type]
    account: str
    updated_at: datetime
    notification_url: str = strawberry.field(
        description="Where the provider sends its notifications (Robokassa's ResultURL, "
        "YooKassa's HTTP notifications URL)."
    )

    @classmethod
    def of(cls, row: invoice_models.PaymentProvider, public_url: str) -> PaymentProviderAccount:
        path = NOTIFICATION_PATHS[row.provider]
        return cls(
            provider=row.provider,
            account=row.account,
            updated_at=row.updated_at,
            notification_url=f"{public_url}/v1/workspaces/{row.workspace_id}/payments/{path}",
        )


@loads("Invoice")
async def _invoice(info: Info, gid: GlobalId) -> Invoice | None:
    invoices = info.context.services.invoices
    found = await invoices.get_many(info.context.principal, gid.workspace_id, [gid.row_id])
    invoice = found.get(gid.row_id)
    if invoice is None:
        return None
    lines = await invoices.lines_of(gid.workspace_id, [invoice.id])
    payments = await invoices.payments_of(gid.workspace_id, [invoice.id])
    return Invoice.of(invoice, lines[invoice.id], payments[invoice.id])


loads_visible("Payment", Payment.of, lambda s: s.invoices.visible_payment)
