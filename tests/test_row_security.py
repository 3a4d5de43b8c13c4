"""Row-level security on PostgreSQL: the app's role is not the tables' owner, and a query that
forgot its workspace condition still sees one workspace's rows.

Migration 0017 gives every table with a workspace_id a policy on it, which binds a role that
does not own the tables (the owner, and superusers like the tests' own connection, are not
bound). The test makes such a role, connects as it, and drives the loop through the app as it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from own_postgres import in_thread, role_without_ownership
from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from conftest import GraphQL
from embedcrm.config import Settings
from embedcrm.db import Base
from embedcrm.ids import parse_global_id
from embedcrm.kit.repository import WorkspaceRepository
from factories import Tenant, app_with, make_tenant, services_of, submission, submit

PANEL_LEADS = "query { leads(first: 50) { totalCount edges { node { id contact { email } } } } }"


def _server(database_url: str) -> URL:
    """The test database as its owner (the app's settings may name a bound role)."""
    if database_url.startswith("sqlite"):
        pytest.skip("row-level security is PostgreSQL's; SQLite is one file of one owner")
    return make_url(database_url)


@pytest.fixture
def app_role(database_url: str) -> Iterator[URL]:
    with role_without_ownership(_server(database_url)) as role:
        yield role


async def _connect(url: URL) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )


async def _two_tenants_with_leads(platform: GraphQL) -> tuple[Tenant, Tenant]:
    first, second = await make_tenant(platform), await make_tenant(platform)
    for tenant in (first, second):
        tag = uuid.uuid4().hex[:8]
        answer = await submit(platform.client, tenant, submission(email=f"rls-{tag}@example.com"))
        assert answer.status_code == 202, answer.text
    return first, second


def _uuid(global_id: str) -> uuid.UUID:
    return parse_global_id(global_id).workspace_id


def test_every_workspace_owned_table_has_the_policy(database_url: str) -> None:
    """A table added with a workspace_id and no policy would be open to the app's role."""
    server = _server(database_url)
    owned = sorted(t.name for t in Base.metadata.sorted_tables if "workspace_id" in t.columns)
    assert owned, "no workspace-owned tables found in the models"

    async def protected() -> dict[str, tuple[bool, int]]:
        connection = await _connect(server)
        try:
            rows = await connection.fetch(
                "SELECT c.relname, c.relrowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                "FROM pg_class c WHERE c.relname = ANY($1::text[]) AND c.relkind = 'r' "
                "AND c.relnamespace = 'public'::regnamespace",
                owned,
            )
        finally:
            await connection.close()
        return {row["relname"]: (row["relrowsecurity"], row["policies"]) for row in rows}

    found = in_thread(protected())
    assert found == {name: (True, 1) for name in owned}


async def test_a_query_without_its_workspace_condition_sees_one_workspace(
    app_role: URL, platform: GraphQL
) -> None:
    first, second = await _two_tenants_with_leads(platform)
    connection = await _connect(app_role)
    try:

        async def leads_seen(scope: str | None) -> set[uuid.UUID]:
            async with connection.transaction():
                if scope is not None:
                    await connection.execute(
                        "SELECT set_config('embedcrm.workspace_id', $1, true)", scope
                    )
                # The forgotten filter: every lead of every workspace, as far as SQL goes.
                rows = await connection.fetch("SELECT workspace_id FROM leads")
            return {row["workspace_id"] for row in rows}

        mine, theirs = _uuid(first.workspace_id), _uuid(second.workspace_id)
        assert await leads_seen(str(mine)) == {mine}
        assert await leads_seen(str(theirs)) == {theirs}
        # Nothing named, nothing seen (also after a transaction that named one).
        assert await leads_seen(None) == set()
        # The narrow bypass of the system paths sees both.
        assert {mine, theirs} <= await leads_seen("*")
        # Writing into another workspace is refused as well (WITH CHECK).
        async with connection.transaction():
            await connection.execute(
                "SELECT set_config('embedcrm.workspace_id', $1, true)", str(mine)
            )
            updated = await connection.execute(
                "UPDATE leads SET title = title WHERE workspace_id = $1", theirs
            )
        assert updated == "UPDATE 0"
    finally:
        await connection.close()


@pytest.fixture
def forgetful_repositories(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every repository forgets its workspace condition: the bug row-level security is for."""

    def every_workspace(self: WorkspaceRepository[Any]) -> Any:
        return select(self.model)

    monkeypatch.setattr(WorkspaceRepository, "select", every_workspace)


async def test_the_loop_runs_as_the_app_role_and_a_forgotten_filter_leaks_nothing(
    app_role: URL, settings: Settings
) -> None:
    role_url = app_role.render_as_string(hide_password=False)
    async with app_with(settings, database_url=role_url, database_row_security=True) as client:
        services = services_of(client)
        key = await services.workspaces.create_platform_key("row security")
        platform = GraphQL(client, key)
        first, second = await _two_tenants_with_leads(platform)
        # The loop as the role: accepted, made into a lead, read in the panel.
        for tenant in (first, second):
            read = await tenant.panel.data(PANEL_LEADS)
            assert read["leads"]["totalCount"] == 1
        assert services.db.row_security


async def test_a_member_request_with_a_forgotten_filter_sees_only_its_workspace(
    app_role: URL, settings: Settings, database_url: str, request: pytest.FixtureRequest
) -> None:
    role_url = app_role.render_as_string(hide_password=False)
    async with app_with(settings, database_url=role_url, database_row_security=True) as client:
        platform = GraphQL(client, await services_of(client).workspaces.create_platform_key("rls"))
        first, _second = await _two_tenants_with_leads(platform)
        request.getfixturevalue("forgetful_repositories")
        seen = await first.panel.data(PANEL_LEADS)
    assert seen["leads"]["totalCount"] == 1
    # The same forgetful code as the owner, whom the policies do not bind, shows the leak that
    # row-level security stopped above: the test would fail without the policies.
    async with app_with(
        settings, database_url=database_url, database_row_security=False
    ) as owner_client:
        leaked = await GraphQL(owner_client, first.panel.bearer).data(PANEL_LEADS)
    assert leaked["leads"]["totalCount"] > 1
