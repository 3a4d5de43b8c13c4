"""``totalCountUpTo``: the leads and contacts lists count no further than a limit, exact below
it and saying so at it and above, through the same role scoping as ``totalCount`` (a MANAGER
counts only what they see), with a clear error for a limit out of range; on PostgreSQL a
searched word is counted as the page reads it, in the lead's own text and its contact's apart."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from crm_support import errors_of, panel_as

from conftest import GraphQL
from factories import make_tenant

CREATE_LEAD = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
  lead { id contact { id } } userErrors { field message code } } }"""
ASSIGN = """mutation($lead: ID!, $who: ID) { assignLead(input: {leadId: $lead, assigneeId: $who}) {
  lead { id } userErrors { code } } }"""
LEADS = """query($filter: LeadFilter, $limit: Int!) { leads(first: 1, filter: $filter) {
  totalCount totalCountUpTo(limit: $limit) { count reachedLimit } } }"""
CONTACTS = """query($filter: ContactFilter, $limit: Int!) { contacts(first: 1, filter: $filter) {
  totalCount totalCountUpTo(limit: $limit) { count reachedLimit } } }"""


async def add_lead(panel: GraphQL, workspace_id: str, name: str, title: str) -> dict[str, Any]:
    data = await panel.data(
        CREATE_LEAD,
        input={
            "workspaceId": workspace_id,
            "channel": "CALL",
            "name": name,
            "title": title,
            "phone": f"+7 9{uuid.uuid4().int % 10**9:09d}",
        },
    )
    assert data["createLead"]["userErrors"] == [], data
    lead: dict[str, Any] = data["createLead"]["lead"]
    return lead


async def counted(
    panel: GraphQL, query: str, limit: int, **variables: Any
) -> tuple[int, int, bool]:
    data = await panel.data(query, limit=limit, **variables)
    found = data["leads" if "leads(" in query else "contacts"]
    bounded = found["totalCountUpTo"]
    return found["totalCount"], bounded["count"], bounded["reachedLimit"]


async def test_a_count_is_exact_below_its_limit_and_says_so_at_it_and_above(
    platform: GraphQL,
) -> None:
    tenant = await make_tenant(platform)
    ws, owner = tenant.workspace_id, tenant.panel
    # "Анна" in three titles and three contact names, once in both: five leads, not six.
    await add_lead(platform, ws, "Анна Смирнова", "Букет")
    await add_lead(platform, ws, "Анна Ким", "Анна звонила")
    await add_lead(platform, ws, "Олег", "Для Анны, к пятнице")
    await add_lead(platform, ws, "Анна Лис", "Розы")
    await add_lead(platform, ws, "Пётр", "Анна просила перезвонить")
    await add_lead(platform, ws, "Олег Попов", "Тюльпаны")
    await add_lead(platform, ws, "Ирина", "Гвоздики")

    assert await counted(owner, LEADS, 10) == (7, 7, False)
    assert await counted(owner, LEADS, 8) == (7, 7, False)
    assert await counted(owner, LEADS, 7) == (7, 7, True)
    assert await counted(owner, LEADS, 3) == (7, 3, True)
    assert await counted(owner, LEADS, 1) == (7, 1, True)

    word = {"search": "анн"}
    assert await counted(owner, LEADS, 6, filter=word) == (5, 5, False)
    assert await counted(owner, LEADS, 5, filter=word) == (5, 5, True)
    # Each half alone holds three: the union reaches the limit though neither half does.
    assert await counted(owner, LEADS, 4, filter=word) == (5, 4, True)
    assert await counted(owner, LEADS, 2, filter=word) == (5, 2, True)
    nobody = {"search": "зюзя"}
    assert await counted(owner, LEADS, 5, filter=nobody) == (0, 0, False)

    assert await counted(owner, CONTACTS, 100) == (7, 7, False)
    assert await counted(owner, CONTACTS, 7) == (7, 7, True)
    assert await counted(owner, CONTACTS, 2) == (7, 2, True)
    assert await counted(owner, CONTACTS, 4, filter={"search": "анна"}) == (3, 3, False)
    assert await counted(owner, CONTACTS, 3, filter={"search": "анна"}) == (3, 3, True)

    # The default limit is 10 000; any other list clamps its exact count.
    data = await owner.data(
        """{ leads(first: 1) { totalCountUpTo { count reachedLimit } }
        contacts(first: 1) { edges { node { leads { totalCountUpTo(limit: 1) {
          count reachedLimit } } } } } }"""
    )
    assert data["leads"]["totalCountUpTo"] == {"count": 7, "reachedLimit": False}
    assert data["contacts"]["edges"][0]["node"]["leads"]["totalCountUpTo"] == {
        "count": 1,
        "reachedLimit": True,
    }


