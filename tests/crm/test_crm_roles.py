"""Roles as the contract says: a MANAGER sees and works their own leads (and takes unassigned
ones), or everything when managersCanEditAll is on; a member who left is deactivated."""

from __future__ import annotations

import httpx
from crm_support import errors_of, new_lead, panel_as

from conftest import GraphQL
from factories import ISSUE_TOKEN, make_tenant, submission, submit

ASSIGN = """mutation($lead: ID!, $who: ID) { assignLead(input: {leadId: $lead, assigneeId: $who}) {
  lead { assignee { id } } userErrors { code message } } }"""
UPDATE_LEAD = """mutation($input: UpdateLeadInput!) { updateLead(input: $input) {
  lead { id } userErrors { code message } } }"""
LEADS = "{ leads { totalCount edges { node { id } } } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
SETTINGS = """mutation($v: Boolean!) { updateCrmSettings(input: {managersCanEditAll: $v}) {
  managersCanEditAll userErrors { code } } }"""
DEACTIVATE = """mutation($id: ID!) { deactivateMember(input: {memberId: $id}) {
  member { id active } userErrors { field code message } } }"""
REACTIVATE = """mutation($id: ID!) { reactivateMember(input: {memberId: $id}) {
  member { id active } userErrors { field code message } } }"""
RULES = """mutation($ws: ID!, $rules: [AssignmentRuleInput!]!) {
  setAssignmentRules(input: {workspaceId: $ws, rules: $rules}) { userErrors { code } } }"""


def ids(data: dict[str, object]) -> set[str]:
    leads = data["leads"]
    assert isinstance(leads, dict)
    return {edge["node"]["id"] for edge in leads["edges"]}


