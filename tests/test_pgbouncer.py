"""The loop through PgBouncer in transaction mode, in front of the test server.

PgBouncer hands each transaction whichever of its few server connections is free, so a
statement asyncpg prepared in one transaction is on another server connection in the next, and
two clients' statements of the same counter name (__asyncpg_stmt_1__) meet on one. With
EMBEDCRM_DATABASE_POOLER=pgbouncer no statement is cached or shares a name; without it the same
traffic fails, which the last test shows so that the first cannot pass by luck.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from own_postgres import PGBOUNCER, OwnPgBouncer, require_postgres_tools
from sqlalchemy.engine import make_url

from conftest import GraphQL
from embedcrm.config import Settings
from embedcrm.errors import ConfigurationError
from factories import app_with, make_tenant, services_of, submission, submit

PANEL_LEADS = "query { leads(first: 5) { totalCount edges { node { id contact { name } } } } }"
VISITORS = 6
FORMS_PER_VISITOR = 8


@pytest.fixture
async def pgbouncer(settings: Settings) -> AsyncIterator[OwnPgBouncer]:
    require_postgres_tools(PGBOUNCER)
    server = make_url(settings.database_url)
    bouncer = OwnPgBouncer(server.port or 5432, user=server.username or "postgres")
    try:
        await bouncer.start()
        yield bouncer
    finally:
        bouncer.remove()


async def _loop_under_load(client: httpx.AsyncClient) -> tuple[list[str], int, int]:
    """Visitors send forms while members read their panels, all at once; then the worker's
    pass. Answers: the errors seen, the forms accepted, the leads the panel counts."""
    services = services_of(client)
    key = await services.workspaces.create_platform_key("pgbouncer")
    tenants = [await make_tenant(GraphQL(client, key)) for _ in range(2)]
    errors: list[str] = []
    accepted = 0

    async def visitor(n: int) -> None:
        nonlocal accepted
        tenant = tenants[n % 2]
        for i in range(FORMS_PER_VISITOR):
            answer = await submit(client, tenant, submission(email=f"pgb{n}-{i}@example.com"))
            if answer.status_code == 202:
                accepted += 1
            else:
                errors.append(answer.text)
            read = await tenant.panel(PANEL_LEADS)
            errors.extend(error["message"] for error in read.get("errors", []))

    await asyncio.gather(*(visitor(n) for n in range(VISITORS)))
    await services.capture.retry_unprocessed()
    leads = 0
    for tenant in tenants:
        read = await tenant.panel(PANEL_LEADS)
        errors.extend(error["message"] for error in read.get("errors", []))
        if read.get("data"):
            leads += read["data"]["leads"]["totalCount"]
    return errors, accepted, leads


def _app_through(pgbouncer: OwnPgBouncer, settings: Settings, **changes: Any) -> Any:
    """The app connected through ``pgbouncer``, its pool larger than PgBouncer's, leads made
    by the worker's pass."""
    return app_with(
        settings,
        database_url=pgbouncer.url(settings.database_url),
        db_pool_size=8,
        process_submissions_inline=False,
        **changes,
    )


async def test_the_loop_runs_through_pgbouncer_in_transaction_mode(
    pgbouncer: OwnPgBouncer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with _app_through(pgbouncer, settings, database_pooler="pgbouncer") as client:
        errors, accepted, leads = await _loop_under_load(client)
    assert errors == []
    assert accepted == VISITORS * FORMS_PER_VISITOR
    # Every accepted form became one lead, read back through the pooler.
    assert leads == accepted
    assert "prepared statement" not in caplog.text
    assert "prepared statement" not in pgbouncer.log()


async def test_without_the_setting_prepared_statements_break_behind_pgbouncer(
    pgbouncer: OwnPgBouncer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    failure = ""
    async with _app_through(pgbouncer, settings) as client:
        # The first calls already fail: answered as internal errors and logged, or raised
        # where the test calls a service itself.
        try:
            await _loop_under_load(client)
        except Exception as exc:
            failure = str(exc)
    assert re.search(
        r'prepared statement "__asyncpg_stmt_[0-9a-f]+__" (does not exist|already exists)',
        caplog.text + failure,
    )


def test_the_database_settings_are_read_from_the_environment() -> None:
    env = {
        "EMBEDCRM_SECRET_KEYS": "k",
        "EMBEDCRM_DATABASE_URL": "postgresql+asyncpg://embedcrm_app@pgbouncer:6432/embedcrm",
        "EMBEDCRM_DATABASE_POOLER": " PgBouncer ",
        "EMBEDCRM_READ_DATABASE_URL": "postgresql+asyncpg://embedcrm_app@replica/embedcrm",
        "EMBEDCRM_DATABASE_ROW_SECURITY": "1",
    }
    settings = Settings.from_env(env)
    assert settings.database_pooler == "pgbouncer"
    assert settings.read_database_url == env["EMBEDCRM_READ_DATABASE_URL"]
    assert settings.database_row_security
    plain = Settings.from_env({"EMBEDCRM_SECRET_KEYS": "k"})
    assert (plain.database_pooler, plain.read_database_url, plain.database_row_security) == (
        "",
        None,
        False,
    )
    with pytest.raises(ConfigurationError, match="EMBEDCRM_DATABASE_POOLER"):
        Settings.from_env({**env, "EMBEDCRM_DATABASE_POOLER": "pgpool"})
