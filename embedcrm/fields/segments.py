"""Filtered lists of leads and contacts, saved segments over them, and their CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.auth import Principal
from embedcrm.contacts.models import Contact
from embedcrm.contacts.service import (
    all_filtered_contacts,
    contacts_by_id,
    count_filtered_contacts,
    filtered_contacts_page,
)
from embedcrm.db import Database
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.fields.filters import (
    ContactSpec,
    LeadSpec,
    Spec,
    merge_specs,
    spec_from_json,
    spec_to_json,
)
from embedcrm.fields.models import FieldEntity, FieldType, Segment
from embedcrm.fields.repository import SegmentRepository
from embedcrm.fields.service import definitions_of, typed_conditions
from embedcrm.kit.repository import Page, Window
from embedcrm.leads.models import Lead, LeadRecord, LeadSort, PageRelations
from embedcrm.leads.service import all_filtered_leads, count_filtered_leads, filtered_leads_page
from embedcrm.pipelines.models import Stage
from embedcrm.pipelines.service import stages_of
from embedcrm.workspaces.access import load_actor, reader_workspace, viewer_of

MAX_EXPORT_ROWS = 100_000


async def _typed(
    session: AsyncSession, workspace_id: uuid.UUID, spec: Spec
) -> tuple[Spec, dict[str, FieldType]]:
    if not spec.custom:
        return spec, {}
    entity = FieldEntity.LEAD if isinstance(spec, LeadSpec) else FieldEntity.CONTACT
    custom, kinds = typed_conditions(
        await definitions_of(session, workspace_id), entity, spec.custom
    )
    if isinstance(spec, LeadSpec):
        return LeadSpec(**{**vars(spec), "custom": custom}), kinds
    return ContactSpec(**{**vars(spec), "custom": custom}), kinds


async def _with_segment(
    session: AsyncSession, workspace_id: uuid.UUID, spec: Spec, segment_id: uuid.UUID | None
) -> Spec:
    if segment_id is None:
        return spec
    segment = await SegmentRepository(session, workspace_id).get(segment_id)
    entity = FieldEntity.LEAD if isinstance(spec, LeadSpec) else FieldEntity.CONTACT
    if segment is None or segment.entity is not entity:
        raise NotFound("Nothing has this id.", field="segmentId")
    saved = spec_from_json(type(spec), segment.filter)
    return merge_specs(saved, spec)


class ListService:
    """Every list the panel shows: a spec (and optionally a segment), by keyset, newest first
    unless a lead list asks for another order."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def leads_page_and_total(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        spec: LeadSpec,
        *,
        segment_id: uuid.UUID | None = None,
        window: Window,
        sort: LeadSort = LeadSort.NEWEST,
        relations: PageRelations | None = None,
        total: bool = True,
    ) -> tuple[Page[LeadRecord], int | None]:
        """One page of leads (with ``relations``, what they name is read in the same statement
        and left there), and with ``total`` how many leads match over all pages
        (``count_leads``): read in the same block, the filter and the caller's scope are
        worked out once."""
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            full = await _with_segment(session, workspace_id, spec, segment_id)
            typed, kinds = await _typed(session, workspace_id, full)
            assert isinstance(typed, LeadSpec)
            page = await filtered_leads_page(
                session,
                workspace_id,
                typed,
                kinds,
                viewer=viewer,
                window=window,
                sort=sort,
                relations=relations,
            )
            if not total:
                return page, None
            return page, await count_filtered_leads(
                session, workspace_id, typed, kinds, viewer=viewer
            )

    async def count_leads(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        spec: LeadSpec,
        *,
        segment_id: uuid.UUID | None = None,
        up_to: int | None = None,
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            full = await _with_segment(session, workspace_id, spec, segment_id)
            typed, kinds = await _typed(session, workspace_id, full)
            assert isinstance(typed, LeadSpec)
            return await count_filtered_leads(
                session, workspace_id, typed, kinds, viewer=viewer, up_to=up_to
            )

    async def contacts_page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        spec: ContactSpec,
        *,
        segment_id: uuid.UUID | None = None,
        window: Window,
    ) -> Page[Contact]:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            full = await _with_segment(session, workspace_id, spec, segment_id)
            typed, kinds = await _typed(session, workspace_id, full)
            assert isinstance(typed, ContactSpec)
            return await filtered_contacts_page(
                session, workspace_id, typed, kinds, viewer=viewer, window=window
            )

    async def count_contacts(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        spec: ContactSpec,
        *,
        segment_id: uuid.UUID | None = None,
        up_to: int | None = None,
    ) -> int:
        async with self.db.transaction() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            full = await _with_segment(session, workspace_id, spec, segment_id)
            typed, kinds = await _typed(session, workspace_id, full)
            assert isinstance(typed, ContactSpec)
            return await count_filtered_contacts(
                session, workspace_id, typed, kinds, viewer=viewer, up_to=up_to
            )

    async def export_csv(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        spec: Spec,
        *,
        segment_id: uuid.UUID | None = None,
    ) -> tuple[str, int]:
        """The filtered list as CSV (UTF-8, comma, header row), read in keyset batches."""
        async with self.db.reading() as session:
            viewer = await viewer_of(session, principal, workspace_id, field="workspaceId")
            full = await _with_segment(session, workspace_id, spec, segment_id)
            typed, kinds = await _typed(session, workspace_id, full)
            out = io.StringIO()
            writer = csv.writer(out)
            if isinstance(typed, LeadSpec):
                leads = await all_filtered_leads(session, workspace_id, typed, kinds, viewer=viewer)
                contacts = await contacts_by_id(
                    session, workspace_id, [lead.contact_id for lead in leads]
                )
                stages = await stages_of(session, workspace_id, (lead.stage_id for lead in leads))
                writer.writerow(LEAD_COLUMNS)
                for lead in leads[:MAX_EXPORT_ROWS]:
                    writer.writerow(
                        _lead_row(lead, contacts.get(lead.contact_id), stages.get(lead.stage_id))
                    )
                return out.getvalue(), min(len(leads), MAX_EXPORT_ROWS)
            assert isinstance(typed, ContactSpec)
            rows = await all_filtered_contacts(session, workspace_id, typed, kinds, viewer=viewer)
            writer.writerow(CONTACT_COLUMNS)
            for contact in rows[:MAX_EXPORT_ROWS]:
                writer.writerow(_contact_row(contact))
            return out.getvalue(), min(len(rows), MAX_EXPORT_ROWS)


