"""One person's data: exported on request, or erased from every table with only counts left.

Erasure reaches outbox payloads here. Tables other areas own (webhook delivery logs) are reached
through ``Eraser`` hooks passed in by ``Services``: ``webhooks`` must not import ``crm``, so the
hook receives plain ids and scrubs its own rows in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.capture.models import Submission
from embedcrm.capture.person import person_of_submission
from embedcrm.capture.repository import SubmissionRepository
from embedcrm.contacts.models import Contact, ContactMerge
from embedcrm.contacts.service import get_contact
from embedcrm.db import Database, utcnow
from embedcrm.fields.repository import TagRepository
from embedcrm.leads.models import Activity, Lead, LeadItem, LeadStageChange, LeadStatus
from embedcrm.privacy.models import Erasure
from embedcrm.privacy.repository import ErasureRepository
from embedcrm.tasks.models import Task
from embedcrm.webhooks.models import OutboxEvent
from embedcrm.workspaces.access import load_actor
from embedcrm.workspaces.repository import SiteRepository

# Objects that describe the business, not the person (a stage, a manager): kept whole.
KEPT_OBJECTS = {"stage", "from_stage", "to_stage", "assignee", "source"}
# Keys of an event payload that can name or reach a person.
PERSONAL_KEYS = {
    "name",
    "email",
    "phone",
    "company",
    "title",
    "message",
    "body",
    "fields",
    "custom_fields",
    "referrer",
    "landing_page",
    "first_touch",
    "click_ids",
}


@dataclass(frozen=True)
class ErasureScope:
    """What was erased, as plain ids, for hooks that scrub rows of their own."""

    workspace_id: uuid.UUID
    contact_id: uuid.UUID
    lead_ids: tuple[uuid.UUID, ...]
    outbox_event_ids: tuple[uuid.UUID, ...]


Eraser = Callable[[AsyncSession, ErasureScope], Awaitable[None]]


def scrub_payload(value: Any) -> Any:
    """The payload with every personal value blanked; ids and shape stay, so it stays valid."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in KEPT_OBJECTS:
                out[key] = item
            elif key in PERSONAL_KEYS:
                out[key] = "" if key == "title" else ({} if isinstance(item, dict) else None)
            else:
                out[key] = scrub_payload(item)
        return out
    if isinstance(value, list):
        return [scrub_payload(v) for v in value]
    return value


def _row(obj: Any, columns: Sequence[str]) -> dict[str, Any]:
    out = {}
    for name in columns:
        value = getattr(obj, name)
        out[name] = (
            value
            if value is None or isinstance(value, (str, int, float, bool, dict, list))
            else str(value)
        )
    return out


async def submissions_of_person(
    session: AsyncSession, workspace_id: uuid.UUID, contact: Contact, lead_ids: list[uuid.UUID]
) -> list[Submission]:
    """Every submission that is the person's: linked to them or to one of their leads, or
    naming, after normalisation, an e-mail or phone of theirs.

    The person's e-mails and phones are the contact's and those typed in the submissions
    linked to them (a submission matched by phone may carry another e-mail). Unlinked
    submissions count too: one held in quarantine, or not yet processed, or one whose lead went
    to another contact because its e-mail matched there.
    """
    linked = list(
        await session.scalars(
            select(Submission).where(
                Submission.workspace_id == workspace_id,
                or_(Submission.contact_id == contact.id, Submission.lead_id.in_(lead_ids)),
            )
        )
    )
    regions = {
        site.id: site.phone_region
        for site in await session.scalars(SiteRepository(session, workspace_id).select())
    }
    names = {("email", contact.email_normalized), ("phone", contact.phone_e164)}
    for submission in linked:
        names |= _identities(submission.payload, regions.get(submission.site_id))
    names = {(kind, value) for kind, value in names if value}
    seen = {submission.id for submission in linked}
    naming = [
        row_id
        async for row_id, site_id, payload in SubmissionRepository(
            session, workspace_id
        ).payloads_of_all()
        if row_id not in seen and _identities(payload, regions.get(site_id)) & names
    ]
    if not naming:
        return linked
    more = await session.scalars(
        select(Submission).where(Submission.workspace_id == workspace_id, Submission.id.in_(naming))
    )
    return [*linked, *more]


def _identities(payload: Any, region: str | None) -> set[tuple[str, str | None]]:
    """The normalised e-mail and phone a stored submission names, as processing reads them."""
    if not isinstance(payload, dict) or region is None:
        return set()
    person = person_of_submission(payload, phone_region=region)
    return {("email", person.email_normalized), ("phone", person.phone_e164)}


