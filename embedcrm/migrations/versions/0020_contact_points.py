"""Every e-mail and phone of a contact: contact_points, one row per value, the primary ones
also kept in contacts.email/phone. Backfilled with one primary row per e-mail and phone a
contact has; row-level security as 0017 gives every workspace table. A downgrade keeps the
primary ones (still on the contacts) and drops the others.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from embedcrm.db import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# As 0017_row_security.py's, written out: a migration is frozen in time.
POLICY = "workspace_isolation"
VISIBLE = (
    "current_setting('embedcrm.workspace_id', true) = '*' OR workspace_id = "
    "CAST(NULLIF(NULLIF(current_setting('embedcrm.workspace_id', true), ''), '*') AS uuid)"
)


def upgrade() -> None:
    op.create_table(
        "contact_points",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("EMAIL", "PHONE", name="pointkind", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("normalized", sa.String(length=320), nullable=True),
        sa.Column("label", sa.String(length=40), nullable=True),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "contact_id"],
            ["contacts.workspace_id", "contacts.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
    )
    op.create_index(
        "ix_contact_points_workspace_id_kind_normalized",
        "contact_points",
        ["workspace_id", "kind", "normalized"],
    )
    op.create_index(
        "ix_contact_points_workspace_id_contact_id_kind_normalized",
        "contact_points",
        ["workspace_id", "contact_id", "kind", "normalized"],
        unique=True,
    )
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    # A fresh id per row, in SQL: a uuid on PostgreSQL, the 32 hex digits SQLite keeps one as.
    new_id = "gen_random_uuid()" if postgresql else "lower(hex(randomblob(16)))"
    primary = "true" if postgresql else "1"
    for kind, raw, normalized in (
        ("EMAIL", "email", "email_normalized"),
        ("PHONE", "phone", "phone_e164"),
    ):
        # Every piece of the statement is a constant of this file.
        op.execute(
            "INSERT INTO contact_points "  # noqa: S608
            "(workspace_id, id, contact_id, kind, value, normalized, label, is_primary, created_at) "
            f"SELECT workspace_id, {new_id}, id, '{kind}', {raw}, {normalized}, NULL, {primary}, "
            f"created_at FROM contacts WHERE {raw} IS NOT NULL"
        )
    if postgresql:
        op.execute('ALTER TABLE "contact_points" ENABLE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY {POLICY} ON "contact_points" USING ({VISIBLE}) WITH CHECK ({VISIBLE})'
        )


def downgrade() -> None:
    op.drop_index(
        "ix_contact_points_workspace_id_contact_id_kind_normalized", table_name="contact_points"
    )
    op.drop_index("ix_contact_points_workspace_id_kind_normalized", table_name="contact_points")
    op.drop_table("contact_points")
