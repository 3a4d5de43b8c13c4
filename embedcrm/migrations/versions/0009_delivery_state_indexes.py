"""Webhook deliveries: indexes over one state each instead of over every delivery.

The claim, lease, per-lead order and replay indexes now cover only the deliveries in the states
they look for, so they stay small as the log grows and a delivered row costs them nothing.

Revision ID: 0009
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "webhook_deliveries"
PARTIAL = {
    "ix_webhook_deliveries_pending": (["next_attempt_at"], "status = 'PENDING'"),
    "ix_webhook_deliveries_leased": (["lease_expires_at"], "status = 'IN_FLIGHT'"),
    "ix_webhook_deliveries_unfinished": (
        ["endpoint_key", "created_at"],
        "status IN ('PENDING', 'IN_FLIGHT')",
    ),
    "ix_webhook_deliveries_lead_order": (
        ["workspace_id", "lead_id", "endpoint_key", "sequence"],
        "status IN ('PENDING', 'IN_FLIGHT')",
    ),
    "ix_webhook_deliveries_replayable": (
        ["endpoint_key", "created_at"],
        "status IN ('FAILED', 'SKIPPED_ENDPOINT_DISABLED')",
    ),
}
WHOLE = {
    "ix_webhook_deliveries_status_next_attempt_at": ["status", "next_attempt_at"],
    "ix_webhook_deliveries_status_lease_expires_at": ["status", "lease_expires_at"],
    "ix_webhook_deliveries_endpoint_key_status_created_at": [
        "endpoint_key",
        "status",
        "created_at",
    ],
    "ix_webhook_deliveries_workspace_id_lead_id_endpoint_key_sequence": [
        "workspace_id",
        "lead_id",
        "endpoint_key",
        "sequence",
    ],
}


def upgrade() -> None:
    for name, (columns, where) in PARTIAL.items():
        op.create_index(
            name,
            TABLE,
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    for name in WHOLE:
        # op.f: the name as first made, which PostgreSQL's 63-character limit shortened.
        op.drop_index(op.f(name), table_name=TABLE)


def downgrade() -> None:
    for name, columns in WHOLE.items():
        op.create_index(op.f(name), TABLE, columns)
    for name in PARTIAL:
        op.drop_index(name, table_name=TABLE)
