"""Messages: what the CRM sends to a client or to a member, one row per message, and the
contacts who asked to receive no more.

A message is an outbound job like a webhook delivery (``embedcrm/webhooks/claim.py``): the
e-mail ones are leased, sent, and retried by the same dispatcher seams. A message for the host's
own gateway (SMS, a messenger) is handed over as a ``message.requested`` event instead, and the
host reports what became of it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow
from embedcrm.kit.models import workspace_fk


class MessageChannel(enum.StrEnum):
    """How a message travels. E-mail goes over the built-in SMTP when EMBEDCRM_SMTP_URL is set;
    every other channel, and e-mail without it, goes to the host's own gateway as the
    ``message.requested`` event."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    TELEGRAM = "TELEGRAM"


class MessageStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    # Leased to a dispatcher that is sending it now.
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


# The statuses the host's callback may set, and those it may set them from: a later report
# never takes a message back (DELIVERED stays DELIVERED when a late SENT arrives).
REPORTABLE = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED)

# The predicates of the partial indexes, as SQL the migration repeats word for word.
DUE_SQL = "status = 'QUEUED' AND next_attempt_at IS NOT NULL"
SENDING_SQL = "status = 'SENDING'"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        # Erasing a person erases what was sent to them.
        workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        # At most one message per trigger and recipient.
        UniqueConstraint("workspace_id", "dedupe_key", name="uq_messages_dedupe_key"),
        # A contact's messages, newest first.
        Index(None, "workspace_id", "contact_id", "created_at", "id"),
        # The claim: due queued e-mails, oldest due first.
        Index(
            "ix_messages_due",
            "next_attempt_at",
            "id",
            postgresql_where=text(DUE_SQL),
            sqlite_where=text(DUE_SQL),
        ),
        # Lease renewal and recovery.
        Index(
            "ix_messages_sending",
            "lease_expires_at",
            postgresql_where=text(SENDING_SQL),
            sqlite_where=text(SENDING_SQL),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contact_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
    channel: Mapped[MessageChannel] = mapped_column(
        Enum(MessageChannel, native_enum=False, length=16)
    )
    # An e-mail address, a phone in E.164, or a Telegram chat.
    recipient: Mapped[str] = mapped_column(String(320))
    # Which template or trigger made it ("manual" for one written by hand).
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # Set by a trigger: a second message with the same key is never made.
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MessageStatus] = mapped_column(Enum(MessageStatus, native_enum=False, length=16))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the e-mail dispatcher may send it, or when a message held for the client's quiet
    # hours is handed to the host's gateway; None once it is the gateway's.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The template's variables, for the gateway's `message.requested`.
    variables: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt: the host's gateway and mail servers drop a repeat."""
        return f"msg_{self.id.hex}"


class MessageOptOut(Base):
    """A contact who unsubscribed: nothing more is sent to them."""

    __tablename__ = "message_opt_outs"
    __table_args__ = (workspace_fk(["contact_id"], "contacts", ondelete="CASCADE"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateTrigger(enum.StrEnum):
    # Sent by hand: to one contact, or once to a segment.
    MANUAL = "MANUAL"
    # Sent when a lead enters ``stage_id`` (an order's status changes).
    STAGE = "STAGE"
    # Sent ``hours_before`` a task or appointment about the client falls due.
    REMINDER = "REMINDER"
    # Sent on the day of the date in the contact's custom field ``field_key`` (a birthday).
    DATE = "DATE"
    # Sent on each of the workspace's holidays.
    HOLIDAY = "HOLIDAY"


class MessageTemplate(Base):
    """A message the owner wrote once, with variables, in one language, for one channel."""

    __tablename__ = "message_templates"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        workspace_fk(["stage_id"], "stages", ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at", "id"),
        # The stage trigger: the active templates of a stage.
        Index(None, "workspace_id", "stage_id"),
        # The reminder scan: the active reminder templates of every workspace.
        Index(None, "trigger", "active"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[MessageChannel] = mapped_column(
        Enum(MessageChannel, native_enum=False, length=16)
    )
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    trigger: Mapped[TemplateTrigger] = mapped_column(
        Enum(TemplateTrigger, native_enum=False, length=16)
    )
    stage_id: Mapped[uuid.UUID | None]
    hours_before: Mapped[int | None] = mapped_column(Integer)
    field_key: Mapped[str | None] = mapped_column(String(64))
    # Quiet hours on the client's wall clock (minutes after midnight); both or neither.
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Holiday(Base):
    """A day a workspace greets its clients on, every year; the Russian holidays until the
    owner sets a list of their own."""

    __tablename__ = "message_holidays"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        UniqueConstraint("workspace_id", "month", "day"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    month: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
