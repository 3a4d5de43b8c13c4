"""Webhook tables: the transactional outbox, endpoints, deliveries and their attempts.

The outbox row is written in the same transaction as the change behind it; deliveries (one per
event and endpoint) and attempts (one per HTTP request) are the dispatcher's durable state.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from embedcrm.db import Base, JSONDocument, UTCDateTime, new_id, utcnow

# Events that concern no workspace (a test or a disabled notice of a platform-wide endpoint) are
# kept under this reserved workspace, created by migration 0003, so that the outbox, deliveries
# and attempts keep one shape and rule 2 of ARCHITECTURE.md holds for all of them. Payloads
# show it as `"workspace_id": null`.
PLATFORM_WORKSPACE_ID = uuid.UUID(int=0)


def message_id_of(event_id: uuid.UUID) -> str:
    """The `webhook-id` of every delivery of an event, the same on each retry."""
    return f"msg_{event_id.hex}"


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "lead_id", "sequence"),
        Index(None, "position"),
        Index(None, "workspace_id", "position"),
        # The fan-out looks for events without a position; they are few at any time.
        Index(
            "ix_outbox_events_unpositioned",
            "created_at",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[uuid.UUID | None]
    sequence: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Commit-safe feed order, given by the fan-out after commit, one fan-out at a time: an
    # event committed later always gets a larger position, so an `events(after:)` cursor
    # never skips one (created_at cannot promise that under concurrent writers).
    position: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def message_id(self) -> str:
        return message_id_of(self.id)


class EndpointColumns:
    """What a workspace endpoint and a platform-wide endpoint have in common."""

    url: Mapped[str] = mapped_column(String(2048))
    # The `whsec_` signing secret, sealed (embedcrm.kit.sealed): a copy of the database holds no
    # secret a forger could sign with. Only EndpointSecrets (webhooks/secrets.py) opens it.
    secret: Mapped[str] = mapped_column(Text)
    # The secret before the last rotation, sealed too, still signed with until it expires.
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Event types this endpoint receives; empty means every type.
    event_types: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Start of the current run of failed attempts; None after a success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def sealed_secrets_at(self, moment: datetime) -> tuple[str, ...]:
        """The sealed secrets to sign with at ``moment``: two during a rotation overlap."""
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and moment < self.previous_secret_expires_at
        ):
            return (self.previous_secret, self.secret)
        return (self.secret,)

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookEndpoint(EndpointColumns, Base):
    """An endpoint of one workspace: it receives that workspace's events."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        Index(None, "workspace_id", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class PlatformWebhookEndpoint(EndpointColumns, Base):
    """A platform-wide endpoint of the host: it receives the events of every workspace.

    It belongs to no workspace, so it lives above the tenant boundary, beside ``workspaces``
    and ``platform_keys``.
    """

    __tablename__ = "platform_webhook_endpoints"
    __table_args__ = (Index(None, "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)

    # The same attribute name as on a workspace endpoint, so both are handled alike.
    @property
    def workspace_id(self) -> uuid.UUID | None:
        return None


Endpoint = WebhookEndpoint | PlatformWebhookEndpoint


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    IN_FLIGHT = "IN_FLIGHT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    SKIPPED_ENDPOINT_DISABLED = "SKIPPED_ENDPOINT_DISABLED"


# A delivery in one of these holds back the later events of its lead to the same endpoint.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)

# The predicates of the partial indexes, as SQL the migration repeats word for word.
PENDING_SQL = "status = 'PENDING'"
LEASED_SQL = "status = 'IN_FLIGHT'"
LEAD_ORDER_SQL = "status IN ('PENDING', 'IN_FLIGHT') AND lead_id IS NOT NULL"
REPLAYABLE_SQL = "status IN ('FAILED', 'SKIPPED_ENDPOINT_DISABLED')"


def _partial(name: str, columns: list[str], where: str) -> Index:
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))


class WebhookDelivery(Base):
    """One event to one endpoint: its state, attempts so far and when to try next.

    It belongs to the event's workspace. Its endpoint is either one of that workspace's
    (``endpoint_id``, a key through the workspace) or a platform-wide one
    (``platform_endpoint_id``); ``endpoint_key`` repeats whichever it is so that ordering,
    caps and logs need one column.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "event_id"],
            ["outbox_events.workspace_id", "outbox_events.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["workspace_id", "endpoint_id"],
            ["webhook_endpoints.workspace_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(
            "(endpoint_id IS NULL) <> (platform_endpoint_id IS NULL)", name="one_endpoint"
        ),
        # One delivery per event and endpoint. The workspace comes last: an index led by it
        # would tie with the primary key in the plan of an update by (workspace_id, id) on a
        # table without statistics yet, and could win, scanning the whole workspace.
        Index(
            "uq_webhook_deliveries_event", "event_id", "endpoint_key", "workspace_id", unique=True
        ),
        # Deliveries of an endpoint, newest first (GraphQL).
        Index(None, "endpoint_key", "created_at", "id"),
        # The rest cover only the deliveries in one state: they stay small however long the log
        # grows, and a delivery leaving that state costs them no new entry.
        # The claim: due pending deliveries, oldest due first, read in order up to its limit.
        _partial("ix_webhook_deliveries_pending", ["next_attempt_at", "id"], PENDING_SQL),
        # Lease counts per endpoint, renewal and recovery.
        _partial("ix_webhook_deliveries_leased", ["lease_expires_at"], LEASED_SQL),
        # Per-lead order: is an earlier event of this lead still unfinished for the endpoint?
        _partial(
            "ix_webhook_deliveries_lead_order",
            ["workspace_id", "lead_id", "endpoint_key", "sequence"],
            LEAD_ORDER_SQL,
        ),
        # Replays and the panel's failed filter.
        _partial(
            "ix_webhook_deliveries_replayable", ["endpoint_key", "created_at"], REPLAYABLE_SQL
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID]
    endpoint_id: Mapped[uuid.UUID | None]
    platform_endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_webhook_endpoints.id", ondelete="CASCADE")
    )
    endpoint_key: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[uuid.UUID | None]
    sequence: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=32)
    )
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def message_id(self) -> str:
        return message_id_of(self.event_id)


class WebhookAttempt(Base):
    """One HTTP request of a delivery, or the note that its worker stopped mid-way."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "delivery_id"],
            ["webhook_deliveries.workspace_id", "webhook_deliveries.id"],
            ondelete="CASCADE",
        ),
        Index(None, "endpoint_key", "created_at", "id"),
        Index(None, "workspace_id", "delivery_id", "attempt_number"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    delivery_id: Mapped[uuid.UUID]
    endpoint_key: Mapped[uuid.UUID]
    attempt_number: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
    # The dispatcher that made the request (its lease owner id), for diagnosing duplicates.
    worker: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
