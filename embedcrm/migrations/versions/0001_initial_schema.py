"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "platform_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_platform_keys_secret_hash")),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("external_id", name=op.f("uq_workspaces_external_id")),
    )
    op.create_table(
        "members",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "role",
            sa.Enum("OWNER", "MANAGER", "VIEWER", name="role", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_members")),
        sa.UniqueConstraint(
            "workspace_id", "external_id", name=op.f("uq_members_workspace_id_external_id")
        ),
    )
    op.create_table(
        "outbox_events",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("payload", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_outbox_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_events_workspace_id_created_at_id"),
            ["workspace_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_events_workspace_id_lead_id_sequence"),
            ["workspace_id", "lead_id", "sequence"],
            unique=False,
        )

    op.create_table(
        "pipelines",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pipelines_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_pipelines")),
    )
    op.create_table(
        "sites",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domains", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("phone_region", sa.String(length=2), nullable=False),
        sa.Column("settings", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sites_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_sites")),
        sa.UniqueConstraint("public_key", name=op.f("uq_sites_public_key")),
    )
    op.create_table(
        "contacts",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_normalized", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("phone_e164", sa.String(length=20), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("custom_fields", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("manager_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "manager_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_contacts_workspace_id_manager_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contacts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_workspace_id_created_at_id"),
            ["workspace_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_workspace_id_email_normalized"),
            ["workspace_id", "email_normalized"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_workspace_id_phone_e164"),
            ["workspace_id", "phone_e164"],
            unique=False,
        )

    op.create_table(
        "stages",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("OPEN", "WON", "LOST", name="stagekind", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "pipeline_id"],
            ["pipelines.workspace_id", "pipelines.id"],
            name=op.f("fk_stages_workspace_id_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_stages")),
    )
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stages_workspace_id_pipeline_id_position"),
            ["workspace_id", "pipeline_id", "position"],
            unique=False,
        )

    op.create_table(
        "submissions",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("client_submission_id", sa.String(length=255), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "RECEIVED",
                "PROCESSED",
                "FAILED",
                "QUARANTINED",
                name="submissionstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("origin", sa.String(length=300), nullable=True),
        sa.Column("remote_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "site_id"],
            ["sites.workspace_id", "sites.id"],
            name=op.f("fk_submissions_workspace_id_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_submissions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "workspace_id",
            "site_id",
            "client_submission_id",
            name=op.f("uq_submissions_workspace_id_site_id_client_submission_id"),
        ),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submissions_status_created_at"), ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_workspace_id_status_created_at_id"),
            ["workspace_id", "status", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "leads",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "WON", "LOST", name="leadstatus", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("form", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("custom_fields", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("utm_source", sa.String(length=200), nullable=True),
        sa.Column("utm_medium", sa.String(length=200), nullable=True),
        sa.Column("utm_campaign", sa.String(length=200), nullable=True),
        sa.Column("utm_term", sa.String(length=200), nullable=True),
        sa.Column("utm_content", sa.String(length=200), nullable=True),
        sa.Column("referrer", sa.String(length=2000), nullable=True),
        sa.Column("landing_page", sa.String(length=2000), nullable=True),
        sa.Column("click_ids", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("first_touch", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("event_sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "assignee_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_leads_workspace_id_assignee_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            name=op.f("fk_leads_workspace_id_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "pipeline_id"],
            ["pipelines.workspace_id", "pipelines.id"],
            name=op.f("fk_leads_workspace_id_pipeline_id_pipelines"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "site_id"],
            ["sites.workspace_id", "sites.id"],
            name=op.f("fk_leads_workspace_id_site_id_sites"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "stage_id"],
            ["stages.workspace_id", "stages.id"],
            name=op.f("fk_leads_workspace_id_stage_id_stages"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_leads")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leads_workspace_id_assignee_id_created_at_id"),
            ["workspace_id", "assignee_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_leads_workspace_id_contact_id"),
            ["workspace_id", "contact_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_leads_workspace_id_created_at_id"),
            ["workspace_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_leads_workspace_id_site_id_created_at_id"),
            ["workspace_id", "site_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_leads_workspace_id_stage_id_created_at_id"),
            ["workspace_id", "stage_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_leads_workspace_id_status_created_at_id"),
            ["workspace_id", "status", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "activities",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "SUBMISSION",
                "NOTE",
                "CALL",
                "EMAIL",
                "MEETING",
                "MESSAGE",
                "STAGE_CHANGE",
                name="activitykind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("data", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "author_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_activities_workspace_id_author_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            name=op.f("fk_activities_workspace_id_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "lead_id"],
            ["leads.workspace_id", "leads.id"],
            name=op.f("fk_activities_workspace_id_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_workspace_id_contact_id_created_at_id"),
            ["workspace_id", "contact_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_activities_workspace_id_lead_id_created_at_id"),
            ["workspace_id", "lead_id", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_workspace_id_lead_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_activities_workspace_id_contact_id_created_at_id"))

    op.drop_table("activities")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_workspace_id_status_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_leads_workspace_id_stage_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_leads_workspace_id_site_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_leads_workspace_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_leads_workspace_id_contact_id"))
        batch_op.drop_index(batch_op.f("ix_leads_workspace_id_assignee_id_created_at_id"))

    op.drop_table("leads")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_workspace_id_status_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_status_created_at"))

    op.drop_table("submissions")
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stages_workspace_id_pipeline_id_position"))

    op.drop_table("stages")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_workspace_id_phone_e164"))
        batch_op.drop_index(batch_op.f("ix_contacts_workspace_id_email_normalized"))
        batch_op.drop_index(batch_op.f("ix_contacts_workspace_id_created_at_id"))

    op.drop_table("contacts")
    op.drop_table("sites")
    op.drop_table("pipelines")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_workspace_id_lead_id_sequence"))
        batch_op.drop_index(batch_op.f("ix_outbox_events_workspace_id_created_at_id"))

    op.drop_table("outbox_events")
    op.drop_table("members")
    op.drop_table("workspaces")
    op.drop_table("platform_keys")
