"""The report_message_status mutation: the host's gateway says what became of a message."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.messages.inputs import MessagePayload, ReportMessageStatusInput
from embedcrm.graphql.messages.types import Message
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(MessagePayload)
async def resolve(info: Info, input: ReportMessageStatusInput) -> MessagePayload:
    ctx = info.context
    message = parse_id(input.id, "Message")
    return MessagePayload(
        message=Message.of(
            await ctx.services.messages.report_status(
                ctx.principal,
                message.workspace_id,
                message.row_id,
                status=input.status,
                error=input.error,
            )
        )
    )
