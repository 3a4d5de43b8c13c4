"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from conftest import SECRET
from embedcrm.config import Settings
from embedcrm.db import Base
from embedcrm.migrations import alembic_config, is_up_to_date, upgrade_to_head
from embedcrm.services import Services

# Columns a migration adds that no model declares, each with the reason.
UNMODELLED = {
    # Analytics' own column on the CRM's table, reached by name (embedcrm/analytics/repository.py).
    ("leads", "expected_close_at"),
}


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        change
        for change in compare_metadata(context, Base.metadata)
        if not _elsewhere(change, connection.dialect.name)
    ]


def _elsewhere(change: Any, dialect: str) -> bool:
    """An index the models build on another database only (``ddl_if``), missing here."""
    if change[0] != "add_index":
        return False
    table = Base.metadata.tables[change[1].table.name]
    only = next((i._ddl_if for i in table.indexes if i.name == change[1].name), None)
    return only is not None and only.dialect not in (None, dialect)


# Kept on SQLite only, where dropping it would mean rebuilding the table (migration 0009).
SQLITE_LEFTOVER = "uq_webhook_deliveries_workspace_id_event_id_endpoint_key"


def _unmodelled(change: Any) -> bool:
    """A column of UNMODELLED, or an index over one, is expected to be missing from the models."""
    if change[0] == "remove_constraint":
        return bool(change[1].name == SQLITE_LEFTOVER)
    if change[0] == "remove_column":
        return (change[2], change[3].name) in UNMODELLED
    if change[0] == "remove_index":
        index = change[1]
        return any((index.table.name, column.name) in UNMODELLED for column in index.columns)
    return False


async def test_the_migrated_database_matches_the_models(services: Services) -> None:
    async with services.db.engine.connect() as connection:
        drift = await connection.run_sync(_drift)
    assert [change for change in drift if not _unmodelled(change)] == []


def test_up_to_date_only_at_the_head(tmp_path: Path) -> None:
    settings = Settings(
        secret_keys=(SECRET,), database_url=f"sqlite+aiosqlite:///{tmp_path / 'embedcrm.db'}"
    )
    assert not is_up_to_date(settings)
    upgrade_to_head(settings)
    assert is_up_to_date(settings)
    # One step back: `serve` and `worker` must refuse to start.
    command.downgrade(alembic_config(settings), "0012")
    assert not is_up_to_date(settings)
    upgrade_to_head(settings)
    assert is_up_to_date(settings)


def test_the_history_is_linear_from_here_on() -> None:
    """One head, and after the join (0013) one parent per revision: a new migration's
    down_revision is simply the newest file."""
    script = ScriptDirectory.from_config(alembic_config(Settings(secret_keys=(SECRET,))))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        if revision.revision > "0013":
            assert isinstance(revision.down_revision, str), revision.revision


def test_a_database_left_at_the_old_heads_upgrades(tmp_path: Path) -> None:
    settings = Settings(
        secret_keys=(SECRET,), database_url=f"sqlite+aiosqlite:///{tmp_path / 'embedcrm.db'}"
    )
    for head in ("0005", "0006", "0009", "0012"):
        command.upgrade(alembic_config(settings), head)
    assert not is_up_to_date(settings)
    upgrade_to_head(settings)
    assert is_up_to_date(settings)
