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
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("currency", sa.String(length=3), server_default="RUB", nullable=False)
        )
        batch.add_column(
            sa.Column("language", sa.String(length=8), server_default="ru", nullable=False)
        )
    with op.batch_alter_table("leads") as batch:
        batch.add_column(
            sa.Column("value_set_by_hand", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
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
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("close_reason")
        batch.drop_column("value_set_by_hand")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("language")
        batch.drop_column("currency")
