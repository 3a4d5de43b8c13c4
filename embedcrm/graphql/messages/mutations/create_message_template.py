"""The create_message_template mutation: a template with variables, and its trigger."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.messages.inputs import CreateMessageTemplateInput, MessageTemplatePayload
from embedcrm.graphql.messages.types import MessageTemplate
from embedcrm.graphql.support import scoped_id, user_errors_in, workspace_arg


@user_errors_in(MessageTemplatePayload)
async def resolve(info: Info, input: CreateMessageTemplateInput) -> MessageTemplatePayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    template = await ctx.services.templates.create(
        ctx.principal,
        workspace,
        {
            "name": input.name,
            "channel": input.channel,
            "language": input.language,
            "subject": input.subject,
            "body": input.body,
            "trigger": input.trigger,
            "stage_id": scoped_id(input.stage_id, "Stage", "stageId", workspace),
            "hours_before": input.hours_before,
            "field_key": input.field_key,
            "quiet_from": input.quiet_from,
            "quiet_to": input.quiet_to,
            "active": input.active,
        },
    )
    return MessageTemplatePayload(template=MessageTemplate.of(template))
