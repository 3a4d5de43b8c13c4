"""The update_alert_settings mutation: a member's channels, quiet hours and digest."""

from __future__ import annotations

from embedcrm.graphql.alerts.inputs import AlertSettingsPayload, UpdateAlertSettingsInput
from embedcrm.graphql.alerts.resolvers import member_of
from embedcrm.graphql.alerts.types import AlertSettings
from embedcrm.graphql.context import Info
from embedcrm.graphql.support import user_errors_in


@user_errors_in(AlertSettingsPayload)
async def resolve(info: Info, input: UpdateAlertSettingsInput) -> AlertSettingsPayload:
    workspace, member = member_of(info, input.member_id)
    row = await info.context.services.alerts.update_settings(
        info.context.principal,
        workspace,
        member,
        channels=list(input.channels),
        phone=input.phone,
        telegram_chat=input.telegram_chat,
        quiet_from=input.quiet_from,
        quiet_to=input.quiet_to,
        digest=input.digest,
    )
    return AlertSettingsPayload(settings=AlertSettings.of(workspace, member, row))
