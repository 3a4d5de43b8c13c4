"""Assignment rules, the round-robin cursor, and first/last touch on contacts.

Revision ID: 0005
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_rules",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "BY_SITE",
                "BY_SOURCE",
                "ROUND_ROBIN",
                name="assignmentrulekind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("utm_source", sa.String(length=200), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "member_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_assignment_rules_workspace_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "site_id"],
            ["sites.workspace_id", "sites.id"],
            name=op.f("fk_assignment_rules_workspace_id_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assignment_rules_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_assignment_rules")),
    )
    op.create_index(
        op.f("ix_assignment_rules_workspace_id_position"),
        "assignment_rules",
        ["workspace_id", "position"],
    )
    op.create_table(
        "assignment_cursors",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assignment_cursors_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_assignment_cursors")),
    )
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_touch",
                embedcrm.db.JSONDocument(),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_touch",
                embedcrm.db.JSONDocument(),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("last_touch")
        batch_op.drop_column("first_touch")
    op.drop_table("assignment_cursors")
    op.drop_index(op.f("ix_assignment_rules_workspace_id_position"), table_name="assignment_rules")
    op.drop_table("assignment_rules")
