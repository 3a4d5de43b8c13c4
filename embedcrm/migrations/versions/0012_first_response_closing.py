"""Tasks: why a task was closed, so that a first-response task closed with its lead is not an
answer.

A first-response task now closes by itself when the lead is answered (ANSWERED) or won or lost
first (LEAD_CLOSED); one a member marks done keeps no reason. The time a lead was first
answered leaves out LEAD_CLOSED.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column(
                "done_reason",
                sa.Enum(
                    "ANSWERED",
                    "LEAD_CLOSED",
                    name="taskdonereason",
                    native_enum=False,
                    length=16,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("done_reason")
