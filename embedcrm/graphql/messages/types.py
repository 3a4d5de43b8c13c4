"""GraphQL types of messages to clients and members."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from embedcrm.graphql.core import Node, node_id
from embedcrm.graphql.ids import to_global_id
from embedcrm.messages import models as message_models

MessageChannel = strawberry.enum(
    message_models.MessageChannel,
    name="MessageChannel",
    description=(
        "EMAIL goes over the built-in SMTP when EMBEDCRM_SMTP_URL is set; every other channel, "
        "and EMAIL without it, goes to the host's gateway as `message.requested`."
    ),
)
MessageStatus = strawberry.enum(message_models.MessageStatus, name="MessageStatus")


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
            contact_id=_global("Contact", row, row.contact_id),
            lead_id=_global("Lead", row, row.lead_id),
        )


def _global(
    type_name: str, row: message_models.Message, value: uuid.UUID | None
) -> strawberry.ID | None:
    if value is None:
        return None
    return strawberry.ID(to_global_id(type_name, row.workspace_id, value))
