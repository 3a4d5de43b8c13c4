"""The create_webhook_endpoint mutation: register an endpoint; its secret is in the answer."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import parse_global_id
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.webhooks.inputs import CreateWebhookEndpointInput, WebhookEndpointPayload
from embedcrm.graphql.webhooks.types import WebhookEndpoint, webhook_service


@user_errors_in(WebhookEndpointPayload)
async def resolve(info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
    service, principal = webhook_service(info)
    workspace = None
    if input.workspace_id is not None:
        workspace = parse_global_id(
            input.workspace_id, expected="Workspace", field="workspaceId"
        ).row_id
    endpoint = await service.create_endpoint(
        principal, url=input.url, event_types=input.event_types, workspace_id=workspace
    )
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(endpoint))
