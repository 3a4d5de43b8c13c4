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
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("deleted_at", TIME, nullable=True))
        batch.create_unique_constraint(
            "uq_sites_workspace_id_external_id", ["workspace_id", "external_id"]
        )
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=35), nullable=True))
        batch.add_column(sa.Column("working_hours", embedcrm.db.JSONDocument(), nullable=True))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("sessions_revoked_at", TIME, nullable=True))
    with op.batch_alter_table("platform_keys") as batch:
        batch.add_column(sa.Column("expires_at", TIME, nullable=True))
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
    op.drop_index(
        op.f("ix_revoked_panel_tokens_workspace_id_member_id_expires_at"),
        table_name="revoked_panel_tokens",
    )
    op.drop_table("revoked_panel_tokens")
    with op.batch_alter_table("platform_keys") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("sessions_revoked_at")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("working_hours")
        batch.drop_column("locale")
    with op.batch_alter_table("sites") as batch:
        batch.drop_constraint("uq_sites_workspace_id_external_id", type_="unique")
        batch.drop_column("deleted_at")
        batch.drop_column("external_id")
