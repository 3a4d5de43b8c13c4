"""The bodies of the webhooks query fields: parse the arguments, call one service, convert."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection, workspace_arg
from embedcrm.graphql.webhooks.types import (
    WebhookEndpoint,
    WebhookEvent,
    endpoint_ref,
    webhook_service,
)
from embedcrm.kit.repository import Window


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
    first: int | None = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    workspace_id: strawberry.ID | None = None,
) -> Connection[WebhookEvent]:
    service, principal = webhook_service(info)
    page = await service.events_page(
        principal, workspace_arg(workspace_id), window=Window(first, after, last, before)
    )

    async def count() -> int:
        # Counted only when asked for: a feed is read by cursor, and the count is a scan.
        return await service.count_events(principal, workspace_arg(workspace_id))

    feed = connection(page, WebhookEvent.of, count)
    if not page.rows and last is None:
        # An empty page read forward keeps its place: polling goes on from the same cursor.
        feed.page_info.end_cursor = after
    return feed
