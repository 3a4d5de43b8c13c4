"""Helpers for the CRM workspace tests: leads through the capture route, tokens per role,
and the outbox read back and validated against the published JSON Schemas."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from conftest import GraphQL
from embedcrm.graphql.ids import parse_global_id
from embedcrm.services import Services
from embedcrm.webhooks.models import OutboxEvent
from event_schemas import validate
from factories import ISSUE_TOKEN, LEADS, Tenant, submission, submit


async def panel_as(platform: GraphQL, tenant: Tenant, role: str) -> tuple[GraphQL, str]:
    """A panel client of ``tenant`` with ``role``, and its member id."""
    token = await platform.data(
        ISSUE_TOKEN, ws=tenant.workspace_id, ext=f"user-{uuid.uuid4().hex[:8]}", role=role, ttl=900
    )
    issued = token["issuePanelToken"]
    return GraphQL(platform.client, issued["token"]), issued["member"]["id"]


async def new_lead(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    """Submit a form and answer the newest lead as the panel sees it."""
    fields.setdefault("email", f"{uuid.uuid4().hex[:10]}@example.com")
    fields.setdefault("phone", "")
    response = await submit(client, tenant, submission(**fields))
    assert response.status_code in (200, 202), response.text
    data = await tenant.panel.data(LEADS, first=1)
    node: dict[str, Any] = data["leads"]["edges"][0]["node"]
    return node


async def events(
    services: Services, tenant: Tenant, event_type: str | None = None
) -> list[dict[str, Any]]:
    """The tenant's outbox payloads, oldest first, each matching its schema exactly."""
    workspace = parse_global_id(tenant.workspace_id).row_id
    async with services.db.transaction() as session:
        stmt = select(OutboxEvent).where(OutboxEvent.workspace_id == workspace)
        if event_type:
            stmt = stmt.where(OutboxEvent.type == event_type)
        rows = list(await session.scalars(stmt.order_by(OutboxEvent.created_at, OutboxEvent.id)))
    for row in rows:
        validate(row.payload)
    return [row.payload for row in rows]


def errors_of(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]