async def test_a_manager_sees_their_own_and_unassigned_leads_unless_allowed_all(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna, anna_id = await panel_as(platform, tenant, "MANAGER")
    _, boris_id = await panel_as(platform, tenant, "MANAGER")
    annas = await new_lead(client, tenant)
    boriss = await new_lead(client, tenant)
    nobodys = await new_lead(client, tenant)
    await tenant.panel.data(ASSIGN, lead=annas["id"], who=anna_id)
    await tenant.panel.data(ASSIGN, lead=boriss["id"], who=boris_id)

    seen = await anna.data(LEADS)
    assert ids(seen) == {annas["id"], nobodys["id"]}
    assert seen["leads"]["totalCount"] == 2
    assert (await anna.data(NODE, id=boriss["id"]))["node"] is None
    assert (await anna.data(NODE, id=annas["id"]))["node"] == {"id": annas["id"]}
    assert ids(await tenant.panel.data(LEADS)) == {annas["id"], boriss["id"], nobodys["id"]}

    assert (await tenant.panel.data(SETTINGS, v=True))["updateCrmSettings"]["userErrors"] == []
    everything = await anna.data(LEADS)
    assert everything["leads"]["totalCount"] == 3
    assert (await anna.data(NODE, id=boriss["id"]))["node"] == {"id": boriss["id"]}


async def test_a_manager_takes_an_unassigned_lead_and_is_told_plainly_otherwise(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna, anna_id = await panel_as(platform, tenant, "MANAGER")
    _, boris_id = await panel_as(platform, tenant, "MANAGER")
    lead = await new_lead(client, tenant)

    untaken = (await anna.data(UPDATE_LEAD, input={"id": lead["id"], "title": "Букет"}))[
        "updateLead"
    ]["userErrors"]
    assert [e["code"] for e in untaken] == ["forbidden"]
    assert "not assigned to anyone" in untaken[0]["message"]
    assert "someone else" not in untaken[0]["message"]
    # Taking is assigning to oneself; handing an unassigned lead to another is the owner's.
    to_boris = (await anna.data(ASSIGN, lead=lead["id"], who=boris_id))["assignLead"]
    assert errors_of(to_boris) == ["forbidden"]
    taken = (await anna.data(ASSIGN, lead=lead["id"], who=anna_id))["assignLead"]
    assert taken["userErrors"] == []
    assert taken["lead"]["assignee"]["id"] == anna_id
    worked = await anna.data(UPDATE_LEAD, input={"id": lead["id"], "title": "Букет"})
    assert worked["updateLead"]["userErrors"] == []
    # Once it is Anna's, it is no longer there to take.
    boris_token = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext="boris-2", role="MANAGER", ttl=900
    )
    boris = GraphQL(platform.client, boris_token["issuePanelToken"]["token"])
    stolen = (
        await boris.data(
            ASSIGN, lead=lead["id"], who=boris_token["issuePanelToken"]["member"]["id"]
        )
    )["assignLead"]
    assert errors_of(stolen) == ["forbidden"]


async def test_a_member_who_left_is_deactivated_and_keeps_their_history(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    issued = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext="leaving", role="MANAGER", ttl=900
    )
    leaving = GraphQL(platform.client, issued["issuePanelToken"]["token"])
    leaving_id = issued["issuePanelToken"]["member"]["id"]
    _, staying_id = await panel_as(platform, tenant, "MANAGER")
    viewer, _ = await panel_as(platform, tenant, "VIEWER")
    rules = [{"kind": "ROUND_ROBIN"}]
    assert (await platform.data(RULES, ws=tenant.workspace_id, rules=rules))["setAssignmentRules"][
        "userErrors"
    ] == []
    first = await new_lead(client, tenant)
    second = await new_lead(client, tenant)
    before = {first["assignee"]["id"], second["assignee"]["id"]}
    assert before == {leaving_id, staying_id}
    theirs = first if first["assignee"]["id"] == leaving_id else second

    assert errors_of((await viewer.data(DEACTIVATE, id=leaving_id))["deactivateMember"]) == [
        "forbidden"
    ]
    assert errors_of((await leaving.data(DEACTIVATE, id=staying_id))["deactivateMember"]) == [
        "forbidden"
    ]
    done = (await tenant.panel.data(DEACTIVATE, id=leaving_id))["deactivateMember"]
    assert done == {"member": {"id": leaving_id, "active": False}, "userErrors": []}

    # Their token stops working at once.
    refused = await client.post(
        "/graphql",
        json={"query": "{ ping }"},
        headers={"Authorization": f"Bearer {leaving.bearer}"},
    )
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    # Their lead stays theirs, for an owner to hand on.
    card = await tenant.panel.data(
        "query($id: ID!) { node(id: $id) { ... on Lead { assignee { id name } } } }",
        id=theirs["id"],
    )
    assert card["node"]["assignee"]["id"] == leaving_id
    # Round-robin passes them over, and nobody can hand them a lead.
    for i in range(3):
        await submit(client, tenant, submission(email=f"rr{i}@example.com", phone=""))
    query = "query($m: ID) { leads(filter: {assigneeId: $m}) { totalCount } }"
    assert (await tenant.panel.data(query, m=leaving_id))["leads"]["totalCount"] == 1
    assert (await tenant.panel.data(query, m=staying_id))["leads"]["totalCount"] == 4
    handed = (await tenant.panel.data(ASSIGN, lead=theirs["id"], who=None))["assignLead"]
    assert handed["userErrors"] == []
    back = (await tenant.panel.data(ASSIGN, lead=theirs["id"], who=leaving_id))["assignLead"]
    assert errors_of(back) == ["invalid"]

    # A new token is not minted behind the owner's back; reactivating is explicit.
    again = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext="leaving", role="MANAGER", ttl=900
    )
    assert again["issuePanelToken"]["token"] is None
    assert errors_of(again["issuePanelToken"]) == ["forbidden"]
    revived = (await platform.data(REACTIVATE, id=leaving_id))["reactivateMember"]
    assert revived["member"]["active"] is True
    assert (await leaving.data("{ ping }")) == {"ping": "pong"}
