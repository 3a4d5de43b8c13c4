"""The send_message mutation: a message a member writes to one contact."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.messages.inputs import MessagePayload, SendMessageInput
from embedcrm.graphql.messages.types import Message
from embedcrm.graphql.support import parse_id, scoped_id, user_errors_in


@user_errors_in(MessagePayload)
async def resolve(info: Info, input: SendMessageInput) -> MessagePayload:
    ctx = info.context
    contact = parse_id(input.contact_id, "Contact", "contactId")
    workspace = contact.workspace_id
    return MessagePayload(
        message=Message.of(
            await ctx.services.messages.send_message(
                ctx.principal,
                workspace,
                contact_id=contact.row_id,
                channel=input.channel,
                subject=input.subject,
                body=input.body,
                lead_id=scoped_id(input.lead_id, "Lead", "leadId", workspace),
                language=input.language,
            )
        )
    )
