"""GraphQL inputs and payloads of messages."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.core import UserError
from embedcrm.graphql.messages.types import (
    Holiday,
    Message,
    MessageChannel,
    MessageStatus,
    MessageTemplate,
    TemplateTrigger,
)
from embedcrm.graphql.support import UNSET
from embedcrm.messages import models as message_models


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


@strawberry.type
class MessageTemplatePayload:
    template: MessageTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateMessageTemplateInput:
    workspace_id: strawberry.ID | None = None
    name: str
    channel: MessageChannel  # type: ignore[valid-type]
    language: str = strawberry.field(description="ru or en.")
    subject: str = ""
    body: str
    trigger: TemplateTrigger = message_models.TemplateTrigger.MANUAL  # type: ignore[valid-type]
    stage_id: strawberry.ID | None = None
    hours_before: int | None = None
    field_key: str | None = None
    quiet_from: str | None = strawberry.field(
        default=None, description="HH:MM on the client's wall clock; with quietTo."
    )
    quiet_to: str | None = None
    active: bool = True


@strawberry.input
class UpdateMessageTemplateInput:
    id: strawberry.ID
    name: str | None = UNSET
    channel: MessageChannel | None = UNSET  # type: ignore[valid-type]
    language: str | None = UNSET
    subject: str | None = UNSET
    body: str | None = UNSET
    trigger: TemplateTrigger | None = UNSET  # type: ignore[valid-type]
    stage_id: strawberry.ID | None = UNSET
    hours_before: int | None = UNSET
    field_key: str | None = UNSET
    quiet_from: str | None = UNSET
    quiet_to: str | None = UNSET
    active: bool | None = UNSET


@strawberry.input
class SendTemplateToSegmentInput:
    template_id: strawberry.ID
    segment_id: strawberry.ID
    send_key: str = strawberry.field(
        description=(
            "Names this send: sending again with the same key (a retry) reaches only the "
            "contacts the first did not."
        )
    )


@strawberry.type
class SendTemplateToSegmentPayload:
    queued: int = strawberry.field(default=0, description="Contacts with a message of this send.")
    skipped: int = strawberry.field(
        default=0, description="Contacts without an address for the channel, or unsubscribed."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class HolidayInput:
    date: str = strawberry.field(description="MM-DD, as 03-08.")
    name: str


@strawberry.input
class SetHolidaysInput:
    workspace_id: strawberry.ID | None = None
    holidays: list[HolidayInput] = strawberry.field(
        description="The whole list; an empty one brings back the Russian holidays."
    )


@strawberry.type
class HolidaysPayload:
    holidays: list[Holiday] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
