"""Feedback: a client's one-question answer (NPS or CSAT) with an optional comment, kept on the
contact and the lead it was asked about."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class FeedbackKind(enum.StrEnum):
    # "How likely are you to recommend us?" 0 to 10.
    NPS = "NPS"
    # "How satisfied are you?" 1 to 5.
    CSAT = "CSAT"


SCALES = {FeedbackKind.NPS: range(0, 11), FeedbackKind.CSAT: range(1, 6)}


class FeedbackAnswer(Base):
    __tablename__ = "feedback_answers"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        # Erasing a person erases what they answered.
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        # One answer per question asked: answering again changes it.
        UniqueConstraint("workspace_id", "request_key"),
        # The report over a period, and a contact's answers.
        Index(None, "workspace_id", "kind", "created_at"),
        Index(None, "workspace_id", "contact_id", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[FeedbackKind] = mapped_column(Enum(FeedbackKind, native_enum=False, length=8))
    contact_id: Mapped[uuid.UUID]
    lead_id: Mapped[uuid.UUID | None]
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # Who worked the lead and where it came from, when it was answered: the report's groups.
    manager_id: Mapped[uuid.UUID | None]
    source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
