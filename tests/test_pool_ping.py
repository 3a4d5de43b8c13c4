"""The pool's check of a connection before each checkout (pool_pre_ping) on PostgreSQL: one
round trip, and a connection the server dropped is still found out and replaced.

SQLite runs skip these: its connections are files opened inside the process.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text

from embedcrm.config import Settings
from embedcrm.db import Database


def _database(settings: Settings) -> Database:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server to drop a connection")
    # A pool of one, so every transaction checks out the same connection.
    return Database.from_settings(Settings(**{**vars(settings), "db_pool_size": 1}))


async def _backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)


async def test_a_checkout_checks_its_connection_in_one_round_trip(settings: Settings) -> None:
    database = _database(settings)
    sent: list[str] = []

    @event.listens_for(database.engine.sync_engine, "connect")
    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection._connection.add_query_logger(lambda record: sent.append(record.query))

    try:
        await _backend_pid(database)
        sent.clear()
        await _backend_pid(database)
    finally:
        await database.dispose()
    # The ping, then the transaction (whose prepared statements the logger does not see): no
    # BEGIN and ROLLBACK around a ping of its own.
    assert sent == ["SELECT 1", "BEGIN;", "COMMIT;"]


async def test_a_connection_the_server_dropped_is_replaced_at_checkout(settings: Settings) -> None:
    database = _database(settings)
    try:
        first = await _backend_pid(database)
        admin = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        # The pooled connection is dead: the ping finds it out, and the transaction runs on
        # a new one instead of failing.
        assert await _backend_pid(database) != first
    finally:
        await database.dispose()
