"""GraphQL inputs and payloads of invoices and requisites."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from embedcrm.catalog import models as catalog_models
from embedcrm.graphql.catalog.types import VatRate
from embedcrm.graphql.core import UserError
from embedcrm.graphql.invoices.types import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentProviderAccount,
    ProviderName,
    Requisites,
    VatMode,
)
from embedcrm.graphql.support import UNSET
from embedcrm.invoices import models as invoice_models


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A line typed by hand; money and quantity as decimal strings.")
class InvoiceLineInput:
    name: str
    unit_price: str
    quantity: str = "1"
    vat_rate: VatRate = catalog_models.VatRate.NONE  # type: ignore[valid-type]
    unit: str = "шт"
    sku: str | None = None
    product_id: strawberry.ID | None = strawberry.field(
        default=None, description="The line's product; its cost is taken unless unitCost is."
    )
    unit_cost: str | None = None


@strawberry.input(
    description="From a lead's cart (leadId, no lines) or by hand (lines). Lines from the cart "
    "take their product's VAT rate, or defaultVatRate when they name no product."
)
class CreateInvoiceInput:
    lead_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    lines: list[InvoiceLineInput] | None = None
    vat_mode: VatMode = invoice_models.VatMode.INCLUDED  # type: ignore[valid-type]
    default_vat_rate: VatRate = catalog_models.VatRate.NONE  # type: ignore[valid-type]
    buyer_name: str | None = None
    buyer_details: str | None = None
    currency: str | None = None
    due_on: date | None = None
    language: str | None = None
    note: str | None = None
    workspace_id: strawberry.ID | None = None


@strawberry.input(description="Change a draft; only the fields sent change.")
class UpdateInvoiceInput:
    id: strawberry.ID
    lines: list[InvoiceLineInput] | None = UNSET
    vat_mode: VatMode | None = UNSET  # type: ignore[valid-type]
    buyer_name: str | None = UNSET
    buyer_details: str | None = UNSET
    currency: str | None = UNSET
    due_on: date | None = UNSET
    language: str | None = UNSET
    note: str | None = UNSET


@strawberry.input
class InvoiceIdInput:
    id: strawberry.ID


@strawberry.input
class InvoiceFilter:
    status: InvoiceStatus | None = None  # type: ignore[valid-type]
    lead_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None


@strawberry.input(
    description="Digits may be typed with spaces; the INN's check digits are checked."
)
class SetRequisitesInput:
    legal_name: str
    inn: str
    kpp: str | None = None
    ogrn: str | None = None
    address: str | None = None
    bank_name: str | None = None
    bik: str | None = None
    bank_account: str | None = None
    correspondent_account: str | None = None
    workspace_id: strawberry.ID | None = None


@strawberry.type
class RequisitesPayload:
    requisites: Requisites | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A payment received, recorded by hand.")
class RecordPaymentInput:
    invoice_id: strawberry.ID
    amount: str
    paid_at: datetime | None = strawberry.field(default=None, description="Now if omitted.")
    note: str | None = None


@strawberry.type
class RecordPaymentPayload:
    payment: Payment | None = None
    invoice: Invoice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(
    description="Robokassa: account = merchant login, secret = password #2. "
    "YooKassa: account = shop id, secret = secret key."
)
class SetPaymentProviderInput:
    provider: ProviderName  # type: ignore[valid-type]
    account: str
    secret: str
    workspace_id: strawberry.ID | None = None


@strawberry.type
class PaymentProviderPayload:
    provider: PaymentProviderAccount | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
