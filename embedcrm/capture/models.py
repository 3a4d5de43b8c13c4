"""The raw submission, stored before anything else so that nothing a visitor sent is lost."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class SubmissionStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
    QUARANTINED = "QUARANTINED"
    # A form defined for the site turned it away by its own rules; kept for the owner to see.
    REFUSED = "REFUSED"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        workspace_fk(["site_id"], "sites", ondelete="CASCADE"),
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        # The idempotency key: one submission id per site.
        UniqueConstraint("workspace_id", "site_id", "client_submission_id"),
        Index(None, "workspace_id", "status", "created_at", "id"),
        # The worker's scan for submissions whose processing failed, across workspaces.
        Index(None, "status", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID]
    client_submission_id: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the canonical body: a repeat with another body is a conflict, not a duplicate.
    body_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=16), default=SubmissionStatus.RECEIVED
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lead_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    origin: Mapped[str | None] = mapped_column(String(300))
    remote_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
