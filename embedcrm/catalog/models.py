"""The catalogue: the products and services a workspace sells, each under its own SKU."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Numeric, String, true
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, new_id, utcnow


class ProductKind(enum.StrEnum):
    PRODUCT = "PRODUCT"
    SERVICE = "SERVICE"


class VatRate(enum.StrEnum):
    """The Russian VAT rates a line may carry; NONE is «без НДС» (simplified taxation)."""

    NONE = "NONE"
    VAT_0 = "VAT_0"
    VAT_10 = "VAT_10"
    VAT_20 = "VAT_20"

    @property
    def percent(self) -> Decimal | None:
        """The rate in percent, or None when no VAT applies at all."""
        return None if self is VatRate.NONE else Decimal(self.value.removeprefix("VAT_"))


class Product(Base):
    """A product or service of the catalogue. Never deleted, only made inactive, so the cart
    lines and invoices that name it keep pointing at it."""

    __tablename__ = "products"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        # The SKU is how a CSV or 1C import finds the product it updates.
        Index(None, "workspace_id", "sku", unique=True),
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "active", "created_at", "id"),
        # How a 1C catalogue exchange finds the product its offers (prices) refer to.
        Index(None, "workspace_id", "external_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[ProductKind] = mapped_column(
        Enum(ProductKind, native_enum=False, length=8), default=ProductKind.PRODUCT
    )
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # What one unit costs the shop; where known, commission and reports can count the margin.
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    vat_rate: Mapped[VatRate] = mapped_column(Enum(VatRate, native_enum=False, length=8))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The product's id in 1C (CommerceML «Ид»), once a 1C exchange brought it.
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
