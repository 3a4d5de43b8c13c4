"""Alembic migrations, shipped in the package and run without an alembic.ini."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from embedcrm.config import Settings
from embedcrm.db import create_engine

HERE = Path(__file__).parent


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # Alembic's ini interpolation would read '%' in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.attributes["settings"] = settings
    return config


def upgrade_to_head(settings: Settings) -> None:
    """Apply every pending migration. Safe to call on an up-to-date database."""
    with _sqlite_migration_lock(settings):
        # One head (migration 0013 joined the old branches): a second head fails here, loudly,
        # rather than leaving a branch behind.
        command.upgrade(alembic_config(settings), "head")


@contextlib.contextmanager
def _sqlite_migration_lock(settings: Settings) -> Iterator[None]:
    """SQLite runs DDL outside transactions: two processes starting on a fresh file at once
    (`serve` and a CLI command) would both create the tables. A file lock makes them take turns."""
    url = make_url(settings.database_url)
    if not url.get_backend_name().startswith("sqlite") or url.database in (None, "", ":memory:"):
        yield
        return
    with open(f"{url.database}-migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def is_up_to_date(settings: Settings) -> bool:
    """Whether every head revision is applied.

    Not a plain comparison of head sets: a head that another branch depends on is applied, yet
    the version table keeps only the revision that depends on it.
    """
    script = ScriptDirectory.from_config(alembic_config(settings))
    heads = set(script.get_heads())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def read() -> set[str]:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(current)
        finally:
            await engine.dispose()

    current_heads = asyncio.run(read())
    applied = {
        revision.revision for revision in script.iterate_revisions(tuple(current_heads), "base")
    }
    return heads <= applied
