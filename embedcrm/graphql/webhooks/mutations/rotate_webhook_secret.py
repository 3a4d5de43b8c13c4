"""The rotate_webhook_secret mutation: a new secret; the old one signs beside it for the overlap."""

from __future__ import annotations

from datetime import timedelta

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.webhooks.inputs import RotateWebhookSecretInput, WebhookEndpointPayload
from embedcrm.graphql.webhooks.types import WebhookEndpoint, endpoint_ref, webhook_service


@user_errors_in(WebhookEndpointPayload)
async def resolve(info: Info, input: RotateWebhookSecretInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)
    endpoint = await service.rotate_secret(
        principal, endpoint_ref(input.id), overlap=timedelta(seconds=input.overlap_seconds)
    )
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint))
