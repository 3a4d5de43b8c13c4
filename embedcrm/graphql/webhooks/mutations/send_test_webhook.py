"""The send_test_webhook mutation: send a `webhook.test` event to this endpoint."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.webhooks.inputs import SendTestWebhookPayload, WebhookEndpointIdInput
from embedcrm.graphql.webhooks.types import WebhookEndpoint, endpoint_ref, webhook_service


@user_errors_in(SendTestWebhookPayload)
async def resolve(info: Info, input: WebhookEndpointIdInput) -> SendTestWebhookPayload:
    service, principal = webhook_service(info)
    sent = await service.send_test(principal, endpoint_ref(input.id))
    return SendTestWebhookPayload(
        endpoint=WebhookEndpoint.of(sent.endpoint), message_id=sent.message_id
    )
