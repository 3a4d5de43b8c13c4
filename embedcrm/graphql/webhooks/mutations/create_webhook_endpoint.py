"""The create_webhook_endpoint mutation: register an endpoint; its secret is in the answer."""

from __future__ import annotations

import uuid

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.webhooks.inputs import (
    CreateWebhookEndpointInput,
    WebhookEndpointPayload,
    endpoint_payload,
)
from embedcrm.graphql.webhooks.types import webhook_service
from embedcrm.webhooks import models as wh


async def resolve(info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)

    async def call() -> wh.Endpoint:
        workspace: uuid.UUID | None = None
        if input.workspace_id is not None:
            workspace = parse_global_id(
                input.workspace_id, expected="Workspace", field="workspaceId"
            ).row_id
        return await service.create_endpoint(
            principal, url=input.url, event_types=input.event_types, workspace_id=workspace
        )

    return await endpoint_payload(call)
