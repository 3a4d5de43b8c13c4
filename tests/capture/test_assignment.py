"""Assignment (K5): rules choose the assignee; the contact gets a personal manager and the
lead a first-response task due after the workspace's answer time."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from conftest import GraphQL
from embedcrm.contacts.models import Contact
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from embedcrm.tasks.models import Task, TaskKind
from factories import ISSUE_TOKEN, LEADS, Tenant, make_tenant, submission, submit

SET_RULES = """mutation($ws: ID!, $rules: [AssignmentRuleInput!]!) {
  setAssignmentRules(input: {workspaceId: $ws, rules: $rules}) {
    rules { kind siteId utmSource memberId } userErrors { field message code } } }"""


async def member(platform: GraphQL, tenant: Tenant, external_id: str, role: str = "MANAGER") -> str:
    data = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext=external_id, role=role, ttl=900
    )
    return str(data["issuePanelToken"]["member"]["id"])


async def assignees(tenant: Tenant) -> list[str | None]:
    edges = (await tenant.panel.data(LEADS))["leads"]["edges"]
    return [e["node"]["assignee"]["id"] if e["node"]["assignee"] else None for e in reversed(edges)]


async def test_round_robin_among_active_managers(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna, boris = await member(platform, tenant, "anna"), await member(platform, tenant, "boris")
    rules = await tenant.panel.data(
        SET_RULES, ws=tenant.workspace_id, rules=[{"kind": "ROUND_ROBIN"}]
    )
    assert rules["setAssignmentRules"]["userErrors"] == []
    for i in range(4):
        await submit(client, tenant, submission(email=f"rr{i}@example.com", phone=""))
    turns = await assignees(tenant)
    assert turns in ([anna, boris, anna, boris], [boris, anna, boris, anna])


async def test_by_site_and_by_source_come_before_round_robin(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    anna, boris = await member(platform, tenant, "anna"), await member(platform, tenant, "boris")
    await tenant.panel.data(
        SET_RULES,
        ws=tenant.workspace_id,
        rules=[
            {"kind": "BY_SOURCE", "utmSource": "google", "memberId": boris},
            {"kind": "BY_SITE", "siteId": tenant.site_id, "memberId": anna},
        ],
    )
    google = submission(email="g@example.com", phone="")
    google["context"]["utm"] = {"source": "google"}
    await submit(client, tenant, google)
    await submit(client, tenant, submission(email="y@example.com", phone=""))
    assert await assignees(tenant) == [boris, anna]


async def test_the_contact_gets_a_manager_and_the_lead_a_task(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    tenant = await make_tenant(platform)
    anna = await member(platform, tenant, "anna")
    await tenant.panel.data(SET_RULES, ws=tenant.workspace_id, rules=[{"kind": "ROUND_ROBIN"}])
    await submit(client, tenant, submission())
    node = (await tenant.panel.data(LEADS))["leads"]["edges"][0]["node"]
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        contact = (
            await session.scalars(select(Contact).where(Contact.workspace_id == workspace))
        ).one()
        task = (await session.scalars(select(Task).where(Task.workspace_id == workspace))).one()
    assert contact.manager_id == parse_global_id(anna).row_id
    assert task.kind is TaskKind.FIRST_RESPONSE
    assert task.assignee_id == contact.manager_id
    assert task.lead_id == parse_global_id(node["id"]).row_id
    assert task.due_at is not None
    from datetime import datetime

    created = datetime.fromisoformat(node["createdAt"])
    assert task.due_at - created == timedelta(minutes=15)


async def test_only_owners_set_rules_and_foreign_ids_are_refused(platform: GraphQL) -> None:
    tenant = await make_tenant(platform, role="MANAGER")
    refused = await tenant.panel.data(
        SET_RULES, ws=tenant.workspace_id, rules=[{"kind": "ROUND_ROBIN"}]
    )
    assert refused["setAssignmentRules"]["userErrors"][0]["code"] == "forbidden"
    other = await make_tenant(platform)
    stranger = await member(platform, other, "stranger")
    owner = await make_tenant(platform)
    foreign = await owner.panel.data(
        SET_RULES,
        ws=owner.workspace_id,
        rules=[{"kind": "BY_SITE", "siteId": other.site_id, "memberId": stranger}],
    )
    assert foreign["setAssignmentRules"]["userErrors"][0]["code"] == "invalid"
    incomplete = await owner.panel.data(
        SET_RULES, ws=owner.workspace_id, rules=[{"kind": "BY_SOURCE"}]
    )
    assert incomplete["setAssignmentRules"]["userErrors"][0]["field"] == "rules.0"
