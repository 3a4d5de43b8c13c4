"""What the reports count, on small workspaces made through the public API: an outcome is the
lead's status now, the first touch is read like the last, and rows without a source or an
assignee carry a name a person reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from conftest import GraphQL
from factories import ISSUE_TOKEN, LEADS, Tenant, make_tenant, submission, submit

PIPELINES = "{ pipelines { id stages { id name kind } } }"
MOVE = """mutation($lead: ID!, $stage: ID!, $reason: String) {
  moveLead(input: {leadId: $lead, stageId: $stage, reason: $reason}) {
    lead { id status } userErrors { field message code } } }"""
OUTCOMES = """query($filter: AnalyticsFilter!) { analytics(filter: $filter) {
  funnel { leads won lost stages { kind reached } }
  managers { memberId leads won lost winRate } } }"""
SOURCES = """query($filter: AnalyticsFilter!, $touch: Touch!) { analytics(filter: $filter) {
  sources(touch: $touch) { source leads won } } }"""
LABELS = """query($filter: AnalyticsFilter!) { analytics(filter: $filter) {
  managers { memberId label } sources(touch: LAST) { source label } } }"""


async def panel_as(platform: GraphQL, tenant: Tenant, role: str) -> tuple[GraphQL, str]:
    token = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext=f"user-{uuid.uuid4().hex[:8]}", role=role, ttl=900
    )
    issued = token["issuePanelToken"]
    return GraphQL(platform.client, issued["token"]), issued["member"]["id"]


async def new_lead(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    body = submission(email=f"{uuid.uuid4().hex[:10]}@example.com", phone="")
    assert (await submit(client, tenant, body)).status_code == 202
    node: dict[str, Any] = (await tenant.panel.data(LEADS, first=1))["leads"]["edges"][0]["node"]
    return node


def period() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }


async def stages(tenant: Tenant) -> dict[str, str]:
    """Stage id by kind: the first OPEN, the WON and the LOST stage of the default pipeline."""
    pipeline = (await tenant.panel.data(PIPELINES))["pipelines"][0]
    found: dict[str, str] = {}
    for stage in pipeline["stages"]:
        found.setdefault(stage["kind"], stage["id"])
    return found


async def move(tenant: Tenant, lead: str, stage: str) -> None:
    moved = (await tenant.panel.data(MOVE, lead=lead, stage=stage))["moveLead"]
    assert moved["userErrors"] == [], moved


async def report(panel: GraphQL, query: str, **variables: Any) -> dict[str, Any]:
    data = await panel.data(query, filter=period(), **variables)
    result: dict[str, Any] = data["analytics"]
    return result


async def test_a_lead_lost_then_won_counts_once_as_won_in_funnel_and_managers(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    kinds = await stages(tenant)
    back_and_forth = await new_lead(client, tenant)
    await move(tenant, back_and_forth["id"], kinds["LOST"])
    await move(tenant, back_and_forth["id"], kinds["WON"])
    won_then_lost = await new_lead(client, tenant)
    await move(tenant, won_then_lost["id"], kinds["WON"])
    await move(tenant, won_then_lost["id"], kinds["LOST"])
    await new_lead(client, tenant)

    reports = await report(tenant.panel, OUTCOMES)
    funnel = reports["funnel"]
    assert (funnel["leads"], funnel["won"], funnel["lost"]) == (3, 1, 1)
    assert funnel["won"] + funnel["lost"] <= funnel["leads"]
    # The stages still show where the leads stood: both reached both closing stages.
    reached = {s["kind"]: s["reached"] for s in funnel["stages"] if s["kind"] != "OPEN"}
    assert reached == {"WON": 2, "LOST": 2}
    (managers,) = reports["managers"]
    assert (managers["leads"], managers["won"], managers["lost"]) == (3, 1, 1)
    assert managers["winRate"] == 0.5


async def test_first_touch_reads_utm_tags_from_its_page_url(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    body = submission(email="first@example.com", phone="")
    body["context"] = {
        "page_url": "https://shop.example.com/?utm_source=yandex&utm_medium=cpc",
        "first_touch": {
            "page_url": "https://shop.example.com/blog?utm_source=vk&utm_medium=social&yclid=Y-7",
            "referrer": "https://vk.com/",
        },
    }
    assert (await submit(client, tenant, body)).status_code == 202
    lead = await tenant.panel.data("{ leads { edges { node { source { firstTouch } } } } }")
    first = lead["leads"]["edges"][0]["node"]["source"]["firstTouch"]
    assert first["utm"] == {"source": "vk", "medium": "social"}
    assert first["click_ids"] == {"yclid": "Y-7"}
    by_first = (await report(tenant.panel, SOURCES, touch="FIRST"))["sources"]
    assert [(row["source"], row["leads"]) for row in by_first] == [("vk", 1)]
    by_last = (await report(tenant.panel, SOURCES, touch="LAST"))["sources"]
    assert [(row["source"], row["leads"]) for row in by_last] == [("yandex", 1)]


async def test_untagged_traffic_is_direct_and_leads_nobody_has_are_unassigned(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    _, manager_id = await panel_as(platform, tenant, "MANAGER")
    rules = """mutation($ws: ID!, $rules: [AssignmentRuleInput!]!) {
      setAssignmentRules(input: {workspaceId: $ws, rules: $rules}) { userErrors { code } } }"""
    by_source = [{"kind": "BY_SOURCE", "utmSource": "yandex", "memberId": manager_id}]
    assert (await platform.data(rules, ws=tenant.workspace_id, rules=by_source))[
        "setAssignmentRules"
    ]["userErrors"] == []
    await new_lead(client, tenant)  # yandex, the manager's
    untagged = submission(email="direct@example.com", phone="")
    untagged["context"] = {"page_url": "https://shop.example.com/"}
    assert (await submit(client, tenant, untagged)).status_code == 202

    reports = await report(tenant.panel, LABELS)
    sources = {row["source"]: row["label"] for row in reports["sources"]}
    assert sources == {"yandex": "yandex", None: "прямой заход"}
    managers = {row["memberId"]: row["label"] for row in reports["managers"]}
    assert managers == {manager_id: "Иван", None: "не назначен"}
