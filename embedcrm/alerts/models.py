"""Alerts to the shop: what each member wants to be told and how, and the alerts waiting to go.

An alert is made once per event and member (a new lead, a lead left unanswered past the
first-response time, an overdue task) and waits until the member's next moment: at once, after
their quiet hours, or in their hourly or daily digest. Then it leaves as one message per channel
of theirs, several alerts together in one message.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow


class AlertKind(enum.StrEnum):
    NEW_LEAD = "NEW_LEAD"
    UNANSWERED_LEAD = "UNANSWERED_LEAD"
    OVERDUE_TASK = "OVERDUE_TASK"


class DigestMode(enum.StrEnum):
    # Each alert as soon as it happens (after the quiet hours).
    OFF = "OFF"
    HOURLY = "HOURLY"
    # Once a day, at the end of the quiet hours or at 09:00.
    DAILY = "DAILY"


class AlertSettings(Base):
    """One member's choices; a member without a row gets e-mail at once, any hour."""

    __tablename__ = "alert_settings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "member_id"],
            ["members.workspace_id", "members.id"],
            ondelete="CASCADE",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # MessageChannel names: EMAIL (to the member's e-mail), SMS, TELEGRAM.
    channels: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    phone: Mapped[str | None] = mapped_column(String(20))
    telegram_chat: Mapped[str | None] = mapped_column(String(64))
    # Minutes after midnight in the workspace's timezone; both set or both None. A start after
    # the end spans midnight (22:00-08:00).
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    digest: Mapped[DigestMode] = mapped_column(
        Enum(DigestMode, native_enum=False, length=16), default=DigestMode.OFF
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


PENDING_SQL = "sent_at IS NULL"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "member_id"],
            ["members.workspace_id", "members.id"],
            ondelete="CASCADE",
        ),
        # Once per event and member, however many workers read the event.
        UniqueConstraint("workspace_id", "member_id", "dedupe_key"),
        # The flush: pending alerts by when they may go.
        Index(
            "ix_alerts_pending",
            "due_at",
            postgresql_where=text(PENDING_SQL),
            sqlite_where=text(PENDING_SQL),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID]
    kind: Mapped[AlertKind] = mapped_column(Enum(AlertKind, native_enum=False, length=32))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    # What it is about (a lead's or a task's title), shown in the message.
    title: Mapped[str] = mapped_column(String(300))
    lead_id: Mapped[uuid.UUID | None]
    task_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
