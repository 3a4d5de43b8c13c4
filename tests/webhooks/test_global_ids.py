"""One id everywhere: every object id in a webhook payload is the global id GraphQL returns, and
`node(id:)` resolves it; every payload names its workspace by id and by the host's externalId."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from crm.crm_support import events

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from factories import CREATE_SITE, ISSUE_TOKEN, Tenant, submission, submit

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
# Payload keys that hold the id of an object of this GraphQL type.
ID_KEYS = {
    "workspace_id": "Workspace",
    "site_id": "Site",
    "contact_id": "Contact",
    "assignee_id": "Member",
    "lead_id": "Lead",
    "merged_contact_id": "Contact",
    "endpoint_id": "WebhookEndpoint",
    "event_id": "WebhookEvent",
}
OBJECTS = {
    "lead": "Lead",
    "contact": "Contact",
    "stage": "Stage",
    "from_stage": "Stage",
    "to_stage": "Stage",
    "assignee": "Member",
    "task": "Task",
    "submission": "Submission",
}


def ids_in(value: Any, owner: str | None = None) -> list[tuple[str, str]]:
    """(expected type, id) of every object id in a payload's data."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and owner in OBJECTS and isinstance(item, str):
                found.append((OBJECTS[owner], item))
            elif key in ID_KEYS and isinstance(item, str):
                found.append((ID_KEYS[key], item))
            else:
                found += ids_in(item, key)
    return found


async def tenant_with_external_id(platform: GraphQL, external_id: str) -> Tenant:
    made = await platform.data(
        'mutation($ext: String) { createWorkspace(input: {name: "Ромашка", externalId: $ext}) '
        "{ workspace { id } } }",
        ext=external_id,
    )
    workspace_id = made["createWorkspace"]["workspace"]["id"]
    site = await platform.data(
        CREATE_SITE, ws=workspace_id, name="Магазин", domains=["shop.example.com"]
    )
    token = await platform.data(ISSUE_TOKEN, ws=workspace_id, ext="owner", role="OWNER", ttl=900)
    return Tenant(
        workspace_id=workspace_id,
        site_id=site["createSite"]["site"]["id"],
        site_key=site["createSite"]["site"]["publicKey"],
        domain="shop.example.com",
        panel=GraphQL(platform.client, token["issuePanelToken"]["token"]),
    )


async def test_payload_ids_are_global_ids_that_node_resolves(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    external_id = f"host-account-{uuid.uuid4().hex[:8]}"
    tenant = await tenant_with_external_id(platform, external_id)
    beside = await tenant_with_external_id(platform, f"host-account-{uuid.uuid4().hex[:8]}")
    assert (await submit(client, tenant, submission(email="one@example.com"))).status_code == 202
    lead = (await tenant.panel.data("{ leads(first: 1) { edges { node { id } } } }"))["leads"]
    lead_id = lead["edges"][0]["node"]["id"]
    stages = await tenant.panel.data("{ pipelines { stages { id } } }")
    await tenant.panel.data(
        "mutation($id: ID!, $stage: ID!) { moveLead(input: {leadId: $id, stageId: $stage}) "
        "{ userErrors { code } } }",
        id=lead_id,
        stage=stages["pipelines"][0]["stages"][1]["id"],
    )

    payloads = await events(services, tenant)
    assert {p["type"] for p in payloads} >= {
        "lead.created",
        "contact.created",
        "task.created",
        "lead.stage_changed",
    }
    checked: set[str] = set()
    for payload in payloads:
        data = payload["data"]
        assert data["workspace_id"] == tenant.workspace_id
        assert data["workspace_external_id"] == external_id
        for type_name, object_id in ids_in(data):
            # The type is in the id itself, and node() answers that object, for the workspace's
            # own panel and for the platform; the workspace beside sees nothing.
            assert parse_global_id(object_id).type_name == type_name, (payload["type"], object_id)
            for reader in (tenant.panel, platform):
                node = (await reader.data(NODE, id=object_id))["node"]
                assert node == {"__typename": type_name, "id": object_id}, (type_name, node)
            assert (await beside.panel.data(NODE, id=object_id))["node"] is None
            checked.add(type_name)
    assert checked >= {"Workspace", "Site", "Lead", "Contact", "Stage", "Task"}


async def test_a_workspace_without_an_external_id_says_null(
    client: httpx.AsyncClient, platform: GraphQL, services: Services
) -> None:
    made = await platform.data(
        'mutation { createWorkspace(input: {name: "B"}) { workspace { id } } }'
    )
    workspace_id = made["createWorkspace"]["workspace"]["id"]
    site = await platform.data(CREATE_SITE, ws=workspace_id, name="S", domains=["b.example.com"])
    token = await platform.data(ISSUE_TOKEN, ws=workspace_id, ext="o", role="OWNER", ttl=900)
    tenant = Tenant(
        workspace_id=workspace_id,
        site_id=site["createSite"]["site"]["id"],
        site_key=site["createSite"]["site"]["publicKey"],
        domain="b.example.com",
        panel=GraphQL(platform.client, token["issuePanelToken"]["token"]),
    )
    assert (await submit(client, tenant, submission(email="b@example.com"))).status_code == 202
    payloads = await events(services, tenant)
    assert payloads
    for payload in payloads:
        assert payload["data"]["workspace_id"] == workspace_id
        assert payload["data"]["workspace_external_id"] is None
        assert payload["data"]["site_id"] in (tenant.site_id, None)
