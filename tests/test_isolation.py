"""A panel token of workspace A never sees, finds or changes anything of workspace B."""

from __future__ import annotations

import httpx

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id, to_global_id
from factories import CREATE_SITE, ISSUE_TOKEN, LEADS, make_tenant, submission, submit

NODE = "query($id: ID!) { node(id: $id) { id ... on Lead { title } ... on Contact { email } } }"


async def test_panel_tokens_see_only_their_workspace(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    a = await make_tenant(platform)
    b = await make_tenant(platform)
    await submit(client, a, submission(email="a@example.com"))
    await submit(client, b, submission(email="b@example.com"))

    a_leads = (await a.panel.data(LEADS))["leads"]
    b_leads = (await b.panel.data(LEADS))["leads"]
    assert [e["node"]["contact"]["email"] for e in a_leads["edges"]] == ["a@example.com"]
    assert [e["node"]["contact"]["email"] for e in b_leads["edges"]] == ["b@example.com"]

    # B's lead and contact, asked for by A: null, exactly like an id that does not exist.
    b_lead = b_leads["edges"][0]["node"]
    b_contact = b_lead["contact"]
    own = parse_global_id(b_lead["id"])
    unknown = to_global_id("Lead", own.workspace_id, own.workspace_id)
    for foreign_id in (b_lead["id"], b_contact["id"], b.site_id, b.workspace_id):
        assert (await a.panel.data(NODE, id=foreign_id))["node"] is None
    assert (await a.panel.data(NODE, id=unknown))["node"] is None
    assert (await a.panel.data(NODE, id="garbage"))["node"] is None
    assert (await b.panel.data(NODE, id=b_lead["id"]))["node"]["title"]

    # Naming B's workspace in a list answers like a workspace that does not exist.
    foreign = await a.panel(LEADS, ws=b.workspace_id)
    missing = await a.panel(LEADS, ws=to_global_id("Workspace", own.row_id, own.row_id))
    assert foreign.get("data") is None and missing.get("data") is None
    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]
    assert foreign["errors"][0]["extensions"]["code"] == "not_found"

    # Filtering by B's site matches nothing rather than B's leads.
    filtered = await a.panel.data(LEADS, filter={"siteId": b.site_id})
    assert filtered["leads"]["totalCount"] == 0


async def test_panel_tokens_cannot_provision(client: httpx.AsyncClient, platform: GraphQL) -> None:
    a = await make_tenant(platform)
    b = await make_tenant(platform)
    for ws in (a.workspace_id, b.workspace_id):
        site = await a.panel.data(CREATE_SITE, ws=ws, name="x", domains=["x.example.com"])
        assert site["createSite"]["site"] is None
        assert site["createSite"]["userErrors"][0]["code"] == "forbidden"
        token = await a.panel.data(ISSUE_TOKEN, ws=ws, ext="intruder", role="OWNER", ttl=900)
        assert token["issuePanelToken"]["token"] is None
        assert token["issuePanelToken"]["userErrors"][0]["code"] == "forbidden"
    assert (await b.panel.data("{ sites { id } }"))["sites"] == [{"id": b.site_id}]


async def test_a_platform_key_sees_every_workspace(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    a = await make_tenant(platform)
    b = await make_tenant(platform)
    await submit(client, a, submission(email="a@example.com"))
    await submit(client, b, submission(email="b@example.com"))
    for tenant, email in ((a, "a@example.com"), (b, "b@example.com")):
        data = await platform.data(LEADS, ws=tenant.workspace_id)
        assert data["leads"]["edges"][0]["node"]["contact"]["email"] == email
    without = await platform(LEADS)
    assert without["errors"][0]["extensions"]["code"] == "not_found"
