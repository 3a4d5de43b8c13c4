"""The update_webhook_endpoint mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.webhooks.inputs import (
    UpdateWebhookEndpointInput,
    WebhookEndpointPayload,
    endpoint_payload,
)
from embedcrm.graphql.webhooks.types import endpoint_ref, webhook_service


async def resolve(info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)
    return await endpoint_payload(
        lambda: service.update_endpoint(
            principal, endpoint_ref(input.id), url=input.url, event_types=input.event_types
        )
    )
