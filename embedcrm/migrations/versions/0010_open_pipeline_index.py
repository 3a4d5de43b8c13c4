"""Analytics: the forecast reads the open pipeline from one index.

The index by expected close gives way to one over the open leads' status and expected close
that, on PostgreSQL, also carries their stage and value: the forecast, which reads every open
lead of a workspace, becomes an index-only scan.

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_leads_open_pipeline",
        "leads",
        ["workspace_id", "status", "expected_close_at"],
        postgresql_include=["stage_id", "value"],
    )
    op.drop_index("ix_leads_workspace_id_expected_close_at", table_name="leads")


def downgrade() -> None:
    op.create_index(
        "ix_leads_workspace_id_expected_close_at", "leads", ["workspace_id", "expected_close_at"]
    )
    op.drop_index("ix_leads_open_pipeline", table_name="leads")
