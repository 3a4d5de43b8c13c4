"""Provisioning as a host does it, all through GraphQL with a platform key, all idempotent on
the host's ids: sites, workspaces, members and panel sessions. A second workspace always sits
beside the first, and panel tokens try to reach past their own."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import Any

import httpx

from conftest import SECRET, GraphQL
from embedcrm.auth import PanelTokens, PanelUser
from embedcrm.graphql.ids import parse_global_id
from embedcrm.workspaces.models import Role
from factories import ISSUE_TOKEN, make_tenant, services_of, submission, submit

CREATE_SITE = """
mutation($ws: ID!, $name: String!, $domains: [String!]!, $ext: String) {
  createSite(input: {workspaceId: $ws, name: $name, domains: $domains, externalId: $ext}) {
    site { id externalId publicKey domains } userErrors { field message code } } }
"""
UPDATE_SITE = """
mutation($site: ID!, $name: String, $domains: [String!]) {
  updateSite(input: {siteId: $site, name: $name, domains: $domains}) {
    site { id name domains publicKey } userErrors { field message code } } }
"""
DELETE_SITE = """
mutation($site: ID!) {
  deleteSite(input: {siteId: $site}) { deletedSiteId userErrors { field message code } } }
"""
SAVE_SITE_FORM = """
mutation($input: SaveSiteFormInput!) {
  saveSiteForm(input: $input) { siteForm { key } userErrors { field message code } } }
"""
CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { field message code } } }
"""
SITES = "query($ws: ID) { sites(workspaceId: $ws) { id externalId } }"
UPDATE_WORKSPACE = """
mutation($input: UpdateWorkspaceInput!) {
  updateWorkspace(input: $input) {
    workspace { id name timezone currency language locale firstResponseMinutes
                workingHours { weekday opens closes } }
    userErrors { field message code } } }
"""
WORKSPACE_BY_EXTERNAL_ID = "query($ext: String!) { workspace(externalId: $ext) { id externalId } }"
MEMBERS = """
query($ws: ID, $all: Boolean!) {
  members(workspaceId: $ws, includeInactive: $all) { id externalId role active } }
"""
CHANGE_ROLE = """
mutation($member: ID!, $role: Role!) {
  changeMemberRole(input: {memberId: $member, role: $role}) {
    member { id role } userErrors { field message code } } }
"""
DEACTIVATE = """
mutation($member: ID!) {
  deactivateMember(input: {memberId: $member}) { member { id active } userErrors { code } } }
"""
REVOKE_TOKEN = """
mutation($token: String!) {
  revokePanelToken(input: {token: $token}) {
    revoked member { id externalId } userErrors { field message code } } }
"""
REVOKE_SESSIONS = """
mutation($member: ID!) {
  revokePanelSessions(input: {memberId: $member}) {
    member { id } userErrors { field message code } } }
"""
PING = "{ ping }"


async def status_of(client: httpx.AsyncClient, bearer: str) -> int:
    response = await client.post(
        "/graphql", json={"query": PING}, headers={"Authorization": f"Bearer {bearer}"}
    )
    return response.status_code


async def mint(platform: GraphQL, workspace_id: str, ext: str, role: str = "OWNER") -> str:
    data = await platform.data(ISSUE_TOKEN, ws=workspace_id, ext=ext, role=role, ttl=900)
    assert data["issuePanelToken"]["userErrors"] == []
    token: str = data["issuePanelToken"]["token"]
    return token


async def member_id_of(platform: GraphQL, workspace_id: str, ext: str) -> str:
    members = (await platform.data(MEMBERS, ws=workspace_id, all=True))["members"]
    [found] = [m for m in members if m["externalId"] == ext]
    member_id: str = found["id"]
    return member_id


def errors_of(payload: dict[str, Any]) -> list[str | None]:
    return [error["code"] for error in payload["userErrors"]]


# ---- sites ------------------------------------------------------------------------------------