class PrivacyService:
    def __init__(self, db: Database, erasers: Sequence[Eraser] = ()) -> None:
        self.db = db
        # erase_webhook_delivery_logs goes here once webhook delivery tables exist.
        self.erasers = tuple(erasers)

    async def export_person(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> dict[str, Any]:
        """Everything kept about one person, as plain JSON."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="contactId")
            contact = await get_contact(session, workspace_id, contact_id)
            actor.require_owner()
            leads = list(
                await session.scalars(
                    select(Lead).where(
                        Lead.workspace_id == workspace_id, Lead.contact_id == contact.id
                    )
                )
            )
            lead_ids = [lead.id for lead in leads]
            activities = list(
                await session.scalars(
                    select(Activity).where(
                        Activity.workspace_id == workspace_id, Activity.contact_id == contact.id
                    )
                )
            )
            tasks = list(
                await session.scalars(
                    select(Task).where(
                        Task.workspace_id == workspace_id, Task.contact_id == contact.id
                    )
                )
            )
            items = list(
                await session.scalars(
                    select(LeadItem).where(
                        LeadItem.workspace_id == workspace_id, LeadItem.lead_id.in_(lead_ids)
                    )
                )
            )
            submissions = await submissions_of_person(session, workspace_id, contact, lead_ids)
            tags = await TagRepository(session, workspace_id).contact_tag_ids([contact.id])
            return {
                "contact": _row(
                    contact,
                    ["id", "name", "email", "phone", "company", "custom_fields", "created_at"],
                ),
                "tags": [tag.name for _, tag in tags],
                "leads": [
                    _row(
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
                    _row(i, ["lead_id", "product", "sku", "quantity", "unit_price"]) for i in items
                ],
                "timeline": [
                    _row(a, ["id", "lead_id", "kind", "body", "data", "created_at"])
                    for a in activities
                ],
                "tasks": [_row(t, ["id", "title", "due_at", "done_at"]) for t in tasks],
                "submissions": [_row(s, ["id", "payload", "created_at"]) for s in submissions],
            }

    async def erase_person(
        self, principal: Principal, workspace_id: uuid.UUID, contact_id: uuid.UUID
    ) -> Erasure:
        """Remove the person from every table in one transaction; keep anonymous counts."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="contactId")
            contact = await get_contact(session, workspace_id, contact_id)
            actor.require_owner()
            leads = list(
                await session.scalars(
                    select(Lead).where(
                        Lead.workspace_id == workspace_id, Lead.contact_id == contact.id
                    )
                )
            )
            lead_ids = [lead.id for lead in leads]
            id_texts = [str(contact.id), *(str(i) for i in lead_ids)]
            events = list(
                await session.scalars(
                    select(OutboxEvent).where(
                        OutboxEvent.workspace_id == workspace_id,
                        or_(
                            OutboxEvent.lead_id.in_(lead_ids),
                            *(cast(OutboxEvent.payload, Text).contains(t) for t in id_texts),
                        ),
                    )
                )
            )
            for event in events:
                event.payload = scrub_payload(event.payload)
            scope = ErasureScope(
                workspace_id, contact.id, tuple(lead_ids), tuple(e.id for e in events)
            )
            for eraser in self.erasers:
                await eraser(session, scope)
            submission_ids = [
                s.id for s in await submissions_of_person(session, workspace_id, contact, lead_ids)
            ]
            submissions = await session.execute(
                delete(Submission).where(
                    Submission.workspace_id == workspace_id, Submission.id.in_(submission_ids)
                )
            )
            merges = await session.execute(
                delete(ContactMerge).where(
                    ContactMerge.workspace_id == workspace_id,
                    ContactMerge.merged_contact_id == contact.id,
                )
            )
            await session.execute(
                delete(Task).where(
                    Task.workspace_id == workspace_id,
                    or_(Task.contact_id == contact.id, Task.lead_id.in_(lead_ids)),
                )
            )
            await session.execute(
                delete(LeadStageChange).where(
                    LeadStageChange.workspace_id == workspace_id,
                    LeadStageChange.lead_id.in_(lead_ids),
                )
            )
            await session.execute(
                delete(Activity).where(
                    Activity.workspace_id == workspace_id, Activity.contact_id == contact.id
                )
            )
            for lead in leads:
                await session.delete(lead)
            await session.flush()
            await session.delete(contact)
            counts = {
                "leads": len(leads),
                "won": sum(1 for lead in leads if lead.status is LeadStatus.WON),
                "lost": sum(1 for lead in leads if lead.status is LeadStatus.LOST),
                "won_value": str(
                    sum(
                        (lead.value or 0 for lead in leads if lead.status is LeadStatus.WON),
                        start=0,
                    )
                ),
                "submissions": getattr(submissions, "rowcount", 0),
                "events_scrubbed": len(events),
                "merges": getattr(merges, "rowcount", 0),
            }
            erasure = ErasureRepository(session, workspace_id).add(
                Erasure(counts=counts, erased_by_id=actor.member_id, created_at=utcnow())
            )
            await session.flush()
            return erasure
