"""The inbox's "new and unanswered leads first" order: open leads no member has answered come
first, newest first, then the others; pages by keyset across the two runs, and the first run is
read in order from an index (ix_leads_waiting, or another ending in created_at, id), never sorted."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from crm_support import new_lead
from sqlalchemy import select, text

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.leads.models import Lead
from embedcrm.leads.repository import WAITING
from embedcrm.services import Services
from factories import make_tenant

PAGE = """query($first: Int, $after: String, $last: Int, $sort: LeadSort!, $filter: LeadFilter) {
  leads(first: $first, after: $after, last: $last, sort: $sort, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { title } } } }"""
NOTE = """mutation($input: AddActivityInput!) { addActivity(input: $input) {
  userErrors { message } } }"""
MOVE = """mutation($input: MoveLeadInput!) { moveLead(input: $input) { userErrors { message } } }"""


async def every_title(
    api: GraphQL, first: int, filter: dict[str, Any] | None = None
) -> tuple[list[str], int]:
    titles: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        data = await api.data(
            PAGE, first=first, after=after, sort="UNANSWERED_FIRST", filter=filter
        )
        page = data["leads"]
        titles += [edge["node"]["title"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            return titles, pages
        after = page["pageInfo"]["endCursor"]


async def test_unanswered_open_leads_come_first_and_pages_cross_the_two_runs(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant, other = await make_tenant(platform), await make_tenant(platform)
    leads = [await new_lead(client, tenant, name=f"Клиент {n}") for n in range(6)]
    # The other workspace's waiting leads never show here.
    await new_lead(client, other, name="Чужой")
    titles = [lead["title"] for lead in leads]
    # Leads 1 and 3 are answered (a note by a member); lead 4 is won without an answer.
    for answered in (leads[1], leads[3]):
        done = await tenant.panel.data(
            NOTE, input={"leadId": answered["id"], "kind": "NOTE", "body": "Перезвонил"}
        )
        assert done["addActivity"]["userErrors"] == []
    stages = (await tenant.panel.data("{ pipelines { stages { id kind } } }"))["pipelines"][0]
    won = next(s for s in stages["stages"] if s["kind"] == "WON")
    moved = await tenant.panel.data(
        MOVE, input={"leadId": leads[4]["id"], "stageId": won["id"], "reason": "Оплачено"}
    )
    assert moved["moveLead"]["userErrors"] == []

    newest_first = titles[::-1]
    waiting = [titles[5], titles[2], titles[0]]
    expected = waiting + [t for t in newest_first if t not in waiting]
    for size in (1, 2, 3, 4, 50):
        found, pages = await every_title(tenant.panel, size)
        assert found == expected, size
        assert pages == -(-len(expected) // size)
    # Only the open ones: the won lead is not there at all.
    open_only, _ = await every_title(tenant.panel, 2, {"status": "OPEN"})
    assert open_only == [t for t in expected if t != titles[4]]
    # The count is the filter's, whatever the order.
    data = await tenant.panel.data(PAGE, first=1, sort="UNANSWERED_FIRST")
    assert data["leads"]["totalCount"] == 6
    # Once answered, a lead joins the others.
    await tenant.panel.data(
        NOTE, input={"leadId": leads[5]["id"], "kind": "CALL", "body": "Дозвонились"}
    )
    found, _ = await every_title(tenant.panel, 2)
    assert found[:2] == [titles[2], titles[0]] and found[2] == titles[5]


async def test_cursors_of_another_order_and_backward_pages_are_refused(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    await new_lead(client, tenant)
    await new_lead(client, tenant)
    newest = await tenant.panel.data(PAGE, first=1, sort="NEWEST")
    cursor = newest["leads"]["pageInfo"]["endCursor"]
    for after in (cursor, "x.", "w.", "w.%%%", "r." + "A" * 20):
        body = await tenant.panel(PAGE, first=1, after=after, sort="UNANSWERED_FIRST")
        assert body["errors"][0]["extensions"]["code"] == "bad_request", after
    for after in ("w.\x00", "w.\ud800"):
        response = await client.post(
            "/graphql",
            # As the JSON escapes \u0000 and \ud800 arrive from a client.
            content=json.dumps({"query": PAGE, "variables": {"after": after, "sort": "NEWEST"}}),
            headers={
                "Authorization": f"Bearer {tenant.panel.bearer}",
                "content-type": "application/json",
            },
        )
        assert response.status_code == 400
    backward = await tenant.panel(PAGE, last=1, sort="UNANSWERED_FIRST")
    assert backward["errors"][0]["extensions"]["code"] == "invalid"


async def test_the_first_run_is_read_in_order_from_an_index(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    await new_lead(client, tenant)
    ws = parse_global_id(tenant.workspace_id).row_id
    stmt = (
        select(Lead.id)
        .where(Lead.workspace_id == ws, WAITING)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(51)
    )
    async with services.db.engine.connect() as connection:
        dialect = connection.dialect.name
        compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        if dialect == "postgresql":
            # Local to this connection's transaction. A tiny workspace would be scanned whole or
            # sorted (both cheap at this size): with both priced out, the plan shows whether an
            # index gives this order at all.
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            await connection.execute(text("SET LOCAL enable_sort = off"))
            plan = "\n".join(
                row[0] for row in await connection.execute(text(f"EXPLAIN {compiled}"))
            )
        elif dialect == "sqlite":
            plan = "\n".join(
                str(row[-1])
                for row in await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        else:
            pytest.skip(dialect)
        await connection.rollback()
    # An index in the page's order, never a sort of the workspace's leads.
    if dialect == "postgresql":
        assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan
    # One of the leads' indexes in keyset order: the partial one, or a (…, created_at, id) one.
    assert re.search(r"ix_leads_waiting|ix_leads_workspace_id_\w*created_at_id", plan), plan