async def test_a_manager_counts_only_the_leads_and_contacts_they_see(
    platform: GraphQL,
) -> None:
    tenant = await make_tenant(platform)
    ws = tenant.workspace_id
    anna, anna_id = await panel_as(platform, tenant, "MANAGER")
    boris, boris_id = await panel_as(platform, tenant, "MANAGER")
    annas = [await add_lead(platform, ws, f"Анна {n}", f"Заказ {n}") for n in range(3)]
    boriss = [await add_lead(platform, ws, f"Борис {n}", f"Заказ {n}") for n in range(3)]
    # A manager sees their own leads and the unassigned ones.
    await add_lead(platform, ws, "Зоя", "Никому пока")
    for who, leads in ((anna_id, annas), (boris_id, boriss)):
        for lead in leads:
            assigned = await tenant.panel.data(ASSIGN, lead=lead["id"], who=who)
            assert errors_of(assigned["assignLead"]) == []

    assert await counted(tenant.panel, LEADS, 5) == (7, 5, True)
    assert await counted(anna, LEADS, 5) == (4, 4, False)
    assert await counted(anna, LEADS, 4) == (4, 4, True)
    assert await counted(anna, LEADS, 2) == (4, 2, True)
    assert await counted(anna, LEADS, 4, filter={"search": "анна"}) == (3, 3, False)
    assert await counted(anna, LEADS, 2, filter={"search": "анна"}) == (3, 2, True)
    assert await counted(boris, LEADS, 100) == (4, 4, False)
    assert await counted(boris, LEADS, 5, filter={"search": "анна"}) == (0, 0, False)
    assert await counted(tenant.panel, LEADS, 5, filter={"search": "анна"}) == (3, 3, False)

    owner_contacts = await counted(tenant.panel, CONTACTS, 100)
    assert owner_contacts == (7, 7, False)
    annas_contacts, _, _ = await counted(anna, CONTACTS, 100)
    assert annas_contacts < 7
    assert await counted(anna, CONTACTS, 100) == (annas_contacts, annas_contacts, False)
    assert await counted(anna, CONTACTS, 1) == (annas_contacts, 1, True)


@pytest.mark.parametrize("limit", [0, -1, -(2**31), 100_001, 2**31 - 1])
async def test_a_limit_out_of_range_is_refused_with_a_clear_error(
    platform: GraphQL, limit: int
) -> None:
    tenant = await make_tenant(platform)
    await add_lead(platform, tenant.workspace_id, "Анна", "Букет")
    for query in (LEADS, CONTACTS):
        body = await tenant.panel(query, limit=limit)
        (error,) = body["errors"]
        assert "limit is from 1 to 100000" in error["message"], error
        assert error["extensions"]["code"] == "invalid", error
        assert error["path"][-1] == "totalCountUpTo"


async def test_a_limit_beyond_a_graphql_int_or_not_a_number_is_refused(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    for limit in (2**31, 1.5, "10", None):
        body = await tenant.panel(LEADS, limit=limit)
        assert body.get("data") is None and body["errors"], body
        assert "$limit" in body["errors"][0]["message"], body
