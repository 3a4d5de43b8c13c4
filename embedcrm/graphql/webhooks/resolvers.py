"""The bodies of the webhooks query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Edge, PageInfo
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, workspace_arg
from embedcrm.graphql.webhooks.types import (
    WebhookEndpoint,
    WebhookEvent,
    endpoint_ref,
    webhook_service,
)
from embedcrm.webhooks.repository import encode_position


async def webhook_endpoints(
    info: Info, workspace_id: strawberry.ID | None = None
) -> list[WebhookEndpoint]:
    service, principal = webhook_service(info)
    rows = await service.list_endpoints(principal, workspace_arg(workspace_id))
    return [WebhookEndpoint.of(row) for row in rows]


async def webhook_endpoint(info: Info, id: strawberry.ID) -> WebhookEndpoint:
    service, principal = webhook_service(info)
    return WebhookEndpoint.of(await service.get_endpoint(principal, endpoint_ref(id)))


async def events(
    info: Info,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    workspace_id: strawberry.ID | None = None,
) -> Connection[WebhookEvent]:
    service, principal = webhook_service(info)
    page = await service.events_page(
        principal, workspace_arg(workspace_id), first=first, after=after
    )
    edges = [
        Edge(cursor=encode_position(row.position or 0), node=WebhookEvent.of(row))
        for row in page.rows
    ]

    async def count() -> int:
        # Counted only when asked for: a feed is read by cursor, and the count is a scan.
        return await service.count_events(principal, workspace_arg(workspace_id))

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            end_cursor=edges[-1].cursor if edges else after,
        ),
        _count=count,
    )
