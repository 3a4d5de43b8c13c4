"""Events about contacts, written to the outbox in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.contacts.models import Contact
from embedcrm.events import Event
from embedcrm.events.catalog import ContactPayload
from embedcrm.kit.events import scope_data
from embedcrm.webhooks.outbox import OutboxRepository


def contact_payload(contact: Contact) -> ContactPayload:
    return {
        "id": str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone_e164 or contact.phone,
        "company": contact.company,
    }


def emit_contact_event(
    session: AsyncSession,
    contact: Contact,
    event_type: str,
    *,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    OutboxRepository(session, contact.workspace_id).record(
        Event(
            type=event_type,
            occurred_at=now,
            data={
                **scope_data(contact.workspace_id, None),
                "contact": contact_payload(contact),
                **(extra or {}),
            },
        )
    )
