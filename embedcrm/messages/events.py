"""Events about messages, written to the outbox in the transaction that queues them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.events import Event
from embedcrm.events.catalog import MessagePayload
from embedcrm.kit.events import scope_data
from embedcrm.messages.models import Message
from embedcrm.webhooks.outbox import OutboxRepository


def message_payload(message: Message, variables: Mapping[str, Any]) -> MessagePayload:
    return {
        "template": message.template,
        "channel": message.channel.value.lower(),
        "contact_id": str(message.contact_id) if message.contact_id else None,
        "lead_id": str(message.lead_id) if message.lead_id else None,
        "variables": dict(variables),
        "id": str(message.id),
        "idempotency_key": message.idempotency_key,
        "to": message.recipient,
        "language": message.language,
        "subject": message.subject,
        "body": message.body,
    }


def request_from_gateway(
    session: AsyncSession, message: Message, *, variables: Mapping[str, Any], now: datetime
) -> None:
    """Ask the host's gateway to send ``message``: the webhooks deliver and retry the request,
    and every retry carries the same idempotency key."""
    OutboxRepository(session, message.workspace_id).record(
        Event(
            type="message.requested",
            occurred_at=now,
            data={
                **scope_data(message.workspace_id, None),
                "message": message_payload(message, variables),
            },
        ),
        lead_id=None,
    )
