"""GraphQL for webhooks: endpoints, their delivery log, replays and the pull feed of events."""

from __future__ import annotations

from typing import Any

import strawberry

from embedcrm.graphql.webhooks import mutations, resolvers
from embedcrm.graphql.webhooks.types import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


@strawberry.type
class WebhookQuery:
    webhook_endpoints = strawberry.field(
        resolver=resolvers.webhook_endpoints,
        description="Endpoints of a workspace; a platform key without workspaceId gets the "
        "platform-wide ones.",
    )

    webhook_endpoint = strawberry.field(resolver=resolvers.webhook_endpoint)

    events = strawberry.field(
        resolver=resolvers.events,
        description="Events oldest first, as a fallback to webhooks. The order is commit-safe: "
        "keep endCursor and pass it as `after`; no event committed later can appear before it.",
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
