"""Form definitions per site.

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_forms",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("title", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column(
            "display",
            sa.Enum(
                "inline", "popup", "floating", name="formdisplay", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("button_label", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("success_message", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("consent_text", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("fields", embedcrm.db.JSONDocument(), nullable=False),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "site_id"],
            ["sites.workspace_id", "sites.id"],
            name=op.f("fk_site_forms_workspace_id_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_site_forms_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_site_forms")),
        sa.UniqueConstraint(
            "workspace_id", "site_id", "key", name=op.f("uq_site_forms_workspace_id_site_id_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("site_forms")
