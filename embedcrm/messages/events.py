"""Events about messages, written to the outbox in the transaction that queues them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import MessagePayload
from embedcrm.ids import optional_global_id, to_global_id
from embedcrm.messages.models import Message
from embedcrm.webhooks.outbox import OutboxRepository


def message_payload(message: Message, variables: Mapping[str, Any]) -> MessagePayload:
    ws = message.workspace_id
    return {
        "template": message.template,
        "channel": message.channel.value.lower(),
        "contact_id": optional_global_id("Contact", ws, message.contact_id),
        "lead_id": optional_global_id("Lead", ws, message.lead_id),
        "variables": dict(variables),
        "id": to_global_id("Message", ws, message.id),
        "idempotency_key": message.idempotency_key,
        "to": message.recipient,
        "language": message.language,
        "subject": message.subject,
        "body": message.body,
    }


async def request_from_gateway(
    session: AsyncSession, message: Message, *, variables: Mapping[str, Any], now: datetime
) -> None:
    """Ask the host's gateway to send ``message``: the webhooks deliver and retry the request,
    and every retry carries the same idempotency key."""
    outbox = OutboxRepository(session, message.workspace_id)
    outbox.record(
        Event(
            type="message.requested",
            occurred_at=now,
            data={
                **await outbox.scope(None),
                "message": message_payload(message, variables),
            },
        ),
        lead_id=None,
    )
