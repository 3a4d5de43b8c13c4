"""Analytics tables: ad spend as entered and per day, and the daily rollup of widget form events.

Every table keys on the workspace (ARCHITECTURE.md, rule 2).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKeyConstraint, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class AdSpend(Base):
    """Money spent on one campaign of one source over a run of days, as the owner entered it."""

    __tablename__ = "ad_spend"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "starts_on", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(200))
    # Empty string, not NULL, for "the whole source": it takes part in grouping and matching.
    campaign: Mapped[str] = mapped_column(String(200), default="")
    # Both days included, in the workspace's time zone.
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdSpendDay(Base):
    """An entry's amount spread over its days, so any report period sums whole days exactly.

    Spreading at write time keeps the read a plain indexed SUM on both databases, instead of
    pro-rating overlapping date ranges with each dialect's date arithmetic.
    """

    __tablename__ = "ad_spend_days"
    __table_args__ = (
        workspace_fk(["spend_id"], "ad_spend", ondelete="CASCADE"),
        Index(None, "workspace_id", "day", "source", "campaign"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    spend_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    campaign: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class FormEventDay(Base):
    """Widget views and starts of one form on one day: counters only, nothing about the visitor."""

    __tablename__ = "form_event_days"
    __table_args__ = (workspace_fk(["site_id"], "sites", ondelete="CASCADE"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The day in the workspace's time zone, the same days the reports are cut by.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    starts: Mapped[int] = mapped_column(Integer, default=0)
