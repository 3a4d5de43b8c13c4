"""Words searched in the leads list: found in a lead's own title or in its contact's name, each
lead once, newest first, page by page either way; on PostgreSQL each half of the search is one
the planner answers from a trigram index (migration 0021), which migrates down and up again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from conftest import SECRET, GraphQL, run_admin_sql
from embedcrm.config import Settings
from embedcrm.fields.filters import LeadSpec
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.repository import LeadRepository
from embedcrm.migrations import alembic_config, upgrade_to_head
from factories import make_tenant

CREATE_LEAD = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
  lead { id title } userErrors { field message code } } }"""
PAGE = """query($first: Int, $after: String, $last: Int, $before: String, $filter: LeadFilter) {
  leads(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { title } } } }"""


async def lead(platform: GraphQL, workspace_id: str, name: str, title: str) -> None:
    phone = f"+7 9{uuid.uuid4().int % 10**9:09d}"
    data = await platform.data(
        CREATE_LEAD,
        input={
            "workspaceId": workspace_id,
            "channel": "CALL",
            "name": name,
            "title": title,
            "phone": phone,
        },
    )
    assert data["createLead"]["userErrors"] == [], data


def titles(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in page["edges"]]


async def test_a_word_is_found_in_titles_and_contact_names_once_each_page_by_page(
    platform: GraphQL,
) -> None:
    tenant = await make_tenant(platform)
    await lead(platform, tenant.workspace_id, "Анна Смирнова", "Букет")
    await lead(platform, tenant.workspace_id, "Олег", "Для Анны, к пятнице")
    await lead(platform, tenant.workspace_id, "Анна Ким", "Анна звонила")
    await lead(platform, tenant.workspace_id, "Олег Попов", "Розы")
    await lead(platform, tenant.workspace_id, "Ann_a%", "Знаки")
    wanted = ["Анна звонила", "Для Анны, к пятнице", "Букет"]
    search = {"search": "АНН"}

    whole = (await tenant.panel.data(PAGE, first=10, filter=search))["leads"]
    assert titles(whole) == wanted
    assert not whole["pageInfo"]["hasNextPage"]

    seen: list[str] = []
    after = None
    while True:
        page = (await tenant.panel.data(PAGE, first=1, after=after, filter=search))["leads"]
        seen += titles(page)
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == wanted

    # Backward: the last two, then the one before them.
    tail = (await tenant.panel.data(PAGE, last=2, filter=search))["leads"]
    assert titles(tail) == wanted[1:]
    assert tail["pageInfo"]["hasPreviousPage"]
    head = (
        await tenant.panel.data(PAGE, last=2, before=tail["pageInfo"]["startCursor"], filter=search)
    )["leads"]
    assert titles(head) == wanted[:1]
    assert not head["pageInfo"]["hasPreviousPage"]

    # LIKE's own signs are letters here, not wildcards; nothing found is an empty page.
    sign = (await tenant.panel.data(PAGE, first=10, filter={"search": "n_a%"}))["leads"]
    assert titles(sign) == ["Знаки"]
    none = (await tenant.panel.data(PAGE, first=10, filter={"search": "Зюзя"}))["leads"]
    assert titles(none) == [] and not none["pageInfo"]["hasNextPage"]
    # The pattern is written into the SQL (see searched_pattern): quotes and backslashes stay text.
    await lead(platform, tenant.workspace_id, "Д'Артаньян", "Шпага \\' OR 1=1 --")
    for typed in ("д'арт", "\\' or 1=1 --"):
        found = (await tenant.panel.data(PAGE, first=10, filter={"search": typed}))["leads"]
        assert titles(found) == ["Шпага \\' OR 1=1 --"], typed


