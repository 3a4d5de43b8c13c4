"""GraphQL types of webhooks: endpoints, deliveries and the event feed."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.auth import Principal
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Node
from embedcrm.graphql.ids import GlobalId, parse_global_id, to_global_id
from embedcrm.graphql.nodes import loads_row, loads_visible
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, connection
from embedcrm.kit.repository import Window
from embedcrm.webhooks import models as wh
from embedcrm.webhooks.service import EndpointRef, WebhookService

WebhookDeliveryStatus = strawberry.enum(wh.DeliveryStatus, name="WebhookDeliveryStatus")


def endpoint_gid(endpoint: wh.Endpoint) -> strawberry.ID:
    # A platform-wide endpoint carries the reserved platform workspace in its id.
    workspace = endpoint.workspace_id or wh.PLATFORM_WORKSPACE_ID
    return strawberry.ID(to_global_id("WebhookEndpoint", workspace, endpoint.id))


def endpoint_ref(value: strawberry.ID, field: str = "id") -> EndpointRef:
    gid = parse_global_id(value, expected="WebhookEndpoint", field=field)
    workspace = None if gid.workspace_id == wh.PLATFORM_WORKSPACE_ID else gid.workspace_id
    return EndpointRef(workspace, gid.row_id)


@strawberry.type(description="One HTTP request of a delivery, with what the receiver answered.")
class WebhookAttempt(Node):
    delivery_id: strawberry.ID
    attempt_number: int
    succeeded: bool
    status_code: int | None
    duration_ms: int | None
    response_excerpt: str | None
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: wh.WebhookAttempt) -> WebhookAttempt:
        return cls(
            id=strawberry.ID(to_global_id("WebhookAttempt", row.workspace_id, row.id)),
            delivery_id=strawberry.ID(
                to_global_id("WebhookDelivery", row.workspace_id, row.delivery_id)
            ),
            attempt_number=row.attempt_number,
            succeeded=row.succeeded,
            status_code=row.status_code,
            duration_ms=row.duration_ms,
            response_excerpt=row.response_excerpt,
            error=row.error,
            created_at=row.created_at,
        )


@strawberry.type(description="One event to one endpoint: its state and its retries.")
class WebhookDelivery(Node):
    event_id: strawberry.ID
    message_id: str = strawberry.field(description="The webhook-id, the same on every attempt.")
    event_type: str
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempt_count: int
    sequence: int | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: wh.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", row.workspace_id, row.id)),
            event_id=strawberry.ID(to_global_id("WebhookEvent", row.workspace_id, row.event_id)),
            message_id=row.message_id,
            event_type=row.event_type,
            status=row.status,
            attempt_count=row.attempt_count,
            sequence=row.sequence,
            next_attempt_at=row.next_attempt_at,
            last_attempt_at=row.last_attempt_at,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


def _opened_secret(root: WebhookEndpoint, info: Info) -> str:
    # Stored sealed: opened only when an answer asks for the secret.
    return info.context.services.webhooks.secrets.open(root._sealed_secret)


@strawberry.type(description="Where events are sent, signed with its own secret.")
class WebhookEndpoint(Node):
    url: str
    secret: str = strawberry.field(
        resolver=_opened_secret, description="The current `whsec_` secret."
    )
    event_types: list[str] = strawberry.field(description="Types it receives; empty means all.")
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then the previous secret signs beside the current one."
    )
    workspace_id: strawberry.ID | None = strawberry.field(
        description="null for a platform-wide endpoint, which receives every workspace's events."
    )
    created_at: datetime
    updated_at: datetime
    _ref: strawberry.Private[EndpointRef]
    _sealed_secret: strawberry.Private[str]

    @strawberry.field(description="Deliveries to this endpoint, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[WebhookDelivery]:
        service, principal = webhook_service(info)
        page = await service.deliveries_page(
            principal, self._ref, window=Window(first, after, last, before), status=status
        )
        return connection(
            page,
            WebhookDelivery.of,
            lambda: service.count_deliveries(principal, self._ref, status),
        )

    @strawberry.field(description="HTTP attempts to this endpoint, newest first.")
    async def attempts(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookAttempt]:
        service, principal = webhook_service(info)
        page = await service.attempts_page(
            principal, self._ref, window=Window(first, after, last, before)
        )
        return connection(
            page, WebhookAttempt.of, lambda: service.count_attempts(principal, self._ref)
        )

    @classmethod
    def of(cls, row: wh.Endpoint) -> WebhookEndpoint:
        workspace = row.workspace_id
        return cls(
            id=endpoint_gid(row),
            url=row.url,
            event_types=list(row.event_types),
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            failing_since=row.failing_since,
            previous_secret_expires_at=row.previous_secret_expires_at,
            workspace_id=None
            if workspace is None
            else strawberry.ID(to_global_id("Workspace", workspace, workspace)),
            created_at=row.created_at,
            updated_at=row.updated_at,
            _ref=EndpointRef(workspace, row.id),
            _sealed_secret=row.secret,
        )


@strawberry.type(description="An event as sent in webhooks, for the pull feed.")
class WebhookEvent(Node):
    type: str
    message_id: str
    timestamp: datetime
    data: JSON

    @classmethod
    def of(cls, row: wh.OutboxEvent) -> WebhookEvent:
        return cls(
            id=strawberry.ID(to_global_id("WebhookEvent", row.workspace_id, row.id)),
            type=row.type,
            message_id=row.message_id,
            timestamp=row.created_at,
            data=cast(JSON, row.payload.get("data", {})),
        )


def webhook_service(info: Info) -> tuple[WebhookService, Principal]:
    return info.context.services.webhooks, info.context.principal


@loads_row("WebhookEndpoint", WebhookEndpoint.of)
async def _endpoint(info: Info, gid: GlobalId) -> wh.Endpoint:
    ref = endpoint_ref(strawberry.ID(gid.encode()))
    return await info.context.services.webhooks.get_endpoint(info.context.principal, ref)


loads_visible("WebhookEvent", WebhookEvent.of, lambda s: s.webhooks.event)


loads_visible("WebhookDelivery", WebhookDelivery.of, lambda s: s.webhooks.delivery)


loads_visible("WebhookAttempt", WebhookAttempt.of, lambda s: s.webhooks.attempt)
