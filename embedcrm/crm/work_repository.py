"""SQL for the CRM workspace: filtered lists, tags, history, cart, fields, segments, audit.

Every repository is bound to one workspace, like the rest (ARCHITECTURE.md, rule 1); the one
cross-workspace query, the worker's overdue scan, says so in its name.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from embedcrm.contacts.models import Contact, ContactMerge
from embedcrm.crm.filters import ContactSpec, FieldCondition, FieldOp, LeadSpec, parse_search
from embedcrm.crm.repository import ContactRepository, LeadRepository
from embedcrm.errors import BadRequest
from embedcrm.fields.models import (
    ContactTag,
    CustomFieldDefinition,
    FieldType,
    LeadTag,
    Segment,
    Tag,
)
from embedcrm.kit.repository import MAX_PAGE_SIZE, Page, WorkspaceRepository
from embedcrm.leads.models import Activity, Lead, LeadItem, LeadStageChange
from embedcrm.privacy.models import Erasure
from embedcrm.tasks.models import Task


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_value(column: Any, key: str, kind: FieldType) -> Any:
    value = type_coerce(column, JSON)[key]
    if kind is FieldType.NUMBER:
        return value.as_float()
    if kind is FieldType.BOOLEAN:
        return value.as_boolean()
    return value.as_string()


def custom_clause(column: Any, condition: FieldCondition, kind: FieldType) -> ColumnElement[bool]:
    value = _json_value(column, condition.key, kind)
    target = condition.value
    match condition.op:
        case FieldOp.IS_SET:
            return value.is_not(None) if target in (None, True) else value.is_(None)  # type: ignore[no-any-return]
        case FieldOp.EQ:
            return value == target  # type: ignore[no-any-return]
        case FieldOp.NEQ:
            return or_(value.is_(None), value != target)
        case FieldOp.GT:
            return value > target  # type: ignore[no-any-return]
        case FieldOp.GTE:
            return value >= target  # type: ignore[no-any-return]
        case FieldOp.LT:
            return value < target  # type: ignore[no-any-return]
        case FieldOp.LTE:
            return value <= target  # type: ignore[no-any-return]
        case FieldOp.CONTAINS:
            return func.lower(value).like(_like(str(target).lower()), escape="\\")
    raise BadRequest("Unknown operator.", field="op")


class WorkLeads(LeadRepository):
    """Leads filtered by a spec; ``kinds`` types the custom fields the spec names."""

    @staticmethod
    def visible_to(stmt: Select[Lead], member_id: uuid.UUID | None) -> Select[Lead]:
        """Narrowed to what a manager sees: their leads and the unassigned ones they may take.
        ``None`` sees every lead."""
        if member_id is None:
            return stmt
        return stmt.where(or_(Lead.assignee_id == member_id, Lead.assignee_id.is_(None)))

    async def visible(
        self, ids: Sequence[uuid.UUID], member_id: uuid.UUID | None
    ) -> dict[uuid.UUID, Lead]:
        stmt = self.visible_to(self.select().where(Lead.id.in_(list(ids))), member_id)
        return {row.id: row for row in await self.session.scalars(stmt)}

    def matching(self, spec: LeadSpec, kinds: dict[str, FieldType]) -> Select[Lead]:
        stmt = self.select()
        ws = self.workspace_id
        simple = {
            Lead.pipeline_id: spec.pipeline_id,
            Lead.stage_id: spec.stage_id,
            Lead.status: spec.status,
            Lead.site_id: spec.site_id,
            Lead.assignee_id: spec.assignee_id,
            Lead.contact_id: spec.contact_id,
            Lead.utm_source: spec.utm_source,
            Lead.utm_medium: spec.utm_medium,
            Lead.utm_campaign: spec.utm_campaign,
            Lead.channel: spec.channel,
            Lead.close_reason: spec.close_reason,
        }
        for column, wanted in simple.items():
            if wanted is not None:
                stmt = stmt.where(column == wanted)
        if spec.unassigned:
            stmt = stmt.where(Lead.assignee_id.is_(None))
        if spec.value_min is not None:
            stmt = stmt.where(Lead.value >= spec.value_min)
        if spec.value_max is not None:
            stmt = stmt.where(Lead.value <= spec.value_max)
        if spec.created_from is not None:
            stmt = stmt.where(Lead.created_at >= spec.created_from)
        if spec.created_to is not None:
            stmt = stmt.where(Lead.created_at < spec.created_to)
        for name in spec.tags:
            stmt = stmt.where(
                Lead.id.in_(
                    select(LeadTag.lead_id)
                    .join(
                        Tag,
                        and_(Tag.workspace_id == LeadTag.workspace_id, Tag.id == LeadTag.tag_id),
                    )
                    .where(LeadTag.workspace_id == ws, Tag.name_folded == name.casefold())
                )
            )
        for condition in spec.custom:
            stmt = stmt.where(custom_clause(Lead.custom_fields, condition, kinds[condition.key]))
        if spec.search:
            terms = parse_search(spec.search)
            contacts = select(Contact.id).where(Contact.workspace_id == ws)
            if terms.email:
                stmt = stmt.where(
                    Lead.contact_id.in_(contacts.where(Contact.email_normalized == terms.email))
                )
            elif terms.phone_e164:
                stmt = stmt.where(
                    Lead.contact_id.in_(contacts.where(Contact.phone_e164 == terms.phone_e164))
                )
            elif terms.text:
                pattern = _like(terms.text)
                stmt = stmt.where(
                    or_(
                        Lead.search_text.like(pattern, escape="\\"),
                        Lead.contact_id.in_(
                            contacts.where(Contact.search_text.like(pattern, escape="\\"))
                        ),
                    )
                )
        return stmt

    async def ids_at_stages(self, stage_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(Lead.id).where(
                Lead.workspace_id == self.workspace_id, Lead.stage_id.in_(list(stage_ids))
            )
        )
        return list(rows)

    async def by_import_keys(self, keys: Iterable[str]) -> dict[str, Lead]:
        wanted = list(set(keys))
        found: dict[str, Lead] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                self.select().where(Lead.import_key.in_(wanted[start : start + 500]))
            )
            found.update({row.import_key: row for row in rows if row.import_key})
        return found

    async def batches(self, stmt: Select[Lead], size: int = 500) -> list[Lead]:
        """Every row of ``stmt``, read by keyset in batches (exports)."""
        out: list[Lead] = []
        after: str | None = None
        while True:
            page = await self.newest_first(stmt, first=min(size, MAX_PAGE_SIZE), after=after)
            out.extend(page.rows)
            if not page.has_next:
                return out
            after = page.end_cursor


class WorkContacts(ContactRepository):
    def matching(self, spec: ContactSpec, kinds: dict[str, FieldType]) -> Select[Contact]:
        stmt = self.select()
        ws = self.workspace_id
        if spec.manager_id is not None:
            stmt = stmt.where(Contact.manager_id == spec.manager_id)
        if spec.unmanaged:
            stmt = stmt.where(Contact.manager_id.is_(None))
        if spec.company:
            stmt = stmt.where(func.lower(Contact.company) == spec.company.lower())
        if spec.created_from is not None:
            stmt = stmt.where(Contact.created_at >= spec.created_from)
        if spec.created_to is not None:
            stmt = stmt.where(Contact.created_at < spec.created_to)
        for name in spec.tags:
            stmt = stmt.where(
                Contact.id.in_(
                    select(ContactTag.contact_id)
                    .join(
                        Tag,
                        and_(
                            Tag.workspace_id == ContactTag.workspace_id, Tag.id == ContactTag.tag_id
                        ),
                    )
                    .where(ContactTag.workspace_id == ws, Tag.name_folded == name.casefold())
                )
            )
        for condition in spec.custom:
            stmt = stmt.where(custom_clause(Contact.custom_fields, condition, kinds[condition.key]))
        if spec.search:
            terms = parse_search(spec.search)
            if terms.email:
                stmt = stmt.where(Contact.email_normalized == terms.email)
            elif terms.phone_e164:
                stmt = stmt.where(Contact.phone_e164 == terms.phone_e164)
            elif terms.text:
                stmt = stmt.where(Contact.search_text.like(_like(terms.text), escape="\\"))
        return stmt

    async def batches(self, stmt: Select[Contact], size: int = 100) -> list[Contact]:
        out: list[Contact] = []
        after: str | None = None
        while True:
            page = await self.newest_first(stmt, first=size, after=after)
            out.extend(page.rows)
            if not page.has_next:
                return out
            after = page.end_cursor


class StageChangeRepository(WorkspaceRepository[LeadStageChange]):
    model = LeadStageChange

    async def of_lead(self, lead_id: uuid.UUID) -> list[LeadStageChange]:
        rows = await self.session.scalars(
            self.select()
            .where(LeadStageChange.lead_id == lead_id)
            .order_by(LeadStageChange.changed_at, LeadStageChange.id)
        )
        return list(rows)


class ItemRepository(WorkspaceRepository[LeadItem]):
    model = LeadItem

    async def of_leads(self, lead_ids: Sequence[uuid.UUID]) -> list[LeadItem]:
        rows = await self.session.scalars(
            self.select()
            .where(LeadItem.lead_id.in_(list(lead_ids)))
            .order_by(LeadItem.lead_id, LeadItem.position)
        )
        return list(rows)

    async def clear(self, lead_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(LeadItem).where(
                LeadItem.workspace_id == self.workspace_id, LeadItem.lead_id == lead_id
            )
        )


class FieldRepository(WorkspaceRepository[CustomFieldDefinition]):
    model = CustomFieldDefinition

    async def all(self) -> list[CustomFieldDefinition]:
        rows = await self.session.scalars(
            self.select().order_by(
                CustomFieldDefinition.entity,
                CustomFieldDefinition.position,
                CustomFieldDefinition.created_at,
            )
        )
        return list(rows)


class TagRepository(WorkspaceRepository[Tag]):
    model = Tag

    async def all(self) -> list[Tag]:
        return list(await self.session.scalars(self.select().order_by(Tag.name_folded)))

    async def by_names(self, names: Iterable[str]) -> dict[str, Tag]:
        folded = list({n.casefold() for n in names})
        if not folded:
            return {}
        rows = await self.session.scalars(self.select().where(Tag.name_folded.in_(folded)))
        return {row.name_folded: row for row in rows}

    async def lead_tag_ids(self, lead_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, Tag]]:
        rows = await self.session.execute(
            select(LeadTag.lead_id, Tag)
            .join(Tag, and_(Tag.workspace_id == LeadTag.workspace_id, Tag.id == LeadTag.tag_id))
            .where(LeadTag.workspace_id == self.workspace_id, LeadTag.lead_id.in_(list(lead_ids)))
            .order_by(Tag.name_folded)
        )
        return [(row[0], row[1]) for row in rows]

    async def contact_tag_ids(
        self, contact_ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, Tag]]:
        rows = await self.session.execute(
            select(ContactTag.contact_id, Tag)
            .join(
                Tag, and_(Tag.workspace_id == ContactTag.workspace_id, Tag.id == ContactTag.tag_id)
            )
            .where(
                ContactTag.workspace_id == self.workspace_id,
                ContactTag.contact_id.in_(list(contact_ids)),
            )
            .order_by(Tag.name_folded)
        )
        return [(row[0], row[1]) for row in rows]

    async def link(
        self,
        *,
        lead_ids: Sequence[uuid.UUID],
        contact_ids: Sequence[uuid.UUID],
        tag_ids: Sequence[uuid.UUID],
    ) -> None:
        ws = self.workspace_id
        existing_leads = set(
            (r[0], r[1])
            for r in await self.session.execute(
                select(LeadTag.lead_id, LeadTag.tag_id).where(
                    LeadTag.workspace_id == ws, LeadTag.lead_id.in_(list(lead_ids))
                )
            )
        )
        existing_contacts = set(
            (r[0], r[1])
            for r in await self.session.execute(
                select(ContactTag.contact_id, ContactTag.tag_id).where(
                    ContactTag.workspace_id == ws, ContactTag.contact_id.in_(list(contact_ids))
                )
            )
        )
        for tag_id in tag_ids:
            for lead_id in lead_ids:
                if (lead_id, tag_id) not in existing_leads:
                    self.session.add(LeadTag(workspace_id=ws, lead_id=lead_id, tag_id=tag_id))
            for contact_id in contact_ids:
                if (contact_id, tag_id) not in existing_contacts:
                    self.session.add(
                        ContactTag(workspace_id=ws, contact_id=contact_id, tag_id=tag_id)
                    )
        await self.session.flush()

    async def unlink(
        self,
        *,
        lead_ids: Sequence[uuid.UUID],
        contact_ids: Sequence[uuid.UUID],
        tag_ids: Sequence[uuid.UUID],
    ) -> None:
        ws = self.workspace_id
        if lead_ids:
            await self.session.execute(
                delete(LeadTag).where(
                    LeadTag.workspace_id == ws,
                    LeadTag.lead_id.in_(list(lead_ids)),
                    LeadTag.tag_id.in_(list(tag_ids)),
                )
            )
        if contact_ids:
            await self.session.execute(
                delete(ContactTag).where(
                    ContactTag.workspace_id == ws,
                    ContactTag.contact_id.in_(list(contact_ids)),
                    ContactTag.tag_id.in_(list(tag_ids)),
                )
            )

    async def move_contact_tags(self, source: uuid.UUID, target: uuid.UUID) -> list[str]:
        """Give ``target`` every tag of ``source``; answers the tag ids that were added."""
        ws = self.workspace_id
        source_tags = set(
            await self.session.scalars(
                select(ContactTag.tag_id).where(
                    ContactTag.workspace_id == ws, ContactTag.contact_id == source
                )
            )
        )
        target_tags = set(
            await self.session.scalars(
                select(ContactTag.tag_id).where(
                    ContactTag.workspace_id == ws, ContactTag.contact_id == target
                )
            )
        )
        added = sorted(source_tags - target_tags)
        for tag_id in added:
            self.session.add(ContactTag(workspace_id=ws, contact_id=target, tag_id=tag_id))
        await self.session.flush()
        return [str(t) for t in added]


class SegmentRepository(WorkspaceRepository[Segment]):
    model = Segment


class MergeRepository(WorkspaceRepository[ContactMerge]):
    model = ContactMerge


class ErasureRepository(WorkspaceRepository[Erasure]):
    model = Erasure


class TimelineRepository(WorkspaceRepository[Activity]):
    model = Activity

    def of(self, *, lead_id: uuid.UUID | None, contact_id: uuid.UUID | None) -> Select[Activity]:
        """The timeline of a lead, of a contact, or of both when both are given."""
        stmt = self.select()
        if lead_id is not None:
            stmt = stmt.where(Activity.lead_id == lead_id)
        if contact_id is not None:
            stmt = stmt.where(Activity.contact_id == contact_id)
        return stmt

    async def move_contact(self, source: uuid.UUID, target: uuid.UUID) -> list[str]:
        ids = list(
            await self.session.scalars(
                select(Activity.id).where(
                    Activity.workspace_id == self.workspace_id, Activity.contact_id == source
                )
            )
        )
        await self._set_contact(ids, target)
        return [str(i) for i in ids]

    async def _set_contact(self, ids: Sequence[uuid.UUID], contact_id: uuid.UUID) -> None:
        if ids:
            await self.session.execute(
                update(Activity)
                .where(Activity.workspace_id == self.workspace_id, Activity.id.in_(list(ids)))
                .values(contact_id=contact_id)
            )


class TaskListRepository(WorkspaceRepository[Task]):
    """Tasks by due time, ascending, by keyset on (due_at, id)."""

    model = Task

    async def by_due(self, stmt: Select[Task], *, first: int, after: str | None) -> Page[Task]:
        stmt = stmt.where(Task.due_at.is_not(None))
        if after:
            due, task_id = decode_due_cursor(after)
            stmt = stmt.where(or_(Task.due_at > due, and_(Task.due_at == due, Task.id > task_id)))
        size = max(1, min(first, MAX_PAGE_SIZE))
        rows = list(await self.session.scalars(stmt.order_by(Task.due_at, Task.id).limit(size + 1)))
        return Page(rows=rows[:size], has_next=len(rows) > size)

    async def set_contact(self, source: uuid.UUID, target: uuid.UUID) -> list[str]:
        ids = list(
            await self.session.scalars(
                select(Task.id).where(
                    Task.workspace_id == self.workspace_id, Task.contact_id == source
                )
            )
        )
        if ids:
            await self.session.execute(
                update(Task)
                .where(Task.workspace_id == self.workspace_id, Task.id.in_(ids))
                .values(contact_id=target)
            )
        return [str(i) for i in ids]


def encode_due_cursor(task: Task) -> str:
    assert task.due_at is not None
    raw = f"{task.due_at.isoformat()}|{task.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_due_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        due, task_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(due), uuid.UUID(task_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid.", field="after") from exc


class OverdueScan:
    """The worker's scan across every workspace for tasks that just became overdue.

    Above the tenant boundary on purpose, like WorkspaceDirectory: one worker serves them all.
    ``FOR UPDATE SKIP LOCKED`` lets several workers share the scan on PostgreSQL.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, now: datetime, limit: int) -> list[Task]:
        stmt = (
            select(Task)
            .where(Task.overdue_notified_at.is_(None), Task.done_at.is_(None), Task.due_at < now)
            .order_by(Task.due_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(await self.session.scalars(stmt))
