"""GraphQL for webhooks: endpoints, their delivery log, replays and the pull feed of events."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.auth import Principal
from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import Connection, Edge, Node, PageInfo, UserError
from embedcrm.graphql.ids import parse_global_id, to_global_id
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, as_payload, connection, workspace_arg
from embedcrm.webhooks import models as wh
from embedcrm.webhooks.repository import encode_position
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


@strawberry.type(description="Where events are sent, signed with its own secret.")
class WebhookEndpoint(Node):
    url: str
    secret: str = strawberry.field(description="The current `whsec_` secret.")
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

    @strawberry.field(description="Deliveries to this endpoint, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[WebhookDelivery]:
        service, principal = _service(info)
        page = await service.deliveries_page(
            principal, self._ref, first=first, after=after, status=status
        )
        return connection(
            page,
            WebhookDelivery.of,
            lambda: service.count_deliveries(principal, self._ref, status),
        )

    @strawberry.field(description="HTTP attempts to this endpoint, newest first.")
    async def attempts(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[WebhookAttempt]:
        service, principal = _service(info)
        page = await service.attempts_page(principal, self._ref, first=first, after=after)
        return connection(
            page, WebhookAttempt.of, lambda: service.count_attempts(principal, self._ref)
        )

    @classmethod
    def of(cls, row: wh.Endpoint) -> WebhookEndpoint:
        workspace = row.workspace_id
        return cls(
            id=endpoint_gid(row),
            url=row.url,
            secret=row.secret,
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


def _service(info: Info) -> tuple[WebhookService, Principal]:
    return info.context.services.webhooks, info.context.principal


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Endpoints of a workspace; a platform key without workspaceId gets the "
        "platform-wide ones."
    )
    async def webhook_endpoints(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[WebhookEndpoint]:
        service, principal = _service(info)
        rows = await service.list_endpoints(principal, workspace_arg(workspace_id))
        return [WebhookEndpoint.of(row) for row in rows]

    @strawberry.field
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        service, principal = _service(info)
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
        service, principal = _service(info)
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


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    event_types: list[str] = strawberry.field(
        default_factory=list, description="Event types to receive; empty means all."
    )
    workspace_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="null: platform-wide (platform key only); a panel token always means its "
        "own workspace.",
    )


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = None


@strawberry.input
class RotateWebhookSecretInput:
    id: strawberry.ID
    overlap_seconds: int = strawberry.field(
        default=24 * 3600, description="How long the previous secret keeps signing too."
    )


@strawberry.input
class WebhookEndpointIdInput:
    id: strawberry.ID


@strawberry.input
class ResendWebhookDeliveryInput:
    id: strawberry.ID


@strawberry.input
class ReplayFailedWebhooksInput:
    endpoint_id: strawberry.ID
    since: datetime


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SendTestWebhookPayload:
    endpoint: WebhookEndpoint | None = None
    message_id: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ResendWebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReplayFailedWebhooksPayload:
    replayed: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _endpoint_payload(
    call: Callable[[], Awaitable[wh.Endpoint]],
) -> Awaitable[WebhookEndpointPayload]:
    return as_payload(
        call,
        lambda row: WebhookEndpointPayload(endpoint=WebhookEndpoint.of(row)),
        lambda errors: WebhookEndpointPayload(user_errors=errors),
    )


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register an endpoint; its secret is in the answer.")
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        service, principal = _service(info)

        async def call() -> wh.Endpoint:
            workspace: uuid.UUID | None = None
            if input.workspace_id is not None:
                workspace = parse_global_id(
                    input.workspace_id, expected="Workspace", field="workspaceId"
                ).row_id
            return await service.create_endpoint(
                principal, url=input.url, event_types=input.event_types, workspace_id=workspace
            )

        return await _endpoint_payload(call)

    @strawberry.mutation
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        service, principal = _service(info)
        return await _endpoint_payload(
            lambda: service.update_endpoint(
                principal, endpoint_ref(input.id), url=input.url, event_types=input.event_types
            )
        )

    @strawberry.mutation(description="A new secret; the old one signs beside it for the overlap.")
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> WebhookEndpointPayload:
        service, principal = _service(info)
        return await _endpoint_payload(
            lambda: service.rotate_secret(
                principal, endpoint_ref(input.id), overlap=timedelta(seconds=input.overlap_seconds)
            )
        )

    @strawberry.mutation
    async def enable_webhook_endpoint(
        self, info: Info, input: WebhookEndpointIdInput
    ) -> WebhookEndpointPayload:
        service, principal = _service(info)
        return await _endpoint_payload(
            lambda: service.set_enabled(principal, endpoint_ref(input.id), enabled=True)
        )

    @strawberry.mutation(description="Stop sending; events meanwhile are kept for a replay.")
    async def disable_webhook_endpoint(
        self, info: Info, input: WebhookEndpointIdInput
    ) -> WebhookEndpointPayload:
        service, principal = _service(info)
        return await _endpoint_payload(
            lambda: service.set_enabled(principal, endpoint_ref(input.id), enabled=False)
        )

    @strawberry.mutation(description="Send a `webhook.test` event to this endpoint.")
    async def send_test_webhook(
        self, info: Info, input: WebhookEndpointIdInput
    ) -> SendTestWebhookPayload:
        service, principal = _service(info)
        return await as_payload(
            lambda: service.send_test(principal, endpoint_ref(input.id)),
            lambda sent: SendTestWebhookPayload(
                endpoint=WebhookEndpoint.of(sent.endpoint), message_id=sent.message_id
            ),
            lambda errors: SendTestWebhookPayload(user_errors=errors),
        )

    @strawberry.mutation(description="Send one delivery again, with its original webhook-id.")
    async def resend_webhook_delivery(
        self, info: Info, input: ResendWebhookDeliveryInput
    ) -> ResendWebhookDeliveryPayload:
        service, principal = _service(info)

        async def call() -> wh.WebhookDelivery:
            gid = parse_global_id(input.id, expected="WebhookDelivery", field="id")
            if not info.context.can_see(gid.workspace_id):
                raise NotFound("Nothing has this id.", field="id")
            return await service.resend(principal, gid.workspace_id, gid.row_id)

        return await as_payload(
            call,
            lambda row: ResendWebhookDeliveryPayload(delivery=WebhookDelivery.of(row)),
            lambda errors: ResendWebhookDeliveryPayload(user_errors=errors),
        )

    @strawberry.mutation(
        description="Send again every failed or skipped delivery of an endpoint since a time."
    )
    async def replay_failed_webhooks(
        self, info: Info, input: ReplayFailedWebhooksInput
    ) -> ReplayFailedWebhooksPayload:
        service, principal = _service(info)
        return await as_payload(
            lambda: service.replay_failed(
                principal, endpoint_ref(input.endpoint_id, "endpointId"), since=input.since
            ),
            lambda replayed: ReplayFailedWebhooksPayload(replayed=replayed),
            lambda errors: ReplayFailedWebhooksPayload(user_errors=errors),
        )


TYPES: list[Any] = [WebhookEndpoint, WebhookDelivery, WebhookAttempt, WebhookEvent]