LEAD_COLUMNS = [
    "id",
    "title",
    "status",
    "stage",
    "value",
    "currency",
    "channel",
    "contact_name",
    "contact_email",
    "contact_phone",
    "company",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "created_at",
]
CONTACT_COLUMNS = ["id", "name", "email", "phone", "company", "created_at"]


def _safe(value: Any) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a leading ' disarms them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _lead_row(lead: Lead, contact: Contact | None, stage: Stage | None) -> list[str]:
    return [
        _safe(v)
        for v in (
            lead.id,
            lead.title,
            lead.status.value,
            stage.name if stage else None,
            lead.value,
            lead.currency,
            lead.channel,
            contact.name if contact else None,
            contact.email_normalized if contact else None,
            contact.phone_e164 if contact else None,
            contact.company if contact else None,
            lead.utm_source,
            lead.utm_medium,
            lead.utm_campaign,
            lead.created_at.isoformat(),
        )
    ]


def _contact_row(contact: Contact) -> list[str]:
    return [
        _safe(v)
        for v in (
            contact.id,
            contact.name,
            contact.email_normalized or contact.email,
            contact.phone_e164 or contact.phone,
            contact.company,
            contact.created_at.isoformat(),
        )
    ]


class SegmentService:
    def __init__(self, db: Database, lists: ListService) -> None:
        self.db = db
        self.lists = lists

    async def create(
        self, principal: Principal, workspace_id: uuid.UUID, *, name: str, spec: Spec
    ) -> Segment:
        name = name.strip()
        if not 0 < len(name) <= 200:
            raise ValidationFailed("A name of 1 to 200 characters is required.", field="name")
        entity = FieldEntity.LEAD if isinstance(spec, LeadSpec) else FieldEntity.CONTACT
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id, field="workspaceId")
            await _typed(session, workspace_id, spec)  # refuses undefined fields now, not later
            segment = SegmentRepository(session, workspace_id).add(
                Segment(
                    name=name,
                    entity=entity,
                    filter=spec_to_json(spec),
                    created_by_id=actor.member_id,
                )
            )
            await session.flush()
            return segment

    async def update(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        segment_id: uuid.UUID,
        *,
        name: str | None,
        spec: Spec | None,
    ) -> Segment:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            segment = await SegmentRepository(session, workspace_id).get(segment_id)
            if segment is None:
                raise NotFound("Nothing has this id.", field="id")
            if not actor.is_owner and segment.created_by_id != actor.member_id:
                actor.require_assigned(segment.created_by_id, "segment")
            if name is not None:
                if not 0 < len(name.strip()) <= 200:
                    raise ValidationFailed(
                        "A name of 1 to 200 characters is required.", field="name"
                    )
                segment.name = name.strip()
            if spec is not None:
                entity = FieldEntity.LEAD if isinstance(spec, LeadSpec) else FieldEntity.CONTACT
                if entity is not segment.entity:
                    raise ValidationFailed("A segment keeps its kind of records.", field="filter")
                await _typed(session, workspace_id, spec)
                segment.filter = spec_to_json(spec)
            await session.flush()
            return segment

    async def delete(
        self, principal: Principal, workspace_id: uuid.UUID, segment_id: uuid.UUID
    ) -> None:
        async with self.db.transaction() as session:
            actor = await load_actor(session, principal, workspace_id)
            segment = await SegmentRepository(session, workspace_id).get(segment_id)
            if segment is None:
                raise NotFound("Nothing has this id.", field="id")
            if not actor.is_owner and segment.created_by_id != actor.member_id:
                actor.require_assigned(segment.created_by_id, "segment")
            await session.delete(segment)

    async def page(
        self,
        principal: Principal,
        workspace_id: uuid.UUID,
        *,
        window: Window,
    ) -> Page[Segment]:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            repo = SegmentRepository(session, workspace_id)
            return await repo.newest_first(repo.select(), window=window)

    async def count_all(self, principal: Principal, workspace_id: uuid.UUID) -> int:
        reader_workspace(principal, workspace_id, field="workspaceId")
        async with self.db.transaction() as session:
            repo = SegmentRepository(session, workspace_id)
            return await repo.count(repo.select())

    async def get(
        self, principal: Principal, workspace_id: uuid.UUID, segment_id: uuid.UUID
    ) -> Segment | None:
        reader_workspace(principal, workspace_id)
        async with self.db.transaction() as session:
            return await SegmentRepository(session, workspace_id).get(segment_id)

    async def count_members(self, principal: Principal, segment: Segment) -> int:
        """How many records the segment holds right now."""
        if segment.entity is FieldEntity.LEAD:
            return await self.lists.count_leads(
                principal, segment.workspace_id, LeadSpec(), segment_id=segment.id
            )
        return await self.lists.count_contacts(
            principal, segment.workspace_id, ContactSpec(), segment_id=segment.id
        )