async def test_each_half_of_a_search_is_answered_from_a_trigram_index_on_postgresql(
    platform: GraphQL, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no trigram index: it scans")
    tenant = await make_tenant(platform)
    await lead(platform, tenant.workspace_id, "Анна Смирнова", "Букет")
    ws = parse_global_id(tenant.workspace_id).row_id
    # As the tables' owner (who may analyze them), whatever role the app runs as.
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        # A workspace of 20 000 leads and contacts with names of their own, gone at rollback.
        params = {"ws": ws}
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        await connection.execute(
            text(
                "INSERT INTO contacts (workspace_id, id, name, search_text, custom_fields, "
                "first_touch, last_touch, created_at, updated_at) "
                "SELECT :ws, gen_random_uuid(), 'клиент ' || n, 'клиент ' || n, '{}', '{}', '{}', "
                "now() - n * interval '1 minute', now() FROM generate_series(1, 20000) n"
            ),
            params,
        )
        await connection.execute(
            text(
                "INSERT INTO leads (workspace_id, id, contact_id, pipeline_id, stage_id, title, "
                "status, search_text, custom_fields, click_ids, first_touch, value_set_by_hand, "
                "event_sequence, created_at, updated_at) "
                "SELECT c.workspace_id, gen_random_uuid(), c.id, l.pipeline_id, l.stage_id, "
                "'заказ ' || c.name, 'OPEN', 'заказ ' || c.name, '{}', '{}', '{}', false, 0, c.created_at, "
                "c.updated_at "
                "FROM contacts c, (SELECT * FROM leads WHERE workspace_id = :ws LIMIT 1) l "
                "WHERE c.workspace_id = :ws AND c.name LIKE 'клиент %'"
            ),
            params,
        )
        # New rows wait in a GIN index's pending list, read whole by every search, until a
        # vacuum moves them in; so does this.
        for index in ("ix_leads_search_trgm", "ix_contacts_search_trgm"):
            await connection.execute(text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
        await connection.execute(text("ANALYZE contacts"))
        await connection.execute(text("ANALYZE leads"))
        # At this size reading the whole table still costs about as little: priced out, the plan
        # shows whether the index serves the search at all (on 200 000 leads it is chosen alone).
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        repo = LeadRepository(AsyncSession(bind=connection), ws)
        spec = LeadSpec(search="смир")
        assert repo.splits_text_search(spec)
        plans = {}
        for place in ("lead", "contact"):
            stmt = (
                repo.matching(spec, {}, text_in=place)
                .order_by(text("created_at DESC, id DESC"))
                .limit(51)
            )
            compiled = stmt.compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
            rows = await connection.execute(text(f"EXPLAIN {compiled}"))
            plans[place] = "\n".join(row[0] for row in rows)
        await connection.rollback()
    await engine.dispose()
    assert "ix_leads_search_trgm" in plans["lead"], plans["lead"]
    assert "ix_contacts_search_trgm" in plans["contact"], plans["contact"]


def test_the_trigram_indexes_migrate_down_and_up_on_postgresql(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: on SQLite migration 0021 does nothing")
    base = make_url(database_url)
    name = f"embedcrm_test_trgm_{uuid.uuid4().hex[:8]}"
    run_admin_sql(base, f'CREATE DATABASE "{name}"')
    settings = Settings(
        secret_keys=(SECRET,),
        database_url=base.set(database=name).render_as_string(hide_password=False),
    )
    try:
        found = "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%search_trgm' ORDER BY 1"
        upgrade_to_head(settings)
        assert _names(base, name, found) == [
            "ix_contacts_search_trgm",
            "ix_leads_search_trgm",
        ]
        command.downgrade(alembic_config(settings), "0019")
        assert _names(base, name, found) == []
        upgrade_to_head(settings)
        assert len(_names(base, name, found)) == 2
    finally:
        run_admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _names(base: Any, database: str, sql: str) -> list[str]:
    async def fetch() -> list[str]:
        connection = await asyncpg.connect(
            host=base.host or "127.0.0.1",
            port=base.port or 5432,
            user=base.username or "postgres",
            password=base.password,
            database=database,
        )
        try:
            return [row[0] for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())
