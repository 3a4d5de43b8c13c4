"""The CRM core's rules: default pipeline, contact matching, leads and their timeline."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact, MergeProposal
from embedcrm.contacts.repository import ContactRepository, MergeProposalRepository
from embedcrm.db import Database, utcnow
from embedcrm.errors import ConfigurationError
from embedcrm.events import Event
from embedcrm.leads.assignment import choose_assignee
from embedcrm.leads.models import Activity, ActivityKind, Lead, LeadStatus
from embedcrm.leads.repository import ActivityRepository, LeadRepository
from embedcrm.pipelines.models import Pipeline, Stage, StageKind
from embedcrm.pipelines.repository import PipelineRepository, StageRepository
from embedcrm.tasks.models import Task, TaskKind
from embedcrm.tasks.repository import TaskRepository
from embedcrm.webhooks.outbox import OutboxRepository
from embedcrm.workspaces.access import load_actor
from embedcrm.workspaces.models import Member
from embedcrm.workspaces.repository import MemberRepository, WorkspaceDirectory
from embedcrm.workspaces.words import word

# (name, win probability in percent, kind): the pipeline every new workspace starts with.
DEFAULT_STAGES = (
    ("Новый", 10, StageKind.OPEN),
    ("В работе", 30, StageKind.OPEN),
    ("Предложение", 60, StageKind.OPEN),
    ("Успешно", 100, StageKind.WON),
    ("Отказ", 0, StageKind.LOST),
)


async def create_default_pipeline(session: AsyncSession, workspace_id: uuid.UUID) -> Pipeline:
    pipeline = PipelineRepository(session, workspace_id).add(
        Pipeline(name="Продажи", position=0, is_default=True)
    )
    await session.flush()
    stages = StageRepository(session, workspace_id)
    for position, (name, probability, kind) in enumerate(DEFAULT_STAGES):
        stages.add(
            Stage(
                pipeline_id=pipeline.id,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
            )
        )
    await session.flush()
    return pipeline


@dataclass(frozen=True)
class Person:
    """Who a lead is about, already normalised (e-mail lower-cased, phone in E.164)."""

    name: str | None = None
    email: str | None = None
    email_normalized: str | None = None
    phone: str | None = None
    phone_e164: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class Attribution:
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None
    click_ids: Mapping[str, str] = field(default_factory=dict)
    first_touch: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewLead:
    person: Person
    attribution: Attribution
    title: str
    form: str | None = None
    message: str | None = None
    site_id: uuid.UUID | None = None
    # How it reached the business when not by a web form: CALL, CHAT, SOCIAL, EMAIL, OTHER.
    channel: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    # The timeline entry that explains where the lead came from.
    activity_kind: ActivityKind = ActivityKind.SUBMISSION
    activity_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatedLead:
    lead: Lead
    contact: Contact
    contact_created: bool
    task: Task


def contact_payload(contact: Contact) -> dict[str, Any]:
    return {
        "id": str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone_e164 or contact.phone,
        "company": contact.company,
    }


def lead_payload(lead: Lead, stage: Stage) -> dict[str, Any]:
    return {
        "id": str(lead.id),
        "title": lead.title,
        "status": lead.status.value.lower(),
        "stage": {"id": str(stage.id), "name": stage.name},
        "value": None if lead.value is None else str(lead.value),
        "currency": lead.currency,
        "contact_id": str(lead.contact_id),
        "assignee_id": None if lead.assignee_id is None else str(lead.assignee_id),
        "site_id": None if lead.site_id is None else str(lead.site_id),
        "source": {
            "utm_source": lead.utm_source,
            "utm_medium": lead.utm_medium,
            "utm_campaign": lead.utm_campaign,
            "referrer": lead.referrer,
            "landing_page": lead.landing_page,
        },
        "created_at": lead.created_at.isoformat().replace("+00:00", "Z"),
    }


async def find_or_create_contact(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    person: Person,
    *,
    now: datetime,
    touch: Mapping[str, Any] | None = None,
) -> tuple[Contact, bool]:
    """The contact with the same e-mail, else the same phone, within this workspace only.

    The lookup runs under the person's identity locks, so concurrent submissions of one
    person, in this process or any other, make one contact.

    When the e-mail points at one contact and the phone at another, nothing is merged
    silently: the e-mail's contact is used and a merge proposal is recorded for a person to
    decide.
    """
    contacts = ContactRepository(session, workspace_id)
    await contacts.lock_identities(
        [person.email_normalized] if person.email_normalized else [],
        [person.phone_e164] if person.phone_e164 else [],
    )
    by_email = await contacts.by_email(person.email_normalized) if person.email_normalized else None
    by_phone = await contacts.by_phone(person.phone_e164) if person.phone_e164 else None
    contact = by_email or by_phone
    if by_email is not None and by_phone is not None and by_email.id != by_phone.id:
        await propose_merge(session, workspace_id, by_email, by_phone, now=now)
    if contact is not None:
        # Fill what the contact lacks; never overwrite what someone may have corrected.
        contact.name = contact.name or person.name
        contact.company = contact.company or person.company
        if not contact.email_normalized and person.email_normalized:
            contact.email, contact.email_normalized = person.email, person.email_normalized
        if not contact.phone_e164 and person.phone_e164 and by_phone is None:
            contact.phone, contact.phone_e164 = person.phone, person.phone_e164
        if touch:
            contact.last_touch = dict(touch)
            contact.first_touch = contact.first_touch or dict(touch)
        contact.updated_at = now
        return contact, False
    contact = contacts.add(
        Contact(
            name=person.name,
            email=person.email,
            email_normalized=person.email_normalized,
            phone=person.phone,
            phone_e164=person.phone_e164,
            company=person.company,
            first_touch=dict(touch or {}),
            last_touch=dict(touch or {}),
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return contact, True


async def propose_merge(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    contact: Contact,
    other: Contact,
    *,
    now: datetime,
) -> None:
    proposals = MergeProposalRepository(session, workspace_id)
    if await proposals.open_between(contact.id, other.id) is None:
        proposals.add(
            MergeProposal(
                contact_id=contact.id,
                other_contact_id=other.id,
                reason="The e-mail matches one contact and the phone another.",
                created_at=now,
            )
        )


def touch_of(attribution: Attribution) -> dict[str, Any]:
    """The attribution as kept on a contact: only what is known."""
    touch = {
        "utm_source": attribution.utm_source,
        "utm_medium": attribution.utm_medium,
        "utm_campaign": attribution.utm_campaign,
        "utm_term": attribution.utm_term,
        "utm_content": attribution.utm_content,
        "referrer": attribution.referrer,
        "landing_page": attribution.landing_page,
        "click_ids": dict(attribution.click_ids) or None,
    }
    return {k: v for k, v in touch.items() if v}


async def create_lead(session: AsyncSession, workspace_id: uuid.UUID, new: NewLead) -> CreatedLead:
    """Contact, lead on the first stage, assignee, first-response task, timeline entry and
    events, all in the caller's transaction."""
    now = new.occurred_at or utcnow()
    workspace = await WorkspaceDirectory(session).get(workspace_id)
    pipeline = await PipelineRepository(session, workspace_id).default()
    stage = await StageRepository(session, workspace_id).first_of(pipeline.id) if pipeline else None
    if workspace is None or pipeline is None or stage is None:
        raise ConfigurationError("The workspace has no default pipeline.")
    attribution = new.attribution
    contact, contact_created = await find_or_create_contact(
        session, workspace_id, new.person, now=now, touch=touch_of(attribution)
    )
    assignee_id = await choose_assignee(
        session, workspace_id, site_id=new.site_id, utm_source=attribution.utm_source
    )
    if assignee_id is not None and contact.manager_id is None:
        contact.manager_id = assignee_id
    lead = LeadRepository(session, workspace_id).add(
        Lead(
            site_id=new.site_id,
            contact_id=contact.id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            assignee_id=assignee_id,
            title=new.title[:300],
            status=LeadStatus.OPEN,
            form=new.form,
            channel=new.channel,
            message=new.message,
            custom_fields=dict(new.custom_fields),
            utm_source=attribution.utm_source,
            utm_medium=attribution.utm_medium,
            utm_campaign=attribution.utm_campaign,
            utm_term=attribution.utm_term,
            utm_content=attribution.utm_content,
            referrer=attribution.referrer,
            landing_page=attribution.landing_page,
            click_ids=dict(attribution.click_ids),
            first_touch=dict(attribution.first_touch),
            event_sequence=1,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    ActivityRepository(session, workspace_id).add(
        Activity(
            contact_id=contact.id,
            lead_id=lead.id,
            kind=new.activity_kind,
            body=new.message,
            data=dict(new.activity_data),
            created_at=now,
        )
    )
    task = TaskRepository(session, workspace_id).add(
        Task(
            kind=TaskKind.FIRST_RESPONSE,
            title=f"{word(workspace.language, 'reply')}: {lead.title}"[:300],
            lead_id=lead.id,
            contact_id=contact.id,
            assignee_id=assignee_id,
            due_at=now + timedelta(minutes=workspace.first_response_minutes),
            created_at=now,
        )
    )
    await session.flush()
    outbox = OutboxRepository(session, workspace_id)
    common = {
        "workspace_id": str(workspace_id),
        "site_id": str(new.site_id) if new.site_id else None,
    }
    if contact_created:
        outbox.record(
            Event(
                type="contact.created",
                occurred_at=now,
                data={**common, "contact": contact_payload(contact)},
            )
        )
    outbox.record(
        Event(
            type="lead.created",
            occurred_at=now,
            data={
                **common,
                "sequence": 1,
                "lead": lead_payload(lead, stage),
                "contact": contact_payload(contact),
            },
        ),
        lead_id=lead.id,
        sequence=1,
    )
    outbox.record(
        Event(type="task.created", occurred_at=now, data={**common, "task": task_payload(task)})
    )
    return CreatedLead(lead=lead, contact=contact, contact_created=contact_created, task=task)


def task_payload(task: Task) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "title": task.title,
        "kind": task.kind.value,
        "due_at": task.due_at,
        "done": task.done_at is not None,
        "lead_id": str(task.lead_id) if task.lead_id else None,
        "contact_id": str(task.contact_id) if task.contact_id else None,
        "assignee_id": str(task.assignee_id) if task.assignee_id else None,
    }


class CrmQueries:
    """Reads for the panel. Each call is one short transaction; loaders batch by ids."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def leads_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Lead]:
        async with self.db.transaction() as session:
            return await LeadRepository(session, workspace_id).get_many(ids)

    async def visible_lead(
        self, principal: Principal, workspace_id: uuid.UUID, lead_id: uuid.UUID
    ) -> Lead | None:
        """The lead, if ``principal`` may see it: a MANAGER sees their own and unassigned ones."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            found = await LeadRepository(session, workspace_id).visible(
                [lead_id], actor.sees_only_own
            )
            return found.get(lead_id)

    async def contacts_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Contact]:
        async with self.db.transaction() as session:
            return await ContactRepository(session, workspace_id).get_many(ids)

    async def stages_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Stage]:
        async with self.db.transaction() as session:
            return await StageRepository(session, workspace_id).get_many(ids)

    async def members_by_id(
        self, workspace_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Member]:
        async with self.db.transaction() as session:
            return await MemberRepository(session, workspace_id).get_many(ids)

    async def pipelines(self, workspace_id: uuid.UUID) -> list[tuple[Pipeline, list[Stage]]]:
        async with self.db.transaction() as session:
            pipelines = PipelineRepository(session, workspace_id)
            stages = StageRepository(session, workspace_id)
            rows = list(await session.scalars(pipelines.select().order_by(Pipeline.position)))
            all_stages = list(await session.scalars(stages.select().order_by(Stage.position)))
        return [(p, [s for s in all_stages if s.pipeline_id == p.id]) for p in rows]
