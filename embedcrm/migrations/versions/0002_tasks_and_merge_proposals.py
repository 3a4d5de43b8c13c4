"""tasks and merge proposals

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import embedcrm.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "merge_proposals",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("other_contact_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN",
                "ACCEPTED",
                "DISMISSED",
                name="mergeproposalstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            name=op.f("fk_merge_proposals_workspace_id_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "other_contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            name=op.f("fk_merge_proposals_workspace_id_other_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_merge_proposals")),
    )
    with op.batch_alter_table("merge_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merge_proposals_workspace_id_status_created_at_id"),
            ["workspace_id", "status", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "tasks",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "FIRST_RESPONSE",
                "TODO",
                "CALL",
                "MEETING",
                "EMAIL",
                name="taskkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_notified_at", embedcrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", embedcrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "assignee_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_tasks_workspace_id_assignee_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            name=op.f("fk_tasks_workspace_id_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "created_by_id"],
            ["members.workspace_id", "members.id"],
            name=op.f("fk_tasks_workspace_id_created_by_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "lead_id"],
            ["leads.workspace_id", "leads.id"],
            name=op.f("fk_tasks_workspace_id_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tasks_overdue_notified_at_done_at_due_at"),
            ["overdue_notified_at", "done_at", "due_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_workspace_id_assignee_id_done_at_due_at"),
            ["workspace_id", "assignee_id", "done_at", "due_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_workspace_id_contact_id"),
            ["workspace_id", "contact_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_workspace_id_lead_id"), ["workspace_id", "lead_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_workspace_id_lead_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_workspace_id_contact_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_workspace_id_assignee_id_done_at_due_at"))
        batch_op.drop_index(batch_op.f("ix_tasks_overdue_notified_at_done_at_due_at"))

    op.drop_table("tasks")
    with op.batch_alter_table("merge_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_proposals_workspace_id_status_created_at_id"))

    op.drop_table("merge_proposals")
