"""Money on a lead: the value follows the cart until a person sets it, a value needs no currency
where the workspace has one, a win with no value is flagged, and the close reason is a field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from crm_support import new_lead

from conftest import GraphQL
from factories import make_tenant

UPDATE_LEAD = """mutation($input: UpdateLeadInput!) { updateLead(input: $input) {
  lead { id value currency valueSetByHand } userErrors { field message code } } }"""
ITEMS = """mutation($lead: ID!, $items: [LeadItemInput!]!) { setLeadItems(input: {leadId: $lead, items: $items}) {
  lead { value currency itemsTotal valueSetByHand } userErrors { field code } } }"""
PIPELINES = "{ pipelines { stages { id kind } } }"
MOVE = """mutation($lead: ID!, $stage: ID!, $reason: String) {
  moveLead(input: {leadId: $lead, stageId: $stage, reason: $reason}) {
    lead { status closeReason } userErrors { code } warnings { field message code } } }"""
BULK_MOVE = """mutation($leads: [ID!]!, $stage: ID!) { bulkMoveLeads(input: {leadIds: $leads, stageId: $stage}) {
  leads { status } userErrors { code } warnings { field code } } }"""
REPORTS = """query($filter: AnalyticsFilter!) { analytics(filter: $filter) {
  managers { won wonWithoutValue revenue } sources { won wonWithoutValue revenue } } }"""


async def stage_of(tenant: Any, kind: str) -> str:
    stages = (await tenant.panel.data(PIPELINES))["pipelines"][0]["stages"]
    return str(next(s["id"] for s in stages if s["kind"] == kind))


async def test_the_value_follows_the_cart_until_it_is_set_by_hand(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    cart = [
        {"product": "Букет", "quantity": "2", "unitPrice": "1500"},
        {"product": "Открытка", "quantity": "1", "unitPrice": "150.5"},
    ]
    first = (await tenant.panel.data(ITEMS, lead=lead["id"], items=cart))["setLeadItems"]
    assert first["lead"] == {
        "value": "3150.50",
        "currency": "RUB",
        "itemsTotal": "3150.50",
        "valueSetByHand": False,
    }
    smaller = (await tenant.panel.data(ITEMS, lead=lead["id"], items=cart[:1]))["setLeadItems"]
    assert smaller["lead"]["value"] == "3000.00"

    by_hand = await tenant.panel.data(UPDATE_LEAD, input={"id": lead["id"], "value": "2500"})
    assert by_hand["updateLead"]["lead"]["valueSetByHand"] is True
    kept = (await tenant.panel.data(ITEMS, lead=lead["id"], items=cart))["setLeadItems"]
    assert (kept["lead"]["value"], kept["lead"]["itemsTotal"]) == ("2500.00", "3150.50")

    # Clearing the value hands it back to the cart.
    cleared = await tenant.panel.data(UPDATE_LEAD, input={"id": lead["id"], "value": None})
    assert cleared["updateLead"]["lead"]["value"] == "3150.50"
    assert cleared["updateLead"]["lead"]["valueSetByHand"] is False
    emptied = (await tenant.panel.data(ITEMS, lead=lead["id"], items=[]))["setLeadItems"]
    assert emptied["lead"]["value"] is None


async def test_a_value_without_a_currency_takes_the_workspace_currency(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant)
    updated = await tenant.panel.data(UPDATE_LEAD, input={"id": lead["id"], "value": "990"})
    assert updated["updateLead"]["userErrors"] == []
    assert (updated["updateLead"]["lead"]["value"], updated["updateLead"]["lead"]["currency"]) == (
        "990.00",
        "RUB",
    )
    bad = await tenant.panel.data(UPDATE_LEAD, input={"id": lead["id"], "currency": "рубли"})
    assert bad["updateLead"]["userErrors"][0]["field"] == "currency"


async def test_a_win_without_a_value_is_warned_about_and_counted_in_reports(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    won = await stage_of(tenant, "WON")
    bare = await new_lead(client, tenant)
    moved = (await tenant.panel.data(MOVE, lead=bare["id"], stage=won))["moveLead"]
    assert moved["userErrors"] == []
    assert moved["lead"]["status"] == "WON"
    assert [(w["field"], w["code"]) for w in moved["warnings"]] == [("value", "won_without_value")]

    priced = await new_lead(client, tenant)
    await tenant.panel.data(UPDATE_LEAD, input={"id": priced["id"], "value": "1000"})
    other = await new_lead(client, tenant)
    bulk = (await tenant.panel.data(BULK_MOVE, leads=[priced["id"], other["id"]], stage=won))[
        "bulkMoveLeads"
    ]
    assert bulk["warnings"] == [{"field": "leadIds[1]", "code": "won_without_value"}]

    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    reports = (await tenant.panel.data(REPORTS, filter=period))["analytics"]
    assert reports["managers"] == [{"won": 3, "wonWithoutValue": 2, "revenue": "1000.00"}]
    assert reports["sources"] == [{"won": 3, "wonWithoutValue": 2, "revenue": "1000.00"}]


async def test_the_close_reason_is_a_field_and_a_filter(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lost, first = await stage_of(tenant, "LOST"), await stage_of(tenant, "OPEN")
    expensive = await new_lead(client, tenant)
    silent = await new_lead(client, tenant)
    await new_lead(client, tenant)
    moved = await tenant.panel.data(MOVE, lead=expensive["id"], stage=lost, reason=" Дорого ")
    assert moved["moveLead"]["lead"]["closeReason"] == "Дорого"
    await tenant.panel.data(MOVE, lead=silent["id"], stage=lost, reason="Не дозвонились")

    query = """query($f: LeadFilter) { leads(filter: $f) { totalCount edges { node { id } } } }"""
    found = (await tenant.panel.data(query, f={"closeReason": "Дорого"}))["leads"]
    assert found["totalCount"] == 1
    assert found["edges"][0]["node"]["id"] == expensive["id"]
    both = await tenant.panel.data(query, f={"status": "LOST"})
    assert both["leads"]["totalCount"] == 2

    # Open again, the lead has no outcome and so no reason.
    reopened = await tenant.panel.data(MOVE, lead=expensive["id"], stage=first)
    assert reopened["moveLead"]["lead"] == {"status": "OPEN", "closeReason": None}
    again = await tenant.panel.data(query, f={"closeReason": "Дорого"})
    assert again["leads"]["totalCount"] == 0
