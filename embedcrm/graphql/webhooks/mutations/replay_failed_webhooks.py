"""The replay_failed_webhooks mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in
from embedcrm.graphql.webhooks.inputs import ReplayFailedWebhooksInput, ReplayFailedWebhooksPayload
from embedcrm.graphql.webhooks.types import endpoint_ref, webhook_service


@user_errors_in(ReplayFailedWebhooksPayload)
async def resolve(info: Info, input: ReplayFailedWebhooksInput) -> ReplayFailedWebhooksPayload:
    service, principal = webhook_service(info)
    return ReplayFailedWebhooksPayload(
        replayed=await service.replay_failed(
            principal, endpoint_ref(input.endpoint_id, "endpointId"), since=input.since
        )
    )
