"""Events about contacts, written to the outbox in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.contacts.models import Contact
from embedcrm.events import Event
from embedcrm.events.catalog import ContactPayload
from embedcrm.ids import to_global_id
from embedcrm.webhooks.outbox import OutboxRepository


def contact_payload(contact: Contact) -> ContactPayload:
    return {
        "id": to_global_id("Contact", contact.workspace_id, contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone_e164 or contact.phone,
        "company": contact.company,
    }


async def emit_contact_event(
    session: AsyncSession,
    contact: Contact,
    event_type: str,
    *,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    outbox = OutboxRepository(session, contact.workspace_id)
    outbox.record(
        Event(
            type=event_type,
            occurred_at=now,
            data={
                **await outbox.scope(None),
                "contact": contact_payload(contact),
                **(extra or {}),
            },
        )
    )
