"""Provisioning: a site's external id (unique in its workspace) and soft deletion, a workspace's
locale and working hours, revocable panel sessions, and platform keys that expire after a
rotation.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UUID = sa.Uuid()
TIME = embedcrm.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX, which SQLite does in place: a batch would rebuild the
    # tables, and dropping the old sites or members table would cascade into (or be refused by)
    # the rows that point at it.
    op.add_column("sites", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.add_column("sites", sa.Column("deleted_at", TIME, nullable=True))
    op.create_index(
        op.f("ix_sites_workspace_id_external_id"),
        "sites",
        ["workspace_id", "external_id"],
        unique=True,
    )
    op.add_column("workspaces", sa.Column("locale", sa.String(length=35), nullable=True))
    op.add_column(
        "workspaces", sa.Column("working_hours", embedcrm.db.JSONDocument(), nullable=True)
    )
    op.add_column("members", sa.Column("sessions_revoked_at", TIME, nullable=True))
    op.add_column("platform_keys", sa.Column("expires_at", TIME, nullable=True))
    op.create_table(
        "revoked_panel_tokens",
        sa.Column("workspace_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_revoked_panel_tokens_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "member_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_revoked_panel_tokens_workspace_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_revoked_panel_tokens")),
    )
    op.create_index(
        op.f("ix_revoked_panel_tokens_workspace_id_member_id_expires_at"),
        "revoked_panel_tokens",
        ["workspace_id", "member_id", "expires_at"],
    )


def downgrade() -> None:
    # DROP COLUMN in place as well (SQLite 3.35 and later), for the same reason.
    op.drop_index(
        op.f("ix_revoked_panel_tokens_workspace_id_member_id_expires_at"),
        table_name="revoked_panel_tokens",
    )
    op.drop_table("revoked_panel_tokens")
    op.drop_column("platform_keys", "expires_at")
    op.drop_column("members", "sessions_revoked_at")
    op.drop_column("workspaces", "working_hours")
    op.drop_column("workspaces", "locale")
    op.drop_index(op.f("ix_sites_workspace_id_external_id"), table_name="sites")
    op.drop_column("sites", "deleted_at")
    op.drop_column("sites", "external_id")
