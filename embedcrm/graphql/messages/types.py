"""GraphQL types of messages to clients and members."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.nodes import loads_visible
from embedcrm.messages import models as message_models
from embedcrm.messages.quiet import format_time_of_day

MessageChannel = strawberry.enum(
    message_models.MessageChannel,
    name="MessageChannel",
    description=(
        "EMAIL goes over the built-in SMTP when EMBEDCRM_SMTP_URL is set; every other channel, "
        "and EMAIL without it, goes to the host's gateway as `message.requested`."
    ),
)
MessageStatus = strawberry.enum(message_models.MessageStatus, name="MessageStatus")
TemplateTrigger = strawberry.enum(
    message_models.TemplateTrigger,
    name="TemplateTrigger",
    description=(
        "MANUAL: sent by hand or to a segment; STAGE: when a lead enters stageId; REMINDER: "
        "hoursBefore a task or appointment about the client falls due; DATE: on the date in "
        "the contact's custom field fieldKey (a birthday); HOLIDAY: on each of the "
        "workspace's holidays."
    ),
)


@strawberry.type
class Message(Node):
    channel: MessageChannel  # type: ignore[valid-type]
    status: MessageStatus  # type: ignore[valid-type]
    recipient: str
    template: str
    language: str
    subject: str
    body: str
    attempts: int
    last_error: str | None
    idempotency_key: str = strawberry.field(
        description="The same on every attempt: `message.requested` carries it to the gateway."
    )
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    contact_id: strawberry.ID | None
    lead_id: strawberry.ID | None

    @classmethod
    def of(cls, row: message_models.Message) -> Message:
        return cls(
            id=node_id("Message", row),
            channel=row.channel,
            status=row.status,
            recipient=row.recipient,
            template=row.template,
            language=row.language,
            subject=row.subject,
            body=row.body,
            attempts=row.attempt_count,
            last_error=row.last_error,
            idempotency_key=row.idempotency_key,
            created_at=row.created_at,
            sent_at=row.sent_at,
            delivered_at=row.delivered_at,
            contact_id=_global("Contact", row.workspace_id, row.contact_id),
            lead_id=_global("Lead", row.workspace_id, row.lead_id),
        )


def _global(
    type_name: str, workspace_id: uuid.UUID, value: uuid.UUID | None
) -> strawberry.ID | None:
    if value is None:
        return None
    return strawberry.ID(to_global_id(type_name, workspace_id, value))


@strawberry.type
class MessageTemplate(Node):
    name: str
    channel: MessageChannel  # type: ignore[valid-type]
    language: str
    subject: str
    body: str
    trigger: TemplateTrigger  # type: ignore[valid-type]
    stage_id: strawberry.ID | None
    hours_before: int | None = strawberry.field(
        description="For a REMINDER: how many hours before a task about the client is due."
    )
    field_key: str | None = strawberry.field(
        description="For a DATE: the contact's custom field holding the date (YYYY-MM-DD)."
    )
    quiet_from: str | None = strawberry.field(
        description="Start of the quiet hours on the client's wall clock, HH:MM."
    )
    quiet_to: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: message_models.MessageTemplate) -> MessageTemplate:
        return cls(
            id=node_id("MessageTemplate", row),
            name=row.name,
            channel=row.channel,
            language=row.language,
            subject=row.subject,
            body=row.body,
            trigger=row.trigger,
            stage_id=_global("Stage", row.workspace_id, row.stage_id),
            hours_before=row.hours_before,
            field_key=row.field_key,
            quiet_from=format_time_of_day(row.quiet_start),
            quiet_to=format_time_of_day(row.quiet_end),
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class MessagePreview:
    subject: str
    body: str
    language: str
    recipient: str | None = strawberry.field(
        description="Where it would go; null when the contact has no address for the channel."
    )
    send_at: datetime = strawberry.field(
        description="Now, or the end of the template's quiet hours on the client's clock."
    )


@strawberry.type
class MessageVariable:
    name: str = strawberry.field(description="Written in a template as {{name}}.")
    description: str


@strawberry.type
class Holiday:
    date: str = strawberry.field(description="MM-DD, every year.")
    name: str


loads_visible("Message", Message.of, lambda s: s.messages.visible_message)


loads_visible("MessageTemplate", MessageTemplate.of, lambda s: s.templates.visible_template)
