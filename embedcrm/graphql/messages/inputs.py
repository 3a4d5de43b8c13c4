"""GraphQL inputs and payloads of messages."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.messages.types import Message, MessageChannel, MessageStatus


@strawberry.type
class MessagePayload:
    message: Message | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SendMessageInput:
    contact_id: strawberry.ID
    channel: MessageChannel  # type: ignore[valid-type]
    subject: str = strawberry.field(
        default="", description="Required for EMAIL; SMS and messengers may leave it empty."
    )
    body: str
    lead_id: strawberry.ID | None = None
    language: str | None = strawberry.field(
        default=None, description="ru or en; the workspace's language when left out."
    )


@strawberry.input
class ReportMessageStatusInput:
    id: strawberry.ID
    status: MessageStatus = strawberry.field(  # type: ignore[valid-type]
        description="SENT, DELIVERED or FAILED. A report that would take the message back "
        "(SENT after DELIVERED) changes nothing."
    )
    error: str | None = None
