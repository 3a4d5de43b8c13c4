"""The inbox's "unanswered first" order: a partial index of the open leads nobody answered.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# As embedcrm/leads/models.py's WAITING_SQL, written out: a migration is frozen in time.
WAITING_SQL = "status = 'OPEN' AND first_response_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_leads_waiting",
        "leads",
        ["workspace_id", "created_at", "id"],
        postgresql_where=sa.text(WAITING_SQL),
        sqlite_where=sa.text(WAITING_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_leads_waiting", table_name="leads")
