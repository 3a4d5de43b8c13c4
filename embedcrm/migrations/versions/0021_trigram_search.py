"""Words searched in leads and contacts answered from a trigram index on PostgreSQL.

``search_text`` is case-folded by the application and searched with ``LIKE '%…%'``, which no
B-tree serves: on PostgreSQL a GIN index of pg_trgm's trigrams does (PostgreSQL 13 and later
count pg_trgm as trusted, so the database's owner may create it). SQLite keeps its scan.

Revision ID: 0021
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

INDEXES = {"leads": "ix_leads_search_trgm", "contacts": "ix_contacts_search_trgm"}


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    if not _postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, name in INDEXES.items():
        op.create_index(
            name,
            table,
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade() -> None:
    # The extension stays: other schemas of the database may use it, and it costs nothing idle.
    if not _postgresql():
        return
    for table, name in INDEXES.items():
        op.drop_index(name, table_name=table)
