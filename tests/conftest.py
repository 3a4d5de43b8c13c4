"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when EMBEDCRM_TEST_DATABASE_URL
names a server), the app driven over HTTP in-process, a platform key, and GraphQL helpers."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

from embedcrm.app import create_app
from embedcrm.config import Settings
from embedcrm.migrations import alembic_config, upgrade_to_head
from embedcrm.services import Services
from embedcrm.webhooks.outbox import OutboxRepository
from event_schemas import problems

SECRET = "test-secret-key-0123456789"
# Real Chromium against the app under uvicorn, for the widget's and the example site's tests.
pytest_plugins = ["browser_support"]


def run_admin_sql(url: URL, sql: str, *, database: str = "postgres") -> None:
    """One statement (or several, ;-separated) on a connection of its own, outside any
    transaction: on the maintenance database (CREATE DATABASE, roles), or on ``database``."""

    async def run() -> None:
        connection = await asyncpg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            database=database,
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@contextmanager
def database_at(
    tmp_path_factory: pytest.TempPathFactory, revision: str, *, prefix: str
) -> Iterator[Settings]:
    """A database of a test's own, migrated to ``revision`` (the shared one is at the head):
    a file on SQLite, or a database named ``prefix_…`` on the test server, dropped after."""
    server = os.environ.get("EMBEDCRM_TEST_DATABASE_URL")
    if not server:
        path = tmp_path_factory.mktemp(prefix) / "embedcrm.db"
        settings = Settings(secret_keys=(SECRET,), database_url=f"sqlite+aiosqlite:///{path}")
        command.upgrade(alembic_config(settings), revision)
        yield settings
        return
    base = make_url(server)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    run_admin_sql(base, f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        settings = Settings(secret_keys=(SECRET,), database_url=url)
        command.upgrade(alembic_config(settings), revision)
        yield settings
    finally:
        run_admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for the whole run."""
    server = os.environ.get("EMBEDCRM_TEST_DATABASE_URL")
    if not server:
        path: Path = tmp_path_factory.mktemp("db") / "embedcrm.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=url))
        yield url
        return
    # A database of its own per run, so runs never see each other's rows.
    base = make_url(server)
    name = f"embedcrm_test_{uuid.uuid4().hex[:10]}"
    run_admin_sql(base, f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(Settings(secret_keys=(SECRET,), database_url=url))
    yield url
    run_admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> Iterator[str]:
    """What the app under test connects as: the tables' owner, or with
    EMBEDCRM_TEST_ROW_SECURITY=1 on PostgreSQL a role that does not own them, which row-level
    security binds (docs/operations.md): the whole suite then runs as production may."""
    if not _row_security_run(database_url):
        yield database_url
        return
    # Imported here: own_postgres imports browser_support, which imports this module.
    from own_postgres import role_without_ownership

    # Processes a test starts (serve, worker) inherit the environment: they bind too.
    with (
        role_without_ownership(make_url(database_url)) as role,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("EMBEDCRM_DATABASE_ROW_SECURITY", "1")
        yield role.render_as_string(hide_password=False)


def _row_security_run(database_url: str) -> bool:
    wanted = os.environ.get("EMBEDCRM_TEST_ROW_SECURITY", "") not in ("", "0")
    return wanted and not database_url.startswith("sqlite")


@pytest.fixture(scope="session")
def settings(database_url: str, app_database_url: str) -> Settings:
    return Settings(
        secret_keys=(SECRET,),
        database_url=app_database_url,
        database_row_security=_row_security_run(database_url),
        public_url="http://crm.test",
        webhook_allowed_networks="127.0.0.0/8",
        # Limits have tests of their own; elsewhere one visitor sends many forms quickly.
        rate_limit_per_visitor="",
        rate_limit_per_site="",
        rate_limit_events_per_visitor="",
        form_token_max_uses=0,
    )


@pytest.fixture(autouse=True)
def emitted_events_match_their_schemas(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every event written to the outbox during a test must match its published schema exactly:
    a payload property that the event's class in embedcrm.events does not declare fails the test
    that emitted it. Checked after the test, since the dispatcher and the intake write from
    background tasks, whose errors would only be logged."""
    emitted: list[dict[str, Any]] = []
    record = OutboxRepository.record

    def recording(self: OutboxRepository, *args: Any, **kwargs: Any) -> Any:
        row = record(self, *args, **kwargs)
        emitted.append(row.payload)
        return row

    monkeypatch.setattr(OutboxRepository, "record", recording)
    yield
    wrong = {
        f"{payload.get('type')} #{n}": found
        for n, payload in enumerate(emitted)
        if (found := problems(payload))
    }
    assert not wrong, f"emitted events that do not match their schemas: {wrong}"


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = Services.create(settings)
    yield services
    await services.db.dispose()


@pytest.fixture(scope="session")
async def client(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        yield client


@pytest.fixture(scope="session")
async def platform_key(services: Services) -> str:
    return await services.workspaces.create_platform_key("tests")


@dataclass
class GraphQL:
    """Posts GraphQL documents with one bearer credential."""

    client: httpx.AsyncClient
    bearer: str

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.bearer}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def platform(client: httpx.AsyncClient, platform_key: str) -> GraphQL:
    return GraphQL(client, platform_key)


@contextmanager
def counting_queries(services: Services) -> Iterator[list[str]]:
    """The SQL statements ``services`` runs inside the block (transaction control left out)."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Transaction control, and the row-security binding that opens each transaction when
        # the app's role is bound by it (EMBEDCRM_TEST_ROW_SECURITY): one per transaction, like
        # BEGIN, so the counts mean the same either way.
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SELECT SET_CONFIG("))
        ):
            statements.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
