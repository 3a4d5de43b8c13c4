"""Messages: the outbound messages to clients and members, the contacts who unsubscribed, the
message templates and their triggers, the holidays clients are greeted on, the clients' feedback, and the alerts to the shop with each member's choices.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db
from embedcrm.db import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

DUE_SQL = "status = 'QUEUED' AND next_attempt_at IS NOT NULL"
SENDING_SQL = "status = 'SENDING'"
PENDING_ALERT_SQL = "sent_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "EMAIL", "SMS", "TELEGRAM", name="messagechannel", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "SENDING",
                "SENT",
                "DELIVERED",
                "FAILED",
                name="messagestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("variables", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
        sa.UniqueConstraint("workspace_id", "dedupe_key", name="uq_messages_dedupe_key"),
    )
    op.create_index(
        "ix_messages_workspace_id_contact_id_created_at_id",
        "messages",
        ["workspace_id", "contact_id", "created_at", "id"],
    )
    op.create_index(
        "ix_messages_due",
        "messages",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text(DUE_SQL),
        sqlite_where=sa.text(DUE_SQL),
    )
    op.create_index(
        "ix_messages_sending",
        "messages",
        ["lease_expires_at"],
        postgresql_where=sa.text(SENDING_SQL),
        sqlite_where=sa.text(SENDING_SQL),
    )
    op.create_table(
        "message_opt_outs",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "contact_id"),
    )
    op.create_table(
        "message_templates",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "EMAIL", "SMS", "TELEGRAM", name="messagechannel", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "MANUAL",
                "STAGE",
                "REMINDER",
                "DATE",
                "HOLIDAY",
                name="templatetrigger",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("stage_id", sa.Uuid(), nullable=True),
        sa.Column("hours_before", sa.Integer(), nullable=True),
        sa.Column("field_key", sa.String(length=64), nullable=True),
        sa.Column("quiet_start", sa.Integer(), nullable=True),
        sa.Column("quiet_end", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["workspace_id", "stage_id"],
            ["stages.workspace_id", "stages.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
    )
    op.create_index(
        "ix_message_templates_workspace_id_created_at_id",
        "message_templates",
        ["workspace_id", "created_at", "id"],
    )
    op.create_index(
        "ix_message_templates_workspace_id_stage_id",
        "message_templates",
        ["workspace_id", "stage_id"],
    )
    op.create_index(
        "ix_message_templates_trigger_active", "message_templates", ["trigger", "active"]
    )
    op.create_table(
        "message_holidays",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
        sa.UniqueConstraint("workspace_id", "month", "day"),
    )
    op.create_table(
        "feedback_answers",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_key", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("NPS", "CSAT", name="feedbackkind", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("manager_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
        sa.UniqueConstraint("workspace_id", "request_key"),
    )
    op.create_index(
        "ix_feedback_answers_workspace_id_kind_created_at",
        "feedback_answers",
        ["workspace_id", "kind", "created_at"],
    )
    op.create_index(
        "ix_feedback_answers_workspace_id_contact_id_created_at",
        "feedback_answers",
        ["workspace_id", "contact_id", "created_at"],
    )
    op.create_table(
        "alert_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("channels", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("telegram_chat", sa.String(length=64), nullable=True),
        sa.Column("quiet_start", sa.Integer(), nullable=True),
        sa.Column("quiet_end", sa.Integer(), nullable=True),
        sa.Column(
            "digest",
            sa.Enum("OFF", "HOURLY", "DAILY", name="digestmode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "member_id"],
            ["members.workspace_id", "members.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "member_id"),
    )
    op.create_table(
        "alerts",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "NEW_LEAD",
                "UNANSWERED_LEAD",
                "OVERDUE_TASK",
                name="alertkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "member_id"],
            ["members.workspace_id", "members.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
        sa.UniqueConstraint("workspace_id", "member_id", "dedupe_key"),
    )
    op.create_index(
        "ix_alerts_pending",
        "alerts",
        ["due_at"],
        postgresql_where=sa.text(PENDING_ALERT_SQL),
        sqlite_where=sa.text(PENDING_ALERT_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_pending", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_settings")
    op.drop_table("feedback_answers")
    op.drop_table("message_holidays")
    op.drop_table("message_templates")
    op.drop_table("message_opt_outs")
    op.drop_index("ix_messages_sending", table_name="messages")
    op.drop_index("ix_messages_due", table_name="messages")
    op.drop_index("ix_messages_workspace_id_contact_id_created_at_id", table_name="messages")
    op.drop_table("messages")
