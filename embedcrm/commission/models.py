"""Commission: what each manager earns on the money their leads bring, by period."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Enum, Index, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class CommissionBasis(enum.StrEnum):
    PAID_REVENUE = "PAID_REVENUE"  # a share of what was paid
    MARGIN = "MARGIN"  # a share of the paid margin, over the lines whose cost is known


class CommissionRule(Base):
    """A manager's rate over a period of payment dates, both days included; no end: open."""

    __tablename__ = "commission_rules"
    __table_args__ = (
        workspace_fk(["member_id"], "members", ondelete="CASCADE"),
        Index(None, "workspace_id", "member_id", "starts_on"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID]
    basis: Mapped[CommissionBasis] = mapped_column(
        Enum(CommissionBasis, native_enum=False, length=12)
    )
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
