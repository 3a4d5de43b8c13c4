"""The enable_webhook_endpoint mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.webhooks.inputs import WebhookEndpointIdInput, WebhookEndpointPayload
from embedcrm.graphql.webhooks.types import WebhookEndpoint, endpoint_ref, webhook_service


@user_errors_in(WebhookEndpointPayload)
async def resolve(info: Info, input: WebhookEndpointIdInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)
    endpoint = await service.set_enabled(principal, endpoint_ref(input.id), enabled=True)
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint))
