"""Output types of the CRM workspace, and the resolvers the Lead and Contact types delegate to."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.contacts import models as contact_models
from embedcrm.contacts.merge import UNDO_WINDOW
from embedcrm.db import utcnow
from embedcrm.fields import models as field_models
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import to_global_id
from embedcrm.graphql.support import connection
from embedcrm.graphql.types import Connection, Node
from embedcrm.imports.service import ImportReport as ImportReportRow
from embedcrm.leads import models as lead_models
from embedcrm.privacy import models as privacy_models
from embedcrm.tasks import models as task_models
from embedcrm.tasks.service import TaskFilter

if TYPE_CHECKING:
    from embedcrm.graphql.types import Contact, Lead, Member

MemberRef = Annotated["Member", strawberry.lazy("embedcrm.graphql.types")]
ContactRef = Annotated["Contact", strawberry.lazy("embedcrm.graphql.types")]
LeadRef = Annotated["Lead", strawberry.lazy("embedcrm.graphql.types")]

ActivityKind = strawberry.enum(lead_models.ActivityKind, name="ActivityKind")
TaskKind = strawberry.enum(task_models.TaskKind, name="TaskKind")
FieldEntity = strawberry.enum(field_models.FieldEntity, name="RecordKind")
FieldType = strawberry.enum(field_models.FieldType, name="CustomFieldType")
MergeProposalStatus = strawberry.enum(
    contact_models.MergeProposalStatus, name="MergeProposalStatus"
)


def _gid(type_name: str, row: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(type_name, row.workspace_id, row.id))


async def _member(info: Info, workspace_id: Any, member_id: Any) -> Member | None:
    from embedcrm.graphql.types import Member

    if member_id is None:
        return None
    row = await info.context.loaders.members.load((workspace_id, member_id))
    return Member.of(row) if row else None


@strawberry.type
class Tag(Node):
    name: str

    @classmethod
    def of(cls, row: field_models.Tag) -> Tag:
        return cls(id=_gid("Tag", row), name=row.name)


@strawberry.type(description="A line of the cart: money as decimal strings.")
class LeadItem:
    product: str
    sku: str | None
    quantity: str
    unit_price: str
    unit_cost: str | None
    line_total: str

    @classmethod
    def of(cls, row: lead_models.LeadItem) -> LeadItem:
        return cls(
            product=row.product,
            sku=row.sku,
            quantity=str(row.quantity.normalize()),
            unit_price=str(row.unit_price),
            unit_cost=None if row.unit_cost is None else str(row.unit_cost),
            line_total=str((row.quantity * row.unit_price).quantize(Decimal("0.01"))),
        )


@strawberry.type(description="Payment and delivery of the lead's order.")
class LeadOrder:
    payment_method: str | None
    ordered_at: datetime | None
    delivery_method: str | None
    delivery_address: str | None
    delivery_from: datetime | None
    delivery_to: datetime | None


@strawberry.type(description="One entry of a timeline: note, call, e-mail, meeting, message, …")
class Activity(Node):
    kind: ActivityKind  # type: ignore[valid-type]
    body: str | None
    data: JSON
    created_at: datetime
    _row: strawberry.Private[lead_models.Activity]

    @strawberry.field
    async def author(self, info: Info) -> MemberRef | None:
        return await _member(info, self._row.workspace_id, self._row.author_id)

    @strawberry.field
    def lead_id(self) -> strawberry.ID | None:
        row = self._row
        return (
            None
            if row.lead_id is None
            else strawberry.ID(to_global_id("Lead", row.workspace_id, row.lead_id))
        )

    @strawberry.field
    def contact_id(self) -> strawberry.ID:
        row = self._row
        return strawberry.ID(to_global_id("Contact", row.workspace_id, row.contact_id))

    @classmethod
    def of(cls, row: lead_models.Activity) -> Activity:
        return cls(
            id=_gid("Activity", row),
            kind=row.kind,
            body=row.body,
            data=cast(JSON, row.data),
            created_at=row.created_at,
            _row=row,
        )


@strawberry.type
class StageRef:
    id: strawberry.ID | None
    name: str | None


@strawberry.type(description="One move of a lead between stages.")
class StageChange:
    from_stage: StageRef | None
    to_stage: StageRef
    changed_at: datetime
    _row: strawberry.Private[lead_models.LeadStageChange]

    @strawberry.field
    async def changed_by(self, info: Info) -> MemberRef | None:
        return await _member(info, self._row.workspace_id, self._row.changed_by_id)

    @classmethod
    def of(cls, row: lead_models.LeadStageChange) -> StageChange:
        ws = row.workspace_id
        return cls(
            from_stage=None
            if row.from_stage_id is None
            else StageRef(
                id=strawberry.ID(to_global_id("Stage", ws, row.from_stage_id)),
                name=row.from_stage_name,
            ),
            to_stage=StageRef(
                id=strawberry.ID(to_global_id("Stage", ws, row.to_stage_id)), name=row.to_stage_name
            ),
            changed_at=row.changed_at,
            _row=row,
        )


@strawberry.type
class Task(Node):
    title: str
    kind: TaskKind  # type: ignore[valid-type]
    due_at: datetime | None
    done: bool
    done_at: datetime | None
    created_at: datetime
    _row: strawberry.Private[task_models.Task]

    @strawberry.field(description="Open and past its due time.")
    def overdue(self) -> bool:
        return (
            self._row.done_at is None
            and self._row.due_at is not None
            and self._row.due_at < utcnow()
        )

    @strawberry.field
    async def assignee(self, info: Info) -> MemberRef | None:
        return await _member(info, self._row.workspace_id, self._row.assignee_id)

    @strawberry.field
    async def contact(self, info: Info) -> ContactRef | None:
        from embedcrm.graphql.types import Contact

        if self._row.contact_id is None:
            return None
        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.contact_id)
        )
        return Contact.of(row) if row else None

    @strawberry.field
    def lead_id(self) -> strawberry.ID | None:
        row = self._row
        return (
            None
            if row.lead_id is None
            else strawberry.ID(to_global_id("Lead", row.workspace_id, row.lead_id))
        )

    @classmethod
    def of(cls, row: task_models.Task) -> Task:
        return cls(
            id=_gid("Task", row),
            title=row.title,
            kind=row.kind,
            due_at=row.due_at,
            done=row.done_at is not None,
            done_at=row.done_at,
            created_at=row.created_at,
            _row=row,
        )


@strawberry.type
class CustomField(Node):
    entity: FieldEntity  # type: ignore[valid-type]
    key: str
    label: str
    type: FieldType  # type: ignore[valid-type]
    options: list[str]

    @classmethod
    def of(cls, row: field_models.CustomFieldDefinition) -> CustomField:
        return cls(
            id=_gid("CustomField", row),
            entity=row.entity,
            key=row.key,
            label=row.label,
            type=row.type,
            options=list(row.options),
        )


@strawberry.type(description="A saved filter; its members are computed on every read.")
class Segment(Node):
    name: str
    entity: FieldEntity  # type: ignore[valid-type]
    filter: JSON
    created_at: datetime
    _row: strawberry.Private[field_models.Segment]

    @strawberry.field(description="How many records match right now.")
    async def count(self, info: Info) -> int:
        return await info.context.services.segments.count_members(info.context.principal, self._row)

    @classmethod
    def of(cls, row: field_models.Segment) -> Segment:
        return cls(
            id=_gid("Segment", row),
            name=row.name,
            entity=row.entity,
            filter=cast(JSON, row.filter),
            created_at=row.created_at,
            _row=row,
        )


@strawberry.type
class MergeProposal(Node):
    reason: str
    status: MergeProposalStatus  # type: ignore[valid-type]
    created_at: datetime
    resolved_at: datetime | None
    _row: strawberry.Private[contact_models.MergeProposal]

    @strawberry.field
    async def contact(self, info: Info) -> ContactRef | None:
        from embedcrm.graphql.types import Contact

        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.contact_id)
        )
        return Contact.of(row) if row else None

    @strawberry.field
    async def other_contact(self, info: Info) -> ContactRef | None:
        from embedcrm.graphql.types import Contact

        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.other_contact_id)
        )
        return Contact.of(row) if row else None

    @classmethod
    def of(cls, row: contact_models.MergeProposal) -> MergeProposal:
        return cls(
            id=_gid("MergeProposal", row),
            reason=row.reason,
            status=row.status,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            _row=row,
        )


@strawberry.type(description="The audit entry of a merge of two contacts.")
class ContactMerge(Node):
    merged_contact_id: strawberry.ID
    created_at: datetime
    undone_at: datetime | None
    undo_until: datetime
    _row: strawberry.Private[contact_models.ContactMerge]

    @strawberry.field
    async def kept_contact(self, info: Info) -> ContactRef | None:
        from embedcrm.graphql.types import Contact

        row = await info.context.loaders.contacts.load(
            (self._row.workspace_id, self._row.kept_contact_id)
        )
        return Contact.of(row) if row else None

    @strawberry.field
    async def merged_by(self, info: Info) -> MemberRef | None:
        return await _member(info, self._row.workspace_id, self._row.merged_by_id)

    @classmethod
    def of(cls, row: contact_models.ContactMerge) -> ContactMerge:
        return cls(
            id=_gid("ContactMerge", row),
            merged_contact_id=strawberry.ID(
                to_global_id("Contact", row.workspace_id, row.merged_contact_id)
            ),
            created_at=row.created_at,
            undone_at=row.undone_at,
            undo_until=row.created_at + UNDO_WINDOW,
            _row=row,
        )


@strawberry.type
class RowError:
    row: int = strawberry.field(description="The data row, counting from 1 after the header.")
    column: str | None
    message: str


@strawberry.type
class ColumnMapping:
    column: str
    field: str


@strawberry.type(description="What an import did, or would do on a dry run.")
class ImportReport:
    encoding: str
    delimiter: str
    mapping: list[ColumnMapping]
    total_rows: int
    valid_rows: int
    errors: list[RowError]
    contacts_created: int
    contacts_matched: int
    leads_created: int
    leads_existing: int
    stages_created: list[str]
    dry_run: bool
    imported: bool

    @classmethod
    def of(cls, report: ImportReportRow) -> ImportReport:
        return cls(
            encoding=report.encoding,
            delimiter=report.delimiter,
            mapping=[ColumnMapping(column=c, field=f) for c, f in report.mapping.items()],
            total_rows=report.total_rows,
            valid_rows=report.valid_rows,
            errors=[RowError(row=e.row, column=e.column, message=e.message) for e in report.errors],
            contacts_created=report.contacts_created,
            contacts_matched=report.contacts_matched,
            leads_created=report.leads_created,
            leads_existing=report.leads_existing,
            stages_created=report.stages_created,
            dry_run=report.dry_run,
            imported=report.imported,
        )


@strawberry.type
class ImportPreview:
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: list[ColumnMapping]
    row_count: int
    sample: list[list[str]]
    targets: list[str]


@strawberry.type(description="What is left of an erased person: anonymous counts.")
class Erasure(Node):
    counts: JSON
    created_at: datetime

    @classmethod
    def of(cls, row: privacy_models.Erasure) -> Erasure:
        return cls(
            id=_gid("Erasure", row), counts=cast(JSON, row.counts), created_at=row.created_at
        )


# ---- what Lead and Contact delegate to ------------------------------------------------------


def lead_order(row: lead_models.Lead) -> LeadOrder:
    return LeadOrder(
        payment_method=row.payment_method,
        ordered_at=row.ordered_at,
        delivery_method=row.delivery_method,
        delivery_address=row.delivery_address,
        delivery_from=row.delivery_from,
        delivery_to=row.delivery_to,
    )


async def lead_items(info: Info, row: lead_models.Lead) -> list[LeadItem]:
    items = await info.context.loaders.lead_items.load((row.workspace_id, row.id))
    return [LeadItem.of(i) for i in items or []]


async def lead_items_total(info: Info, row: lead_models.Lead) -> str:
    items = await info.context.loaders.lead_items.load((row.workspace_id, row.id))
    return str(
        sum((i.quantity * i.unit_price for i in items or []), start=Decimal("0")).quantize(
            Decimal("0.01")
        )
    )


async def lead_tags(info: Info, row: lead_models.Lead) -> list[Tag]:
    return [
        Tag.of(t)
        for t in await info.context.loaders.lead_tags.load((row.workspace_id, row.id)) or []
    ]


async def contact_tags(info: Info, row: contact_models.Contact) -> list[Tag]:
    return [
        Tag.of(t)
        for t in await info.context.loaders.contact_tags.load((row.workspace_id, row.id)) or []
    ]


async def timeline(
    info: Info, row: Any, *, lead: bool, first: int, after: str | None
) -> Connection[Activity]:
    leads = info.context.services.leads
    principal = info.context.principal
    page = await leads.timeline(
        principal,
        row.workspace_id,
        lead_id=row.id if lead else None,
        contact_id=None if lead else row.id,
        first=first,
        after=after,
    )

    async def count() -> int:
        return await leads.count_timeline(
            principal,
            row.workspace_id,
            lead_id=row.id if lead else None,
            contact_id=None if lead else row.id,
        )

    return connection(page, Activity.of, count)


async def stage_history(info: Info, row: lead_models.Lead) -> list[StageChange]:
    rows = await info.context.services.pipelines.stage_history(row.workspace_id, row.id)
    return [StageChange.of(r) for r in rows]


async def tasks_of(
    info: Info, row: Any, *, lead: bool, first: int, after: str | None
) -> Connection[Task]:
    service = info.context.services.tasks
    task_filter = (
        TaskFilter(lead_id=row.id, open_only=False)
        if lead
        else TaskFilter(contact_id=row.id, open_only=False)
    )
    page = await service.page(
        info.context.principal, row.workspace_id, task_filter, first=first, after=after
    )
    return connection(
        page, Task.of, lambda: service.count(info.context.principal, row.workspace_id, task_filter)
    )


async def contact_leads(
    info: Info, row: contact_models.Contact, *, first: int, after: str | None
) -> Connection[Lead]:
    from embedcrm.fields.filters import LeadSpec
    from embedcrm.graphql.types import Lead

    lists = info.context.services.lists
    spec = LeadSpec(contact_id=row.id)
    page = await lists.leads_page(
        info.context.principal, row.workspace_id, spec, first=first, after=after
    )
    return connection(
        page, Lead.of, lambda: lists.count_leads(info.context.principal, row.workspace_id, spec)
    )
