"""Custom fields, tags, segments, search, bulk actions and CSV export (K6, K7)."""

from __future__ import annotations

import csv
import io

import httpx
from crm_support import errors_of, new_lead, panel_as

from conftest import GraphQL
from factories import make_tenant

FIELD = """mutation($input: CreateCustomFieldInput!) { createCustomField(input: $input) {
  customField { id key type options } userErrors { field code } } }"""
UPDATE_LEAD = """mutation($input: UpdateLeadInput!) { updateLead(input: $input) {
  lead { customFields } userErrors { field message code } } }"""
FILTERED = """query($filter: LeadFilter, $segment: ID) { leads(filter: $filter, segmentId: $segment) {
  totalCount edges { node { id title tags { name } } } } }"""
TAG = """mutation($ids: [ID!]!, $add: [String!]!, $remove: [String!]!) {
  tagRecords(input: {ids: $ids, add: $add, remove: $remove}) { leads { tags { name } } contacts { tags { name } } userErrors { field code } } }"""
SEGMENT = """mutation($name: String!, $lf: LeadFilter, $cf: ContactFilter) {
  createSegment(input: {name: $name, leadFilter: $lf, contactFilter: $cf}) { segment { id name count entity } userErrors { field code } } }"""


async def test_custom_fields_are_typed_validated_and_filterable(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    made = await tenant.panel.data(
        FIELD, input={"entity": "LEAD", "key": "budget", "label": "Бюджет", "type": "NUMBER"}
    )
    assert made["createCustomField"]["userErrors"] == []
    await tenant.panel.data(
        FIELD,
        input={
            "entity": "LEAD",
            "key": "size",
            "label": "Размер",
            "type": "CHOICE",
            "options": ["S", "M", "L"],
        },
    )
    await tenant.panel.data(
        FIELD, input={"entity": "LEAD", "key": "event_day", "label": "Дата", "type": "DATE"}
    )
    again = await tenant.panel.data(
        FIELD, input={"entity": "LEAD", "key": "budget", "label": "x", "type": "TEXT"}
    )
    assert errors_of(again["createCustomField"]) == ["conflict"]
    choice_without = await tenant.panel.data(
        FIELD, input={"entity": "LEAD", "key": "c", "label": "x", "type": "CHOICE"}
    )
    assert choice_without["createCustomField"]["userErrors"][0]["field"] == "options"
    first, second = await new_lead(client, tenant), await new_lead(client, tenant)
    ok = await tenant.panel.data(
        UPDATE_LEAD,
        input={
            "id": first["id"],
            "customFields": {"budget": "15000", "size": "M", "event_day": "2026-12-31"},
        },
    )
    assert ok["updateLead"]["lead"]["customFields"]["budget"] == 15000
    await tenant.panel.data(
        UPDATE_LEAD, input={"id": second["id"], "customFields": {"budget": 500, "size": "S"}}
    )
    for bad, field in (
        ({"budget": "много"}, "customFields.budget"),
        ({"size": "XXL"}, "customFields.size"),
        ({"event_day": "31.12"}, "customFields.event_day"),
    ):
        refused = await tenant.panel.data(
            UPDATE_LEAD, input={"id": first["id"], "customFields": bad}
        )
        assert refused["updateLead"]["userErrors"][0]["field"] == field
    big = await tenant.panel.data(
        FILTERED, filter={"custom": [{"key": "budget", "op": "GTE", "value": 1000}]}
    )
    assert [e["node"]["id"] for e in big["leads"]["edges"]] == [first["id"]]
    medium = await tenant.panel.data(
        FILTERED, filter={"custom": [{"key": "size", "op": "EQ", "value": "S"}]}
    )
    assert [e["node"]["id"] for e in medium["leads"]["edges"]] == [second["id"]]
    undefined = await tenant.panel(
        FILTERED, filter={"custom": [{"key": "nope", "op": "EQ", "value": "S"}]}
    )
    assert undefined["errors"][0]["extensions"]["code"] == "invalid"
    manager, _ = await panel_as(platform, tenant, "MANAGER")
    refused = await manager.data(
        FIELD, input={"entity": "LEAD", "key": "m", "label": "x", "type": "TEXT"}
    )
    assert errors_of(refused["createCustomField"]) == ["forbidden"]


async def test_tags_segments_and_counts_stay_current(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    leads = [await new_lead(client, tenant) for _ in range(3)]
    tagged = await tenant.panel.data(
        TAG,
        ids=[leads[0]["id"], leads[1]["id"], leads[0]["contact"]["id"]],
        add=["VIP", "опт"],
        remove=[],
    )
    assert tagged["tagRecords"]["userErrors"] == []
    assert {t["name"] for t in tagged["tagRecords"]["contacts"][0]["tags"]} == {"VIP", "опт"}
    made = await tenant.panel.data(SEGMENT, name="VIP", lf={"tags": ["vip"], "status": "OPEN"})
    segment = made["createSegment"]["segment"]
    assert segment["count"] == 2 and segment["entity"] == "LEAD"
    await tenant.panel.data(TAG, ids=[leads[2]["id"]], add=["Vip"], remove=[])
    await tenant.panel.data(TAG, ids=[leads[0]["id"]], add=[], remove=["VIP"])
    members = await tenant.panel.data(FILTERED, segment=segment["id"])
    assert {e["node"]["id"] for e in members["leads"]["edges"]} == {leads[1]["id"], leads[2]["id"]}
    listed = await tenant.panel.data(
        "{ segments { totalCount edges { node { name count } } } tags { name } }"
    )
    assert listed["segments"]["edges"][0]["node"]["count"] == 2
    assert {t["name"] for t in listed["tags"]} == {"VIP", "опт"}
    contacts = await tenant.panel.data(SEGMENT, name="Опт", cf={"tags": ["опт"]})
    assert contacts["createSegment"]["segment"]["count"] == 1
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    assert errors_of((await viewer.data(SEGMENT, name="x", lf={}))["createSegment"]) == [
        "forbidden"
    ]
    assert errors_of(
        (await viewer.data(TAG, ids=[leads[0]["id"]], add=["x"], remove=[]))["tagRecords"]
    ) == ["forbidden"]


async def test_search_by_name_email_phone_company_and_title(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna = await new_lead(
        client,
        tenant,
        name="Анна Петрова",
        email="Anna.P@Example.com",
        phone="+7 912 345-67-89",
        company="ООО Ромашка",
    )
    await new_lead(client, tenant, name="Борис", email="boris@example.com", phone="")
    for query in ("anna.p@example.com", "8 (912) 345-67-89", "анна", "ромашка", "ПЕТРОВА"):
        found = await tenant.panel.data(FILTERED, filter={"search": query})
        assert [e["node"]["id"] for e in found["leads"]["edges"]] == [anna["id"]], query
    contacts = await tenant.panel.data(
        "query($f: ContactFilter) { contacts(filter: $f) { totalCount edges { node { name } } } }",
        f={"search": "+79123456789"},
    )
    assert contacts["contacts"]["edges"][0]["node"]["name"] == "Анна Петрова"
    assert (await tenant.panel.data(FILTERED, filter={"search": "100%"}))["leads"][
        "totalCount"
    ] == 0
    other = await make_tenant(platform)
    assert (await other.panel.data(FILTERED, filter={"search": "anna.p@example.com"}))["leads"][
        "totalCount"
    ] == 0


async def test_bulk_move_and_assign_are_all_or_nothing(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    leads = [await new_lead(client, tenant) for _ in range(3)]
    ids = [lead["id"] for lead in leads]
    stages = (await tenant.panel.data("{ pipelines { stages { id } } }"))["pipelines"][0]["stages"]
    _, member = await panel_as(platform, tenant, "MANAGER")
    assigned = await tenant.panel.data(
        "mutation($ids: [ID!]!, $m: ID) { bulkAssignLeads(input: {leadIds: $ids, assigneeId: $m}) { leads { assignee { id } } userErrors { code } } }",
        ids=ids,
        m=member,
    )
    assert [x["assignee"]["id"] for x in assigned["bulkAssignLeads"]["leads"]] == [member] * 3
    move = "mutation($ids: [ID!]!, $s: ID!) { bulkMoveLeads(input: {leadIds: $ids, stageId: $s}) { leads { stage { id } } userErrors { field code } } }"
    other = await make_tenant(platform)
    foreign = await new_lead(client, other)
    refused = await tenant.panel.data(move, ids=[*ids, foreign["id"]], s=stages[2]["id"])
    assert refused["bulkMoveLeads"]["userErrors"] == [{"field": "leadIds[3]", "code": "not_found"}]
    assert (await tenant.panel.data(FILTERED, filter={"stageId": stages[2]["id"]}))["leads"][
        "totalCount"
    ] == 0
    moved = await tenant.panel.data(move, ids=ids, s=stages[2]["id"])
    assert {x["stage"]["id"] for x in moved["bulkMoveLeads"]["leads"]} == {stages[2]["id"]}


async def test_csv_export_of_a_filtered_list(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    await new_lead(client, tenant, name="=HYPERLINK(1)", email="a@example.com")
    await new_lead(client, tenant, name="Борис", email="b@example.com")
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    data = await viewer.data(
        "query($f: LeadFilter) { leadsCsv(filter: $f) { csv rowCount } }",
        f={"search": "a@example.com"},
    )
    rows = list(csv.reader(io.StringIO(data["leadsCsv"]["csv"])))
    assert data["leadsCsv"]["rowCount"] == 1
    assert rows[0][:3] == ["id", "title", "status"]
    assert rows[1][rows[0].index("contact_name")] == "'=HYPERLINK(1)"
    contacts = await viewer.data("{ contactsCsv { rowCount } }")
    assert contacts["contactsCsv"]["rowCount"] == 2
