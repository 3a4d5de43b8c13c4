"""Alembic migrations, shipped in the package and run without an alembic.ini."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

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
    # "heads": each area of the code keeps its own branch of revisions off the initial schema.
    command.upgrade(alembic_config(settings), "heads")


def is_up_to_date(settings: Settings) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def read() -> set[str]:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(current)
        finally:
            await engine.dispose()

    return asyncio.run(read()) == heads
