"""Alembic environment: runs migrations over the async engine of embedcrm's settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import embedcrm.models  # noqa: F401  (registers every table on Base.metadata)
from embedcrm.config import Settings
from embedcrm.db import Base, create_engine

config = context.config


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    if isinstance(settings, Settings):
        return settings
    return Settings.from_env()


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # The app's statement timeout is for requests; building an index may take longer.
        connection.exec_driver_sql("SET statement_timeout = 0")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_settings())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _in_new_loop() -> None:
    asyncio.run(_run_online())


try:
    asyncio.get_running_loop()
except RuntimeError:
    _in_new_loop()
else:
    # Called from inside an event loop (tests, `serve`): migrate on a thread of its own.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_in_new_loop).result()
