"""totalCount counts the whole list, not the page that was asked for."""

from __future__ import annotations

import httpx
from crm_support import new_lead

from conftest import GraphQL
from factories import make_tenant, submission, submit

NOTE = """mutation($id: ID!, $body: String!) { addActivity(input: {leadId: $id, kind: NOTE, body: $body}) {
  userErrors { code } } }"""
TIMELINE = """query($id: ID!) { node(id: $id) { ... on Lead { timeline(first: 1) {
  totalCount edges { node { id } } pageInfo { hasNextPage } } } } }"""


async def test_a_timeline_total_is_not_its_page(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    lead = await new_lead(client, tenant, email="t@example.com")
    for body in ("один", "два", "три"):
        assert (await tenant.panel.data(NOTE, id=lead["id"], body=body))["addActivity"][
            "userErrors"
        ] == []
    timeline = (await tenant.panel.data(TIMELINE, id=lead["id"]))["node"]["timeline"]
    assert len(timeline["edges"]) == 1 and timeline["pageInfo"]["hasNextPage"] is True
    assert timeline["totalCount"] == 4  # the submission and three notes


async def test_merge_proposals_total_is_not_its_page(
    client: httpx.AsyncClient, platform: GraphQL
) -> None:
    tenant = await make_tenant(platform)
    for i in range(3):
        await submit(client, tenant, submission(email=f"e{i}@example.com", phone=""))
        await submit(
            client, tenant, submission(email=f"other{i}@example.com", phone=f"+7999000112{i}")
        )
        await submit(client, tenant, submission(email=f"e{i}@example.com", phone=f"+7999000112{i}"))
    page = await tenant.panel.data(
        "{ mergeProposals(first: 1) { totalCount edges { node { id } } } }"
    )
    assert len(page["mergeProposals"]["edges"]) == 1
    assert page["mergeProposals"]["totalCount"] == 3
