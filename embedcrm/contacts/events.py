"""Events about contacts, written to the outbox in the transaction of the change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.contacts.models import Contact, ContactPoint, PointKind
from embedcrm.contacts.repository import ContactRepository
from embedcrm.events import Event
from embedcrm.events.catalog import ContactPayload, ContactPointPayload
from embedcrm.ids import to_global_id
from embedcrm.kit.grouping import grouped
from embedcrm.webhooks.outbox import OutboxRepository


def contact_payload(
    contact: Contact, points: Sequence[ContactPoint] | None = None
) -> ContactPayload:
    """The contact as webhooks carry it; with ``points`` (its rows, primary first), every
    e-mail and phone of it too."""
    payload: ContactPayload = {
        "id": to_global_id("Contact", contact.workspace_id, contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone_e164 or contact.phone,
        "company": contact.company,
    }
    if points is not None:
        payload["emails"] = _plain_points(points, PointKind.EMAIL)
        payload["phones"] = _plain_points(points, PointKind.PHONE)
    return payload


def _plain_points(points: Sequence[ContactPoint], kind: PointKind) -> list[ContactPointPayload]:
    return [
        {"value": p.value, "normalized": p.normalized, "label": p.label, "primary": p.is_primary}
        for p in points
        if p.kind is kind
    ]


async def contact_payloads(
    session: AsyncSession, contacts: Sequence[Contact]
) -> dict[uuid.UUID, ContactPayload]:
    """``contact_payload`` of each, every e-mail and phone read in one query per workspace."""
    out: dict[uuid.UUID, ContactPayload] = {}
    by_workspace: dict[uuid.UUID, list[Contact]] = {}
    for contact in contacts:
        by_workspace.setdefault(contact.workspace_id, []).append(contact)
    for workspace_id, group in by_workspace.items():
        ids = [c.id for c in group]
        rows = await ContactRepository(session, workspace_id).points_of(ids)
        points = grouped(ids, rows, attrgetter("contact_id"))
        for contact in group:
            out[contact.id] = contact_payload(contact, points[contact.id])
    return out


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
                "contact": (await contact_payloads(session, [contact]))[contact.id],
                **(extra or {}),
            },
        )
    )
