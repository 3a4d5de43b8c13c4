"""webhook delivery: endpoints, deliveries, attempts and the outbox feed position

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

# The reserved workspace that holds events concerning no workspace (see webhooks/models.py).
PLATFORM_WORKSPACE_ID = "00000000-0000-0000-0000-000000000000"


def upgrade() -> None:
    op.create_table(
        "platform_webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("previous_secret", sa.String(length=128), nullable=True),
        sa.Column(
            "previous_secret_expires_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("event_types", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("disabled_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_since", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_platform_webhook_endpoints_created_at_id"),
        "platform_webhook_endpoints",
        ["created_at", "id"],
        unique=False,
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("previous_secret", sa.String(length=128), nullable=True),
        sa.Column(
            "previous_secret_expires_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("event_types", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("disabled_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_since", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_webhook_endpoints_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_workspace_id_created_at_id"),
        "webhook_endpoints",
        ["workspace_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=True),
        sa.Column("platform_endpoint_id", sa.Uuid(), nullable=True),
        sa.Column("endpoint_key", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "IN_FLIGHT",
                "DELIVERED",
                "FAILED",
                "SKIPPED_ENDPOINT_DISABLED",
                name="deliverystatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(endpoint_id IS NULL) <> (platform_endpoint_id IS NULL)",
            name=op.f("ck_webhook_deliveries_one_endpoint"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_endpoint_id"],
            ["platform_webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_platform_endpoint_id_platform_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "endpoint_id"],
            ["webhook_endpoints.workspace_id", "webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_workspace_id_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "event_id"],
            ["outbox_events.workspace_id", "outbox_events.id"],
            name=op.f("fk_webhook_deliveries_workspace_id_event_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "workspace_id",
            "event_id",
            "endpoint_key",
            name=op.f("uq_webhook_deliveries_workspace_id_event_id_endpoint_key"),
        ),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_endpoint_key_created_at_id"),
        "webhook_deliveries",
        ["endpoint_key", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_endpoint_key_status_created_at"),
        "webhook_deliveries",
        ["endpoint_key", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_status_lease_expires_at"),
        "webhook_deliveries",
        ["status", "lease_expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"),
        "webhook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_workspace_id_lead_id_endpoint_key_sequence"),
        "webhook_deliveries",
        ["workspace_id", "lead_id", "endpoint_key", "sequence"],
        unique=False,
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_key", sa.Uuid(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "delivery_id"],
            ["webhook_deliveries.workspace_id", "webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_workspace_id_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_webhook_attempts_endpoint_key_created_at_id"),
        "webhook_attempts",
        ["endpoint_key", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_attempts_workspace_id_delivery_id_attempt_number"),
        "webhook_attempts",
        ["workspace_id", "delivery_id", "attempt_number"],
        unique=False,
    )
    op.add_column("outbox_events", sa.Column("position", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_outbox_events_position"), "outbox_events", ["position"], unique=False)
    op.create_index(
        "ix_outbox_events_unpositioned",
        "outbox_events",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    )
    op.create_index(
        op.f("ix_outbox_events_workspace_id_position"),
        "outbox_events",
        ["workspace_id", "position"],
        unique=False,
    )
    # Only the columns of revision 0001: later branches add theirs with server defaults.
    workspaces = sa.table(
        "workspaces",
        sa.column("id", sa.Uuid()),
        sa.column("external_id", sa.String()),
        sa.column("name", sa.String()),
        sa.column("timezone", sa.String()),
        sa.column("first_response_minutes", sa.Integer()),
        sa.column("created_at", embedcrm.db.UTCDateTime()),
    )
    op.bulk_insert(
        workspaces,
        [
            {
                "id": uuid.UUID(PLATFORM_WORKSPACE_ID),
                "external_id": None,
                "name": "embedcrm platform events",
                "timezone": "UTC",
                "first_response_minutes": 15,
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM workspaces WHERE id = :id").bindparams(
            sa.bindparam("id", uuid.UUID(PLATFORM_WORKSPACE_ID), type_=sa.Uuid())
        )
    )
    op.drop_index(op.f("ix_outbox_events_workspace_id_position"), table_name="outbox_events")
    op.drop_index(
        "ix_outbox_events_unpositioned",
        table_name="outbox_events",
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    )
    op.drop_index(op.f("ix_outbox_events_position"), table_name="outbox_events")
    op.drop_column("outbox_events", "position")
    op.drop_index(
        op.f("ix_webhook_attempts_workspace_id_delivery_id_attempt_number"),
        table_name="webhook_attempts",
    )
    op.drop_index(
        op.f("ix_webhook_attempts_endpoint_key_created_at_id"), table_name="webhook_attempts"
    )
    op.drop_table("webhook_attempts")
    op.drop_index(
        op.f("ix_webhook_deliveries_workspace_id_lead_id_endpoint_key_sequence"),
        table_name="webhook_deliveries",
    )
    op.drop_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), table_name="webhook_deliveries"
    )
    op.drop_index(
        op.f("ix_webhook_deliveries_status_lease_expires_at"), table_name="webhook_deliveries"
    )
    op.drop_index(
        op.f("ix_webhook_deliveries_endpoint_key_status_created_at"),
        table_name="webhook_deliveries",
    )
    op.drop_index(
        op.f("ix_webhook_deliveries_endpoint_key_created_at_id"), table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    op.drop_index(
        op.f("ix_webhook_endpoints_workspace_id_created_at_id"), table_name="webhook_endpoints"
    )
    op.drop_table("webhook_endpoints")
    op.drop_index(
        op.f("ix_platform_webhook_endpoints_created_at_id"), table_name="platform_webhook_endpoints"
    )
    op.drop_table("platform_webhook_endpoints")
