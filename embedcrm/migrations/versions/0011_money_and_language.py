"""Money and names: a workspace's default currency and language; a lead's value that follows
its cart until a person sets it, and the reason it was won or lost.

Existing workspaces take the language of their oldest site (Russian without one) and RUB.
A closed lead takes the reason given with the move that closed it, read from its timeline.
A lead that already has a value keeps it as set by hand, so that no value anyone entered
changes under them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite does in place: a batch would rebuild the tables, and
    # dropping the old leads or workspaces table would cascade into the rows that point at it.
    op.add_column(
        "workspaces",
        sa.Column("currency", sa.String(length=3), server_default="RUB", nullable=False),
    )
    op.add_column(
        "workspaces",
        sa.Column("language", sa.String(length=8), server_default="ru", nullable=False),
    )
    op.add_column(
        "leads",
        sa.Column("value_set_by_hand", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("leads", sa.Column("close_reason", sa.Text(), nullable=True))
    op.execute(
        """
        UPDATE workspaces SET language = COALESCE((
            SELECT sites.language FROM sites
            WHERE sites.workspace_id = workspaces.id AND sites.language IN ('ru', 'en')
            ORDER BY sites.created_at, sites.id LIMIT 1), 'ru')
        """
    )
    op.execute(
        sa.text("UPDATE leads SET value_set_by_hand = :yes WHERE value IS NOT NULL").bindparams(
            yes=True
        )
    )
    op.execute(
        """
        UPDATE leads SET close_reason = (
            SELECT activities.body FROM activities
            WHERE activities.workspace_id = leads.workspace_id
              AND activities.lead_id = leads.id
              AND activities.kind = 'STAGE_CHANGE'
            ORDER BY activities.created_at DESC, activities.id DESC LIMIT 1)
        WHERE status IN ('WON', 'LOST')
        """
    )


def downgrade() -> None:
    # DROP COLUMN in place as well (SQLite 3.35 and later), for the same reason.
    op.drop_column("leads", "close_reason")
    op.drop_column("leads", "value_set_by_hand")
    op.drop_column("workspaces", "language")
    op.drop_column("workspaces", "currency")
