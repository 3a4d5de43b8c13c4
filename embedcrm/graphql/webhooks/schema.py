"""GraphQL for webhooks: endpoints, their delivery log, replays and the pull feed of events."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Edge, PageInfo
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, workspace_arg
from embedcrm.graphql.webhooks import mutations
from embedcrm.graphql.webhooks.types import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    endpoint_ref,
    webhook_service,
)
from embedcrm.webhooks.repository import encode_position


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Endpoints of a workspace; a platform key without workspaceId gets the "
        "platform-wide ones."
    )
    async def webhook_endpoints(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[WebhookEndpoint]:
        service, principal = webhook_service(info)
        rows = await service.list_endpoints(principal, workspace_arg(workspace_id))
        return [WebhookEndpoint.of(row) for row in rows]

    @strawberry.field
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        service, principal = webhook_service(info)
        return WebhookEndpoint.of(await service.get_endpoint(principal, endpoint_ref(id)))

    @strawberry.field(
        description="Events oldest first, as a fallback to webhooks. The order is commit-safe: "
        "keep endCursor and pass it as `after`; no event committed later can appear before it."
    )
    async def events(
        self,
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


@strawberry.type
class WebhookMutation:
    create_webhook_endpoint = strawberry.mutation(
        resolver=mutations.create_webhook_endpoint.resolve,
        description="Register an endpoint; its secret is in the answer.",
    )

    update_webhook_endpoint = strawberry.mutation(
        resolver=mutations.update_webhook_endpoint.resolve
    )

    rotate_webhook_secret = strawberry.mutation(
        resolver=mutations.rotate_webhook_secret.resolve,
        description="A new secret; the old one signs beside it for the overlap.",
    )

    enable_webhook_endpoint = strawberry.mutation(
        resolver=mutations.enable_webhook_endpoint.resolve
    )

    disable_webhook_endpoint = strawberry.mutation(
        resolver=mutations.disable_webhook_endpoint.resolve,
        description="Stop sending; events meanwhile are kept for a replay.",
    )

    send_test_webhook = strawberry.mutation(
        resolver=mutations.send_test_webhook.resolve,
        description="Send a `webhook.test` event to this endpoint.",
    )

    resend_webhook_delivery = strawberry.mutation(
        resolver=mutations.resend_webhook_delivery.resolve,
        description="Send one delivery again, with its original webhook-id.",
    )

    replay_failed_webhooks = strawberry.mutation(
        resolver=mutations.replay_failed_webhooks.resolve,
        description="Send again every failed or skipped delivery of an endpoint since a time.",
    )


TYPES: list[Any] = [WebhookEndpoint, WebhookDelivery, WebhookAttempt, WebhookEvent]
