"""Row-level security on PostgreSQL: every table with a workspace_id shows a role the policies
bind only the rows of the workspace its transaction names (embedcrm.workspace_id), or every
workspace's when that is "*". Enabled, not forced: the tables' owner (who migrates) is not bound,
a separate app role is (docs/operations.md, "Row-level security"). SQLite: nothing to do.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

POLICY = "workspace_isolation"
# NULLIF twice: unset in a session the setting reads NULL, set once and past its transaction it
# reads "", and "*" (every workspace) is not a uuid. The comparison keeps workspace_id bare so
# that it stays beside the query's own workspace_id condition in the indexes.
VISIBLE = (
    "current_setting('embedcrm.workspace_id', true) = '*' OR workspace_id = "
    "CAST(NULLIF(NULLIF(current_setting('embedcrm.workspace_id', true), ''), '*') AS uuid)"
)


def workspace_owned_tables() -> list[str]:
    """Every table of the schema with a workspace_id column, as the database has them now."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = 'workspace_id' "
        "AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') "
        "ORDER BY table_name"
    )
    return [name for (name,) in rows]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in workspace_owned_tables():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({VISIBLE}) WITH CHECK ({VISIBLE})')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in workspace_owned_tables():
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
