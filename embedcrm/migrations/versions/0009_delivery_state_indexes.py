"""Webhook deliveries: indexes over one state each instead of over every delivery.

The claim, lease, per-lead order and replay indexes now cover only the deliveries in the states
they look for, so they stay small as the log grows and a delivered row costs them nothing; the
index by endpoint and status goes (an endpoint's log, by endpoint and time, serves its rare
uses). Every index entry is work for each of a delivery's three writes. The unique key moves
the workspace to its end.

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
    "ix_webhook_deliveries_pending": (["next_attempt_at", "id"], "status = 'PENDING'"),
    "ix_webhook_deliveries_leased": (["lease_expires_at"], "status = 'IN_FLIGHT'"),
    "ix_webhook_deliveries_lead_order": (
        ["workspace_id", "lead_id", "endpoint_key", "sequence"],
        "status IN ('PENDING', 'IN_FLIGHT') AND lead_id IS NOT NULL",
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


# The unique key, workspace last (see the model for why).
OLD_UNIQUE = "uq_webhook_deliveries_workspace_id_event_id_endpoint_key"
NEW_UNIQUE = "uq_webhook_deliveries_event"
NEW_UNIQUE_COLUMNS = ["event_id", "endpoint_key", "workspace_id"]


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    op.create_index(NEW_UNIQUE, TABLE, NEW_UNIQUE_COLUMNS, unique=True)
    if not _sqlite():
        # SQLite can drop a table constraint only by rebuilding the table, and the rebuild would
        # cascade-delete every attempt; there the old constraint stays beside the new index.
        op.drop_constraint(op.f(OLD_UNIQUE), TABLE, type_="unique")
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
    if not _sqlite():
        op.create_unique_constraint(
            op.f(OLD_UNIQUE), TABLE, ["workspace_id", "event_id", "endpoint_key"]
        )
    op.drop_index(NEW_UNIQUE, table_name=TABLE)
    for name, columns in WHOLE.items():
        op.create_index(op.f(name), TABLE, columns)
    for name in PARTIAL:
        op.drop_index(name, table_name=TABLE)
