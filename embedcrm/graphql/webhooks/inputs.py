"""GraphQL inputs and payloads of webhooks: endpoints, deliveries and the event feed."""

from __future__ import annotations

from datetime import datetime

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.webhooks.types import WebhookDelivery, WebhookEndpoint


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
