"""The update_message_template mutation: change what is given, leave the rest."""

from __future__ import annotations

from typing import Any

from embedcrm.errors import ValidationFailed
from embedcrm.graphql.context import Info
from embedcrm.graphql.messages.inputs import MessageTemplatePayload, UpdateMessageTemplateInput
from embedcrm.graphql.messages.types import MessageTemplate
from embedcrm.graphql.support import UNSET, given, parse_id, scoped_id, user_errors_in

# Fields a template cannot be without: null is refused rather than stored.
REQUIRED = ("name", "channel", "language", "subject", "body", "trigger", "active")


@user_errors_in(MessageTemplatePayload)
async def resolve(info: Info, input: UpdateMessageTemplateInput) -> MessageTemplatePayload:
    ctx = info.context
    template = parse_id(input.id, "MessageTemplate")
    workspace = template.workspace_id
    changes: dict[str, Any] = given(
        name=input.name,
        channel=input.channel,
        language=input.language,
        subject=input.subject,
        body=input.body,
        trigger=input.trigger,
        hours_before=input.hours_before,
        field_key=input.field_key,
        quiet_from=input.quiet_from,
        quiet_to=input.quiet_to,
        active=input.active,
    )
    for name in REQUIRED:
        if name in changes and changes[name] is None:
            raise ValidationFailed(f"{name} cannot be null.", field=name)
    if input.stage_id is not UNSET:
        changes["stage_id"] = scoped_id(input.stage_id, "Stage", "stageId", workspace)
    row = await ctx.services.templates.update(ctx.principal, workspace, template.row_id, changes)
    return MessageTemplatePayload(template=MessageTemplate.of(row))
