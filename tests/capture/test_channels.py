"""Other channels (C5) and attribution (C2): createLead for calls and chats, sources on leads
and contacts, filterable."""

from __future__ import annotations

import httpx

from conftest import GraphQL
from factories import LEADS, make_tenant, submission, submit

CREATE_LEAD = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
  lead { id title form source { utmSource utmMedium } assignee { id } }
  contact { id email phone } userErrors { field message code } } }"""


async def test_a_call_joins_the_contact_of_a_form(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    await submit(client, tenant, submission(email="anna@example.com", phone="+7 912 345-67-89"))
    created = await platform.data(
        CREATE_LEAD,
        input={
            "workspaceId": tenant.workspace_id,
            "channel": "CALL",
            "phone": "8 912 345 67 89",
            "name": "Анна",
            "source": {"utmSource": "calltracking", "utmMedium": "phone"},
        },
    )
    payload = created["createLead"]
    assert payload["userErrors"] == []
    assert payload["contact"]["email"] == "anna@example.com"
    assert payload["lead"]["form"] == "call"
    assert payload["lead"]["source"] == {"utmSource": "calltracking", "utmMedium": "phone"}
    contacts = await tenant.panel.data("{ contacts { totalCount } leads { totalCount } }")
    assert contacts == {"contacts": {"totalCount": 1}, "leads": {"totalCount": 2}}


async def test_create_lead_validates_and_respects_roles(platform: GraphQL) -> None:
    tenant = await make_tenant(platform, role="VIEWER")
    base = {"workspaceId": tenant.workspace_id, "channel": "CHAT", "email": "x@example.com"}
    viewer = await tenant.panel.data(CREATE_LEAD, input=base)
    assert viewer["createLead"]["userErrors"][0]["code"] == "forbidden"
    other = await make_tenant(platform)
    foreign = await other.panel.data(CREATE_LEAD, input=base)
    assert foreign["createLead"]["userErrors"][0]["code"] == "not_found"
    bad = await platform.data(CREATE_LEAD, input={**base, "email": "nope"})
    assert bad["createLead"]["userErrors"][0]["field"] == "email"
    foreign_site = await platform.data(CREATE_LEAD, input={**base, "siteId": other.site_id})
    assert foreign_site["createLead"]["userErrors"][0]["code"] == "not_found"


async def test_attribution_is_kept_and_filterable(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    first = submission(email="t@example.com", phone="")
    first["context"] = {
        "page_url": "https://shop.example.com/promo?utm_source=google&utm_medium=cpc&utm_campaign=winter&gclid=G-1",
        "referrer": "https://www.google.com/",
        "first_touch": {"page_url": "https://shop.example.com/blog", "utm": {"source": "vk"}},
    }
    await submit(client, tenant, first)
    second = submission(email="t@example.com", phone="")
    second["context"] = {"page_url": "https://shop.example.com/?utm_source=yandex&yclid=Y-2"}
    await submit(client, tenant, second)

    query = """query($f: LeadFilter) { leads(filter: $f) { totalCount edges { node {
      source { utmSource utmMedium utmCampaign landingPage referrer clickIds firstTouch }
      contact { firstTouch lastTouch } } } } }"""
    google = (await tenant.panel.data(query, f={"utmSource": "google"}))["leads"]
    assert google["totalCount"] == 1
    source = google["edges"][0]["node"]["source"]
    assert source["utmMedium"] == "cpc" and source["utmCampaign"] == "winter"
    assert source["clickIds"] == {"gclid": "G-1"}
    assert source["referrer"] == "https://www.google.com/"
    assert source["firstTouch"]["utm"] == {"source": "vk"}
    contact = google["edges"][0]["node"]["contact"]
    assert contact["firstTouch"]["utm_source"] == "google"
    assert contact["lastTouch"]["utm_source"] == "yandex"
    assert contact["lastTouch"]["click_ids"] == {"yclid": "Y-2"}
    for f, expected in (
        ({"utmMedium": "cpc"}, 1),
        ({"utmCampaign": "winter"}, 1),
        ({"utmSource": "yandex"}, 1),
        ({"utmSource": "bing"}, 0),
    ):
        assert (await tenant.panel.data(query, f=f))["leads"]["totalCount"] == expected
    all_leads = await tenant.panel.data(LEADS)
    assert all_leads["leads"]["totalCount"] == 2


async def test_a_pushed_lead_has_its_channel_and_a_title_in_the_workspace_language(
    platform: GraphQL,
) -> None:
    tenant = await make_tenant(platform)
    english = await platform.data(
        """mutation { createWorkspace(input: {name: "Daisy", language: "en", currency: "EUR"}) {
          workspace { id language currency } userErrors { field message code } } }"""
    )
    assert english["createWorkspace"]["workspace"]["language"] == "en"
    assert english["createWorkspace"]["workspace"]["currency"] == "EUR"
    english_ws = english["createWorkspace"]["workspace"]["id"]
    russian = (
        await platform.data(
            "query($id: ID!) { workspace(id: $id) { language currency } }", id=tenant.workspace_id
        )
    )["workspace"]
    assert russian == {"language": "ru", "currency": "RUB"}

    titles = """query($ws: ID, $f: LeadFilter) { leads(workspaceId: $ws, filter: $f) {
      totalCount edges { node { title channel } } }
      tasks(workspaceId: $ws) { edges { node { title } } } }"""
    for ws, channel in ((tenant.workspace_id, "CALL"), (english_ws, "CHAT")):
        created = await platform.data(
            CREATE_LEAD,
            input={"workspaceId": ws, "channel": channel, "name": "Анна", "phone": "+79123456789"},
        )
        assert created["createLead"]["userErrors"] == []
    calls = await platform.data(titles, ws=tenant.workspace_id, f={"channel": "CALL"})
    assert calls["leads"]["totalCount"] == 1
    assert calls["leads"]["edges"][0]["node"] == {"title": "Звонок: Анна", "channel": "CALL"}
    assert calls["tasks"]["edges"][0]["node"]["title"] == "Ответить: Звонок: Анна"
    chats = await platform.data(titles, ws=english_ws, f={"channel": "CHAT"})
    assert chats["leads"]["edges"][0]["node"] == {"title": "Chat: Анна", "channel": "CHAT"}
    assert chats["tasks"]["edges"][0]["node"]["title"] == "Reply: Chat: Анна"
    assert (await platform.data(titles, ws=english_ws, f={"channel": "CALL"}))["leads"][
        "totalCount"
    ] == 0
