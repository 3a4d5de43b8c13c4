"""Invoices: numbered per workspace without gaps, their lines with VAT, and the shop's
requisites printed on them."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Enum, ForeignKeyConstraint, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.catalog.models import VatRate
from embedcrm.db import Base, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class InvoiceStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ISSUED = "ISSUED"
    PARTLY_PAID = "PARTLY_PAID"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


class VatMode(enum.StrEnum):
    """Whether the prices of the lines already include VAT or have it added on top."""

    INCLUDED = "INCLUDED"
    ON_TOP = "ON_TOP"


class InvoiceCounter(Base):
    """The last invoice number given in a workspace. Issuing increments it in the issuing
    transaction, whose row lock (PostgreSQL) or write lock (SQLite) makes concurrent issuers
    wait in turn; a rolled-back issue rolls the number back with it, so no gap appears."""

    __tablename__ = "invoice_counters"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Requisites(Base):
    """The shop's legal details as they are printed on its invoices."""

    __tablename__ = "requisites"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str] = mapped_column(String(12))
    kpp: Mapped[str | None] = mapped_column(String(9))
    ogrn: Mapped[str | None] = mapped_column(String(15))
    address: Mapped[str | None] = mapped_column(Text)
    bank_name: Mapped[str | None] = mapped_column(String(300))
    bik: Mapped[str | None] = mapped_column(String(9))
    bank_account: Mapped[str | None] = mapped_column(String(20))
    correspondent_account: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Invoice(Base):
    """An invoice to a client. A draft has no number; issuing gives it the next one."""

    __tablename__ = "invoices"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        workspace_fk(["lead_id"], "leads"),
        workspace_fk(["contact_id"], "contacts"),
        # A number is given once per workspace; drafts (no number yet) are not constrained.
        Index(None, "workspace_id", "number", unique=True),
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "status", "created_at", "id"),
        Index(None, "workspace_id", "lead_id"),
        Index(None, "workspace_id", "contact_id", "created_at", "id"),
        # What a 1C exchange has not taken yet.
        Index(None, "workspace_id", "exchanged_at"),
        # The worker's scan for invoices that just became overdue, across workspaces.
        Index(None, "overdue_notified_at", "status", "due_on"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[InvoiceStatus] = mapped_column(
        Enum(InvoiceStatus, native_enum=False, length=12), default=InvoiceStatus.DRAFT
    )
    lead_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    # Who pays, as printed: a person's name or a company with its details.
    buyer_name: Mapped[str] = mapped_column(String(300))
    buyer_details: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    vat_mode: Mapped[VatMode] = mapped_column(Enum(VatMode, native_enum=False, length=8))
    # The language the printed page opens in; the link may ask for the other one.
    language: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    # Sums of the lines, each line rounded to the kopeck first: total = subtotal + vat_total.
    subtotal: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    vat_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # What the payments applied to it add up to; the status follows it.
    paid_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    # When the last payment made it paid in full.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When 1C last took the invoice as an order (CommerceML exchange); a later change is sent
    # again.
    exchanged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once `invoice.overdue` is emitted, so it is emitted once.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InvoiceLine(Base):
    """A line of an invoice, with its amounts as computed and printed."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        workspace_fk(["invoice_id"], "invoices", ondelete="CASCADE"),
        workspace_fk(["product_id"], "products"),
        Index(None, "workspace_id", "invoice_id", "position"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    invoice_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(300))
    sku: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # What one unit cost the shop when the line was written, where known (for margins).
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    vat_rate: Mapped[VatRate] = mapped_column(Enum(VatRate, native_enum=False, length=8))
    # Without VAT, the VAT, and with VAT; net + vat = total on every line.
    net: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    vat: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentSource(enum.StrEnum):
    MANUAL = "MANUAL"  # recorded by a person
    PROVIDER = "PROVIDER"  # confirmed by a payment provider's notification


class Payment(Base):
    """Money received against one invoice, in full or in part."""

    __tablename__ = "payments"
    __table_args__ = (
        workspace_fk(["invoice_id"], "invoices", ondelete="CASCADE"),
        workspace_fk(["recorded_by_id"], "members"),
        # A provider's notification may come many times; its payment is applied once.
        Index(None, "workspace_id", "provider", "provider_payment_id", unique=True),
        Index(None, "workspace_id", "invoice_id", "paid_at"),
        # Revenue by paid date.
        Index(None, "workspace_id", "paid_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    invoice_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[PaymentSource] = mapped_column(Enum(PaymentSource, native_enum=False, length=8))
    # The provider's name and its id of the payment; none for a payment recorded by hand.
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_payment_id: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None]
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProviderName(enum.StrEnum):
    ROBOKASSA = "ROBOKASSA"
    YOOKASSA = "YOOKASSA"


class PaymentProvider(Base):
    """A workspace's account with a payment provider: what verifies its notifications.

    ``secret`` is Robokassa's second password or YooKassa's secret key, sealed with a key from
    EMBEDCRM_SECRET_KEYS (``embedcrm.kit.sealed``): each check needs it in the clear (an MD5
    over it; HTTP basic auth), so it cannot be hashed, but the database alone does not give it
    away. It is never answered back through the API.
    """

    __tablename__ = "payment_providers"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    provider: Mapped[ProviderName] = mapped_column(
        Enum(ProviderName, native_enum=False, length=10), primary_key=True
    )
    # Robokassa's merchant login or YooKassa's shop id.
    account: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
