"""Times come back from the database aware and in UTC, on both databases: on PostgreSQL as
asyncpg decodes them, with no conversion of the application's own (embedcrm.db.UTCDateTime)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, text

import embedcrm.models  # noqa: F401  (every table in the metadata)
from embedcrm.config import Settings
from embedcrm.db import Base, Database, UTCDateTime
from embedcrm.services import Services


async def test_a_time_reads_back_aware_in_utc(services: Services) -> None:
    moscow = datetime(2026, 3, 8, 12, 30, 15, 250000, tzinfo=timezone(timedelta(hours=3)))
    postgresql = services.db.dialect == "postgresql"
    statement = (
        text("SELECT CAST(:at AS timestamptz) AS at" if postgresql else "SELECT :at AS at")
        .bindparams(bindparam("at", moscow, type_=UTCDateTime()))
        .columns(at=UTCDateTime())
    )
    async with services.db.transaction() as session:
        if postgresql:
            # The session's time zone does not change what comes back.
            await session.execute(text("SET LOCAL TIME ZONE 'America/Sao_Paulo'"))
        read = await session.scalar(statement)
    assert read == moscow
    assert read is not None and read.tzinfo is UTC


async def test_every_time_column_is_timestamptz_on_postgresql(settings: Settings) -> None:
    """What lets UTCDateTime leave asyncpg's datetimes as they come (result_processor)."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    columns = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, UTCDateTime)
    }
    assert columns
    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            types = dict(
                ((table, column), data_type)
                for table, column, data_type in await session.execute(
                    text(
                        "SELECT table_name, column_name, data_type FROM information_schema.columns"
                        " WHERE table_schema = current_schema()"
                    )
                )
            )
    finally:
        await database.dispose()
    assert {types[c] for c in columns} == {"timestamp with time zone"}
