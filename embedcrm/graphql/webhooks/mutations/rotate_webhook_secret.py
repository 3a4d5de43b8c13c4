"""The rotate_webhook_secret mutation: a new secret; the old one signs beside it for the overlap."""

from __future__ import annotations

from datetime import timedelta

from embedcrm.graphql.context import Info
from embedcrm.graphql.webhooks.inputs import (
    RotateWebhookSecretInput,
    WebhookEndpointPayload,
    endpoint_payload,
)
from embedcrm.graphql.webhooks.types import endpoint_ref, webhook_service


async def resolve(info: Info, input: RotateWebhookSecretInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)
    return await endpoint_payload(
        lambda: service.rotate_secret(
            principal, endpoint_ref(input.id), overlap=timedelta(seconds=input.overlap_seconds)
        )
    )