async def test_create_site_is_idempotent_on_the_external_id(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    ext = f"host-site-{uuid.uuid4().hex[:8]}"
    first = await platform.data(
        CREATE_SITE, ws=tenant.workspace_id, name="Лендинг", domains=["a.example.com"], ext=ext
    )
    again = await platform.data(
        CREATE_SITE, ws=tenant.workspace_id, name="Лендинг", domains=["a.example.com"], ext=ext
    )
    site = first["createSite"]["site"]
    assert site["externalId"] == ext
    assert again["createSite"]["site"] == site
    listed = (await platform.data(SITES, ws=tenant.workspace_id))["sites"]
    assert [s["id"] for s in listed].count(site["id"]) == 1
    assert len(listed) == 2  # the tenant's own site and this one, not a third

    # The same host id in another workspace is another site.
    other = await make_tenant(platform)
    beside = await platform.data(
        CREATE_SITE, ws=other.workspace_id, name="Лендинг", domains=["a.example.com"], ext=ext
    )
    assert beside["createSite"]["site"]["id"] != site["id"]


async def test_concurrent_retries_of_create_site_make_one_site(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    ext = f"host-site-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(
        *(
            platform.data(
                CREATE_SITE,
                ws=tenant.workspace_id,
                name="Магазин",
                domains=["b.example.com"],
                ext=ext,
            )
            for _ in range(8)
        )
    )
    ids = {answer["createSite"]["site"]["id"] for answer in answers}
    assert len(ids) == 1, answers
    listed = (await platform.data(SITES, ws=tenant.workspace_id))["sites"]
    assert [s["externalId"] for s in listed].count(ext) == 1


async def test_update_site_changes_the_domains_visitors_may_send_from(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform, domain="old.example.com")
    # Warm the site cache with the old domains first: the change must still apply at once.
    assert (await submit(client, tenant, submission(email="o1@example.com"))).status_code == 202
    data = await platform.data(
        UPDATE_SITE, site=tenant.site_id, name="Новый магазин", domains=["https://New.Example.com/"]
    )
    site = data["updateSite"]["site"]
    assert site["domains"] == ["new.example.com"] and site["name"] == "Новый магазин"
    moved = dataclasses.replace(tenant, domain="new.example.com")
    assert (await submit(client, moved, submission(email="n1@example.com"))).status_code == 202
    assert (await submit(client, tenant, submission(email="o2@example.com"))).status_code == 403

    bad = await platform.data(UPDATE_SITE, site=tenant.site_id, domains=["not a domain"])
    assert bad["updateSite"]["userErrors"][0]["field"] == "domains"
    # Nothing was lost to the refused change.
    kept = (await platform.data(UPDATE_SITE, site=tenant.site_id))["updateSite"]["site"]
    assert kept["domains"] == ["new.example.com"]


async def test_only_the_platform_changes_or_deletes_sites(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    update = await tenant.panel.data(UPDATE_SITE, site=tenant.site_id, domains=["x.example.com"])
    assert errors_of(update["updateSite"]) == ["forbidden"]
    delete = await tenant.panel.data(DELETE_SITE, site=tenant.site_id)
    assert errors_of(delete["deleteSite"]) == ["forbidden"]
    # A site id of another workspace changes nothing there either, even for the platform it
    # names: the workspace in the id decides, and a forged id finds nothing.
    other = await make_tenant(platform)
    forged_site = tenant.site_id[:-2] + ("AA" if not tenant.site_id.endswith("AA") else "BB")
    missing = await platform.data(UPDATE_SITE, site=forged_site, name="x")
    assert errors_of(missing["updateSite"]) == ["not_found"]
    sites = (await platform.data(SITES, ws=other.workspace_id))["sites"]
    assert [s["id"] for s in sites] == [other.site_id]


async def test_delete_site_keeps_its_leads_and_stops_its_visitors(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    assert (await submit(client, tenant, submission(email="kept@example.com"))).status_code == 202
    ext = f"host-site-{uuid.uuid4().hex[:8]}"
    created = await platform.data(
        CREATE_SITE, ws=tenant.workspace_id, name="Второй", domains=["c.example.com"], ext=ext
    )
    second = created["createSite"]["site"]

    for _ in range(2):  # a retried delete answers the same
        deleted = await platform.data(DELETE_SITE, site=tenant.site_id)
        assert deleted["deleteSite"] == {"deletedSiteId": tenant.site_id, "userErrors": []}
    assert (await client.get(f"/v1/sites/{tenant.site_key}/config")).status_code == 404
    refused = await client.post(
        f"/v1/sites/{tenant.site_key}/submissions",
        json=submission(email="late@example.com"),
        headers={"Origin": f"https://{tenant.domain}"},
    )
    assert refused.status_code == 404
    listed = (await platform.data(SITES, ws=tenant.workspace_id))["sites"]
    assert [s["id"] for s in listed] == [second["id"]]
    node = await platform.data("query($id: ID!) { node(id: $id) { id } }", id=tenant.site_id)
    assert node["node"] is None
    leads = await tenant.panel.data("{ leads(first: 10) { edges { node { contact { email } } } } }")
    assert [e["node"]["contact"]["email"] for e in leads["leads"]["edges"]] == ["kept@example.com"]
    # The other workspace's site answers as before.
    assert (await client.get(f"/v1/sites/{other.site_key}/config")).status_code == 200

    # A deleted site's external id is free again: the host may make a new site with it.
    await platform.data(DELETE_SITE, site=second["id"])
    again = await platform.data(
        CREATE_SITE, ws=tenant.workspace_id, name="Второй", domains=["c.example.com"], ext=ext
    )
    assert again["createSite"]["site"]["id"] != second["id"]


async def test_a_deleted_site_accepts_no_form_and_no_lead(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    form = {
        "siteId": tenant.site_id,
        "key": "callback",
        "fields": [{"name": "phone", "type": "TEL", "label": {"en": "Phone"}}],
    }
    lead = {
        "workspaceId": tenant.workspace_id,
        "channel": "CALL",
        "phone": "+7 912 345-67-89",
        "siteId": tenant.site_id,
    }
    saved = await platform.data(SAVE_SITE_FORM, input=form)
    assert errors_of(saved["saveSiteForm"]) == []
    await platform.data(DELETE_SITE, site=tenant.site_id)

    refused_form = await platform.data(SAVE_SITE_FORM, input={**form, "key": "other"})
    assert errors_of(refused_form["saveSiteForm"]) == ["not_found"]
    assert refused_form["saveSiteForm"]["userErrors"][0]["field"] == "siteId"
    refused_lead = await platform.data(CREATE_LEAD, input=lead)
    assert errors_of(refused_lead["createLead"]) == ["not_found"]
    assert refused_lead["createLead"]["userErrors"][0]["field"] == "siteId"
    # Nothing was made: the same lead without the deleted site is taken, and is the only one.
    taken = await platform.data(CREATE_LEAD, input={**lead, "siteId": None})
    assert errors_of(taken["createLead"]) == []
    leads = await tenant.panel.data("{ leads { totalCount } }")
    assert leads == {"leads": {"totalCount": 1}}


# ---- workspaces -------------------------------------------------------------------------------


async def test_update_workspace_validates_and_keeps_what_is_not_given(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    ws = tenant.workspace_id
    data = await platform.data(
        UPDATE_WORKSPACE,
        input={
            "workspaceId": ws,
            "name": "Romashka Ltd",
            "timezone": "America/New_York",
            "currency": "usd",
            "locale": "en_us",
            "firstResponseMinutes": 30,
            "workingHours": [
                {"weekday": 2, "opens": "09:00", "closes": "18:00"},
                {"weekday": 1, "opens": "10:00", "closes": "17:30"},
            ],
        },
    )
    workspace = data["updateWorkspace"]["workspace"]
    assert workspace == {
        "id": ws,
        "name": "Romashka Ltd",
        "timezone": "America/New_York",
        "currency": "USD",
        "language": "en",
        "locale": "en-US",
        "firstResponseMinutes": 30,
        "workingHours": [
            {"weekday": 1, "opens": "10:00", "closes": "17:30"},
            {"weekday": 2, "opens": "09:00", "closes": "18:00"},
        ],
    }
    for zone in ("Europe", "localtime", "x" * 300, "../etc/passwd"):
        refused = await platform.data(UPDATE_WORKSPACE, input={"workspaceId": ws, "timezone": zone})
        assert [e["field"] for e in refused["updateWorkspace"]["userErrors"]] == ["timezone"], zone
    # A NUL is refused before anything runs, as everywhere in the API.
    nul = await platform.client.post(
        "/graphql",
        json={
            "query": UPDATE_WORKSPACE,
            "variables": {"input": {"workspaceId": ws, "timezone": "Europe/Moscow\x00"}},
        },
        headers={"Authorization": f"Bearer {platform.bearer}"},
    )
    assert nul.status_code == 400 and "NUL" in nul.text
    refusals = {
        "timezone": {"timezone": "Mars/Olympus_Mons"},
        "currency": {"currency": "dollars"},
        "locale": {"locale": "english please"},
        "firstResponseMinutes": {"firstResponseMinutes": 0},
        "workingHours[0]": {"workingHours": [{"weekday": 8, "opens": "09:00", "closes": "18:00"}]},
        "name": {"name": "  "},
    }
    for field, change in refusals.items():
        refused = await platform.data(UPDATE_WORKSPACE, input={"workspaceId": ws, **change})
        assert [e["field"] for e in refused["updateWorkspace"]["userErrors"]] == [field], change
    closes_first = [{"weekday": 3, "opens": "18:00", "closes": "09:00"}]
    refused = await platform.data(
        UPDATE_WORKSPACE, input={"workspaceId": ws, "workingHours": closes_first}
    )
    assert refused["updateWorkspace"]["userErrors"][0]["field"] == "workingHours[0]"
    # A German customer: the locale is kept, the service writes English, the one it has.
    german = await platform.data(UPDATE_WORKSPACE, input={"workspaceId": ws, "locale": "de-DE"})
    assert german["updateWorkspace"]["workspace"]["locale"] == "de-DE"
    assert german["updateWorkspace"]["workspace"]["language"] == "en"
    # Nothing refused above changed anything, and the workspace beside is untouched.
    now = (await platform.data(UPDATE_WORKSPACE, input={"workspaceId": ws}))["updateWorkspace"]
    assert now["workspace"]["timezone"] == "America/New_York"
    assert now["workspace"]["firstResponseMinutes"] == 30
    beside = await platform.data(
        "query($id: ID!) { workspace(id: $id) { name timezone currency } }",
        id=other.workspace_id,
    )
    assert beside["workspace"] == {
        "name": "Ромашка",
        "timezone": "Europe/Moscow",
        "currency": "RUB",
    }


async def test_update_workspace_through_a_panel_token(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    own = await tenant.panel.data(UPDATE_WORKSPACE, input={"timezone": "Asia/Yekaterinburg"})
    assert own["updateWorkspace"]["workspace"]["timezone"] == "Asia/Yekaterinburg"
    foreign = await tenant.panel.data(
        UPDATE_WORKSPACE, input={"workspaceId": other.workspace_id, "name": "taken"}
    )
    assert errors_of(foreign["updateWorkspace"]) == ["not_found"]
    viewer = GraphQL(tenant.panel.client, await mint(platform, tenant.workspace_id, "v", "VIEWER"))
    refused = await viewer.data(UPDATE_WORKSPACE, input={"name": "mine"})
    assert errors_of(refused["updateWorkspace"]) == ["forbidden"]


async def test_the_locale_picks_the_default_pipelines_language(platform: GraphQL) -> None:
    create = """
    mutation($name: String!, $ext: String, $locale: String) {
      createWorkspace(input: {name: $name, externalId: $ext, locale: $locale}) {
        workspace { id language locale } userErrors { field message code } } }
    """
    pipelines = "query($ws: ID) { pipelines(workspaceId: $ws) { name stages { name } } }"
    english = await platform.data(create, name="Acme", ext=f"en-{uuid.uuid4().hex}", locale="en-GB")
    workspace = english["createWorkspace"]["workspace"]
    assert (workspace["language"], workspace["locale"]) == ("en", "en-GB")
    [pipeline] = (await platform.data(pipelines, ws=workspace["id"]))["pipelines"]
    assert pipeline["name"] == "Sales"
    assert [s["name"] for s in pipeline["stages"]] == [
        "New",
        "In progress",
        "Proposal",
        "Won",
        "Lost",
    ]
    russian = await platform.data(create, name="Ромашка", ext=f"ru-{uuid.uuid4().hex}")
    [default] = (await platform.data(pipelines, ws=russian["createWorkspace"]["workspace"]["id"]))[
        "pipelines"
    ]
    assert default["name"] == "Продажи" and default["stages"][0]["name"] == "Новый"
    bad = await platform.data(create, name="x", ext=f"x-{uuid.uuid4().hex}", locale="1234")
    assert bad["createWorkspace"]["userErrors"][0]["field"] == "locale"


async def test_workspace_by_external_id(client: httpx.AsyncClient, platform: GraphQL) -> None:
    ext = f"host-{uuid.uuid4().hex}"
    created = await platform.data(
        'mutation($ext: String) { createWorkspace(input: {name: "A", externalId: $ext}) '
        "{ workspace { id externalId } } }",
        ext=ext,
    )
    found = await platform.data(WORKSPACE_BY_EXTERNAL_ID, ext=ext)
    assert found["workspace"] == created["createWorkspace"]["workspace"]
    assert (await platform.data(WORKSPACE_BY_EXTERNAL_ID, ext="never-made"))["workspace"] is None
    # A panel token of another workspace learns nothing about this one.
    other = await make_tenant(platform)
    assert (await other.panel.data(WORKSPACE_BY_EXTERNAL_ID, ext=ext))["workspace"] is None


# ---- members and panel sessions ---------------------------------------------------------------


async def test_members_are_listed_with_role_and_state(platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    await mint(platform, tenant.workspace_id, "left", "MANAGER")
    left = await member_id_of(platform, tenant.workspace_id, "left")
    await platform.data(DEACTIVATE, member=left)
    active = (await platform.data(MEMBERS, ws=tenant.workspace_id, all=False))["members"]
    everyone = (await platform.data(MEMBERS, ws=tenant.workspace_id, all=True))["members"]
    assert [m["role"] for m in active] == ["OWNER"] and all(m["active"] for m in active)
    assert {(m["externalId"], m["role"], m["active"]) for m in everyone} >= {
        ("left", "MANAGER", False)
    }
    assert len(everyone) == 2
    # The other workspace's members are not among them, nor reachable by its panel.
    foreign = await other.panel(MEMBERS, ws=tenant.workspace_id, all=True)
    assert foreign["data"] is None or foreign["data"]["members"] == []


async def test_a_changed_role_applies_to_live_tokens(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    owner_token = await mint(platform, tenant.workspace_id, "boss", "OWNER")
    owner = GraphQL(client, owner_token)
    boss = await member_id_of(platform, tenant.workspace_id, "boss")
    await mint(platform, tenant.workspace_id, "helper", "VIEWER")
    helper = await member_id_of(platform, tenant.workspace_id, "helper")

    promoted = await owner.data(CHANGE_ROLE, member=helper, role="MANAGER")
    assert promoted["changeMemberRole"]["member"]["role"] == "MANAGER"
    # An owner cannot demote themselves (the workspace would be left without one by mistake).
    own = await owner.data(CHANGE_ROLE, member=boss, role="VIEWER")
    assert own["changeMemberRole"]["userErrors"][0]["field"] == "memberId"

    demoted = await platform.data(CHANGE_ROLE, member=boss, role="VIEWER")
    assert demoted["changeMemberRole"]["member"]["role"] == "VIEWER"
    # The owner's token, still valid, now acts as a viewer: it can no longer change roles.
    refused = await owner.data(CHANGE_ROLE, member=helper, role="OWNER")
    assert errors_of(refused["changeMemberRole"]) == ["forbidden"]

    other = await make_tenant(platform)
    foreign = await other.panel.data(CHANGE_ROLE, member=helper, role="OWNER")
    assert errors_of(foreign["changeMemberRole"]) == ["not_found"]

    # Minting with a role sets it too, and the fresh token acts with it at once, although this
    # process read the member as a viewer a moment ago.
    again = GraphQL(client, await mint(platform, tenant.workspace_id, "boss", "OWNER"))
    restored = await again.data(CHANGE_ROLE, member=helper, role="VIEWER")
    assert restored["changeMemberRole"]["member"]["role"] == "VIEWER"


async def test_a_revoked_panel_token_answers_401_at_once(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    leaked = await mint(platform, tenant.workspace_id, "ivan")
    kept = await mint(platform, tenant.workspace_id, "ivan")
    # Both in use: the member's state is cached in this process.
    assert await status_of(client, leaked) == 200
    assert await status_of(client, kept) == 200

    revoked = await platform.data(REVOKE_TOKEN, token=leaked)
    assert revoked["revokePanelToken"]["revoked"] is True
    assert revoked["revokePanelToken"]["member"]["externalId"] == "ivan"
    assert await status_of(client, leaked) == 401
    assert await status_of(client, kept) == 200
    # Revoking again answers the same.
    again = await platform.data(REVOKE_TOKEN, token=leaked)
    assert again["revokePanelToken"]["revoked"] is True

    # Another process, which read the member before the revocation, learns it from the database.
    services = services_of(client)
    services.workspaces._members.clear()
    assert await status_of(client, leaked) == 401

    # Only the platform revokes by token, and only tokens of this service.
    by_panel = await tenant.panel.data(REVOKE_TOKEN, token=kept)
    assert errors_of(by_panel["revokePanelToken"]) == ["forbidden"]
    junk = await platform.data(REVOKE_TOKEN, token=kept[:-4] + "AAAA")
    assert junk["revokePanelToken"]["userErrors"][0]["field"] == "token"
    assert await status_of(client, kept) == 200

    # A token that has expired already needs no revoking, and says so.
    ivan = parse_global_id(await member_id_of(platform, tenant.workspace_id, "ivan"))
    yesterday = PanelTokens([SECRET], max_ttl_seconds=86400, clock=lambda: time.time() - 7200)
    expired, _ = yesterday.issue(
        PanelUser(workspace_id=ivan.workspace_id, member_id=ivan.row_id, role=Role.OWNER),
        ttl_seconds=900,
    )
    late = await platform.data(REVOKE_TOKEN, token=expired)
    assert late["revokePanelToken"] == {"revoked": False, "member": None, "userErrors": []}


async def test_revoking_a_members_sessions(client: httpx.AsyncClient, platform: GraphQL) -> None:
    tenant = await make_tenant(platform)
    other = await make_tenant(platform)
    first = await mint(platform, tenant.workspace_id, "anna")
    second = await mint(platform, tenant.workspace_id, "anna")
    colleague = await mint(platform, tenant.workspace_id, "boris")
    for token in (first, second, colleague):
        assert await status_of(client, token) == 200
    anna = await member_id_of(platform, tenant.workspace_id, "anna")

    foreign = await other.panel.data(REVOKE_SESSIONS, member=anna)
    assert errors_of(foreign["revokePanelSessions"]) == ["not_found"]
    assert await status_of(client, first) == 200

    done = await platform.data(REVOKE_SESSIONS, member=anna)
    assert done["revokePanelSessions"] == {"member": {"id": anna}, "userErrors": []}
    assert await status_of(client, first) == 401
    assert await status_of(client, second) == 401
    assert await status_of(client, colleague) == 200
    assert await status_of(client, other.panel.bearer) == 200
    await asyncio.sleep(0.01)
    fresh = await mint(platform, tenant.workspace_id, "anna")
    assert await status_of(client, fresh) == 200
