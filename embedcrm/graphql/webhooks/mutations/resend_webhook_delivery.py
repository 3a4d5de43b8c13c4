"""The resend_webhook_delivery mutation: send one delivery again, with its original webhook-id."""

from __future__ import annotations

from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.webhooks.inputs import (
    ResendWebhookDeliveryInput,
    ResendWebhookDeliveryPayload,
)
from embedcrm.graphql.webhooks.types import WebhookDelivery, webhook_service


@user_errors_in(ResendWebhookDeliveryPayload)
async def resolve(info: Info, input: ResendWebhookDeliveryInput) -> ResendWebhookDeliveryPayload:
    service, principal = webhook_service(info)
    gid = parse_global_id(input.id, expected="WebhookDelivery", field="id")
    if not info.context.can_see(gid.workspace_id):
        raise NotFound("Nothing has this id.", field="id")
    return ResendWebhookDeliveryPayload(
        delivery=WebhookDelivery.of(await service.resend(principal, gid.workspace_id, gid.row_id))
    )
