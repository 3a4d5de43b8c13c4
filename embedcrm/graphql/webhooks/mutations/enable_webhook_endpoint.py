"""The enable_webhook_endpoint mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.webhooks.inputs import (
    WebhookEndpointIdInput,
    WebhookEndpointPayload,
    endpoint_payload,
)
from embedcrm.graphql.webhooks.types import endpoint_ref, webhook_service


async def resolve(info: Info, input: WebhookEndpointIdInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)
    return await endpoint_payload(
        lambda: service.set_enabled(principal, endpoint_ref(input.id), enabled=True)
    )
