"""One person's data: exported on request, or erased from every table with only counts left.

Each domain answers for its own rows. Contacts, leads, tasks and tags are reached through their
repositories; the domains that must not know the CRM (capture's submissions, the webhooks'
outbox and delivery logs), and those that build on privacy's ``DataSubject`` (messages and
their opt-outs, feedback answers), are reached through ``PersonalData`` hooks that ``Services``
passes in, which receive plain ids and export or erase their rows in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact, ContactPoint, PointKind
from embedcrm.contacts.service import (
    contact_points,
    erase_contact_points,
    erase_merges_of,
    get_contact,
)
from embedcrm.db import Database, utcnow
from embedcrm.fields.service import contact_tags
from embedcrm.kit.models import plain_row
from embedcrm.leads.models import LeadStatus
from embedcrm.leads.service import (
    activities_of_contact,
    erase_lead_history,
    items_of_leads,
    leads_of_contact,
)
from embedcrm.privacy.models import Erasure
from embedcrm.privacy.repository import ErasureRepository
from embedcrm.tasks.service import erase_person_tasks, tasks_of_contact
from embedcrm.workspaces.access import load_actor


@dataclass(frozen=True)
class DataSubject:
    """The person, as plain values: their contact, its leads, and the contact's normalised
    e-mail and phone (by which rows not linked to the contact may still name them)."""

    workspace_id: uuid.UUID
    contact_id: uuid.UUID
    lead_ids: tuple[uuid.UUID, ...]
    email: str | None
    phone: str | None
    # Every normalised e-mail and phone of the contact, the primary ones above included.
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonalData:
    """Rows another domain keeps about a person. ``export`` answers keys to add to the export;
    ``erase`` deletes or blanks the rows and answers counts to keep in the erasure record."""

    export: Callable[[AsyncSession, DataSubject], Awaitable[Mapping[str, Any]]]
    erase: Callable[[AsyncSession, DataSubject], Awaitable[Mapping[str, Any]]]


class PrivacyService:
    def __init__(self, db: Database, holders: Sequence[PersonalData] = ()) -> None:
        self.db = db
        self.holders = tuple(holders)

    async def export_person(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> dict[str, Any]:
        """Everything kept about one person, as plain JSON."""
        async with self.db.transaction() as session:
            await load_actor(session, principal, workspace_id, field="contactId")
            contact = await get_contact(session, workspace_id, contact_id)
            leads = await leads_of_contact(session, workspace_id, contact.id)
            lead_ids = [lead.id for lead in leads]
            activities = await activities_of_contact(session, workspace_id, contact.id)
            tasks = await tasks_of_contact(session, workspace_id, contact.id)
            items = await items_of_leads(session, workspace_id, lead_ids)
            tags = await contact_tags(session, workspace_id, [contact.id])
            points = await contact_points(session, workspace_id, [contact.id])
            exported: dict[str, Any] = {
                "contact": {
                    **plain_row(
                        contact,
                        ["id", "name", "email", "phone", "company", "custom_fields", "created_at"],
                    ),
                    "emails": _plain_points(points, PointKind.EMAIL),
                    "phones": _plain_points(points, PointKind.PHONE),
                },
                "tags": [tag.name for _, tag in tags],
                "leads": [
                    plain_row(
                        lead,
                        [
                            "id",
                            "title",
                            "status",
                            "value",
                            "currency",
                            "message",
                            "custom_fields",
                            "utm_source",
                            "utm_medium",
                            "utm_campaign",
                            "referrer",
                            "landing_page",
                            "payment_method",
                            "delivery_method",
                            "delivery_address",
                            "ordered_at",
                            "created_at",
                        ],
                    )
                    for lead in leads
                ],
                "items": [
                    plain_row(i, ["lead_id", "product", "sku", "quantity", "unit_price"])
                    for i in items
                ],
                "timeline": [
                    plain_row(a, ["id", "lead_id", "kind", "body", "data", "created_at"])
                    for a in activities
                ],
                "tasks": [plain_row(t, ["id", "title", "due_at", "done_at"]) for t in tasks],
            }
            subject = _subject(contact, lead_ids, points)
            for holder in self.holders:
                exported.update(await holder.export(session, subject))
            return exported

    async def erasure(
        self, principal: Principal, workspace_id: uuid.UUID, erasure_id: uuid.UUID
    ) -> Erasure | None:
        """An erasure record; like personal data, the owner's alone."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            if not actor.is_owner:
                return None
            return await ErasureRepository(session, workspace_id).get(erasure_id)

    async def erase_person(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> Erasure:
        """Remove the person from every table in one transaction; keep anonymous counts."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="contactId")
            contact = await get_contact(session, workspace_id, contact_id)
            leads = await leads_of_contact(session, workspace_id, contact.id)
            lead_ids = [lead.id for lead in leads]
            points = await contact_points(session, workspace_id, [contact.id])
            subject = _subject(contact, lead_ids, points)
            counts: dict[str, Any] = {
                "leads": len(leads),
                "won": sum(1 for lead in leads if lead.status is LeadStatus.WON),
                "lost": sum(1 for lead in leads if lead.status is LeadStatus.LOST),
                "won_value": str(
                    sum(
                        (lead.value or 0 for lead in leads if lead.status is LeadStatus.WON),
                        start=0,
                    )
                ),
            }
            # The other domains' rows first: some of them point at the leads and the contact.
            for holder in self.holders:
                counts.update(await holder.erase(session, subject))
            counts["merges"] = await erase_merges_of(session, workspace_id, contact.id)
            await erase_person_tasks(session, workspace_id, contact.id, lead_ids)
            await erase_lead_history(session, workspace_id, contact.id, lead_ids)
            for lead in leads:
                await session.delete(lead)
            await session.flush()
            await erase_contact_points(session, workspace_id, contact.id)
            await session.delete(contact)
            erasure = ErasureRepository(session, workspace_id).add(
                Erasure(counts=counts, erased_by_id=actor.member_id, created_at=utcnow())
            )
            await session.flush()
            return erasure


def _plain_points(points: Sequence[ContactPoint], kind: PointKind) -> list[dict[str, Any]]:
    return [
        plain_row(p, ["value", "normalized", "label", "is_primary", "created_at"])
        for p in points
        if p.kind is kind
    ]


def _subject(
    contact: Contact, lead_ids: Sequence[uuid.UUID], points: Sequence[ContactPoint]
) -> DataSubject:
    def normalized(kind: PointKind) -> tuple[str, ...]:
        return tuple(p.normalized for p in points if p.kind is kind and p.normalized)

    return DataSubject(
        contact.workspace_id,
        contact.id,
        tuple(lead_ids),
        email=contact.email_normalized,
        phone=contact.phone_e164,
        emails=normalized(PointKind.EMAIL),
        phones=normalized(PointKind.PHONE),
    )
