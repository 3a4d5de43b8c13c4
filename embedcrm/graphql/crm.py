"""GraphQL of the CRM the site owner works in: pipelines, the card, tasks, fields, tags,
segments, merges, import and export, erasure. Every resolver unpacks, calls one service, converts.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from embedcrm.auth import PanelUser
from embedcrm.contacts import models as contact_models
from embedcrm.errors import NotFound, ValidationFailed
from embedcrm.fields.models import FieldEntity as FieldEntityEnum
from embedcrm.graphql.context import Info
from embedcrm.graphql.ids import GlobalId, parse_global_id, to_global_id
from embedcrm.graphql.support import DEFAULT_PAGE_SIZE, as_payload, connection, workspace_arg
from embedcrm.graphql.types import (
    Connection,
    Contact,
    Edge,
    Lead,
    Node,
    PageInfo,
    Pipeline,
    Stage,
    StageKind,
    UserError,
)
from embedcrm.graphql.work_inputs import (
    ContactFilter,
    contact_spec,
    lead_spec,
    required_id,
    scoped_id,
)
from embedcrm.graphql.work_types import (
    Activity,
    ActivityKind,
    ColumnMapping,
    ContactMerge,
    CustomField,
    Erasure,
    FieldEntity,
    FieldType,
    ImportPreview,
    ImportReport,
    MergeProposal,
    MergeProposalStatus,
    Segment,
    Tag,
    Task,
    TaskKind,
)
from embedcrm.imports.service import TARGETS
from embedcrm.kit.repository import Page
from embedcrm.leads import models as lead_models
from embedcrm.leads.service import ItemSpec
from embedcrm.pipelines import models as pipeline_models
from embedcrm.pipelines.service import StageSpec, won_without_value
from embedcrm.tasks import models as task_models
from embedcrm.tasks.repository import encode_due_cursor
from embedcrm.tasks.service import TaskFilter as TaskFilterQuery

if TYPE_CHECKING:
    from embedcrm.graphql.schema import LeadFilter

T = TypeVar("T")
LeadFilterRef = Annotated["LeadFilter", strawberry.lazy("embedcrm.graphql.schema")]
UNSET: Any = strawberry.UNSET


def _gid(raw: strawberry.ID, type_name: str, field: str = "id") -> GlobalId:
    return parse_global_id(raw, expected=type_name, field=field)


def _given(**values: Any) -> dict[str, Any]:
    """Only the fields the client sent: an omitted field is left alone, a null one is cleared."""
    return {k: v for k, v in values.items() if v is not UNSET}


def _decimal(raw: str, field: str) -> Decimal:
    try:
        return Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationFailed("Not a number.", field=field) from exc


def _pipeline_type(row: pipeline_models.Pipeline, stages: list[pipeline_models.Stage]) -> Pipeline:
    return Pipeline(
        id=strawberry.ID(to_global_id("Pipeline", row.workspace_id, row.id)),
        name=row.name,
        is_default=row.is_default,
        stages=[Stage.of(s) for s in stages],
    )


def _due_connection(
    page: Page[task_models.Task], count: Callable[[], Awaitable[int]]
) -> Connection[Task]:
    return Connection(
        edges=[Edge(cursor=encode_due_cursor(row), node=Task.of(row)) for row in page.rows],
        page_info=PageInfo(
            has_next_page=page.has_next,
            end_cursor=encode_due_cursor(page.rows[-1]) if page.rows else None,
        ),
        _count=count,
    )


# ---- payloads ------------------------------------------------------------------------------


@strawberry.type
class PipelinePayload:
    pipeline: Pipeline | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StagePayload:
    stage: Stage | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LeadPayload:
    lead: Lead | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    warnings: list[UserError] = strawberry.field(
        default_factory=list,
        description="Done, but worth a look: e.g. won with no value (code won_without_value).",
    )


@strawberry.type
class LeadsPayload:
    leads: list[Lead] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    warnings: list[UserError] = strawberry.field(
        default_factory=list,
        description="Done, but worth a look: e.g. won with no value (code won_without_value).",
    )


NO_VALUE = "Won with no value: it adds nothing to revenue until a value or a cart is set."


def _no_value_warnings(leads: list[lead_models.Lead], field: str) -> list[UserError]:
    return [
        UserError(field=field.format(i=i), message=NO_VALUE, code="won_without_value")
        for i in won_without_value(leads)
    ]


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ActivityPayload:
    activity: Activity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TagRecordsPayload:
    leads: list[Lead] = strawberry.field(default_factory=list)
    contacts: list[Contact] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TaskPayload:
    task: Task | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomFieldPayload:
    custom_field: CustomField | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SegmentPayload:
    segment: Segment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CrmSettingsPayload:
    managers_can_edit_all: bool | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactMergePayload:
    merge: ContactMerge | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MergeProposalPayload:
    proposal: MergeProposal | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportPreviewPayload:
    preview: ImportPreview | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportCsvPayload:
    report: ImportReport | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ErasePersonPayload:
    erasure: Erasure | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CsvExport:
    csv: str
    row_count: int


# ---- inputs --------------------------------------------------------------------------------


@strawberry.input
class StageInput:
    name: str
    probability: int = 0
    kind: StageKind = pipeline_models.StageKind.OPEN  # type: ignore[valid-type]


@strawberry.input
class CreatePipelineInput:
    name: str
    stages: list[StageInput] | None = strawberry.field(
        default=None, description="Omit for the standard stages."
    )
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdatePipelineInput:
    id: strawberry.ID
    name: str | None = None
    position: int | None = None
    make_default: bool = False


@strawberry.input
class DeletePipelineInput:
    id: strawberry.ID
    target_stage_id: strawberry.ID = strawberry.field(description="Where its leads go.")


@strawberry.input
class CreateStageInput:
    pipeline_id: strawberry.ID
    name: str
    probability: int = 0
    kind: StageKind = pipeline_models.StageKind.OPEN  # type: ignore[valid-type]
    position: int | None = None


@strawberry.input
class UpdateStageInput:
    id: strawberry.ID
    name: str | None = None
    probability: int | None = None
    kind: StageKind | None = None  # type: ignore[valid-type]


@strawberry.input
class ReorderStagesInput:
    pipeline_id: strawberry.ID
    stage_ids: list[strawberry.ID]


@strawberry.input
class DeleteStageInput:
    id: strawberry.ID
    target_stage_id: strawberry.ID = strawberry.field(description="Where its leads go.")


@strawberry.input
class MoveLeadInput:
    lead_id: strawberry.ID
    stage_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Why it was won or lost.")


@strawberry.input
class BulkMoveLeadsInput:
    lead_ids: list[strawberry.ID]
    stage_id: strawberry.ID
    reason: str | None = None


@strawberry.input
class UpdateLeadInput:
    id: strawberry.ID
    title: str | None = UNSET
    value: str | None = strawberry.field(default=UNSET, description="A decimal string.")
    currency: str | None = UNSET
    payment_method: str | None = UNSET
    ordered_at: datetime | None = UNSET
    delivery_method: str | None = UNSET
    delivery_address: str | None = UNSET
    delivery_from: datetime | None = UNSET
    delivery_to: datetime | None = UNSET
    custom_fields: JSON | None = strawberry.field(
        default=UNSET, description="Keys to set; a null value removes the key."
    )


@strawberry.input
class LeadItemInput:
    product: str
    quantity: str = "1"
    unit_price: str = "0"
    sku: str | None = None
    unit_cost: str | None = None


@strawberry.input
class SetLeadItemsInput:
    lead_id: strawberry.ID
    items: list[LeadItemInput]


@strawberry.input
class AssignLeadInput:
    lead_id: strawberry.ID
    assignee_id: strawberry.ID | None


@strawberry.input
class BulkAssignLeadsInput:
    lead_ids: list[strawberry.ID]
    assignee_id: strawberry.ID | None


@strawberry.input
class UpdateContactInput:
    id: strawberry.ID
    name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    company: str | None = UNSET
    manager_id: strawberry.ID | None = UNSET
    custom_fields: JSON | None = UNSET


@strawberry.input
class AddActivityInput:
    kind: ActivityKind  # type: ignore[valid-type]
    body: str
    lead_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    occurred_at: datetime | None = None
    data: JSON | None = None


@strawberry.input
class TagRecordsInput:
    ids: list[strawberry.ID] = strawberry.field(description="Leads and contacts.")
    add: list[str] = strawberry.field(default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteInput:
    id: strawberry.ID


@strawberry.input
class CreateTaskInput:
    title: str
    due_at: datetime
    kind: TaskKind = task_models.TaskKind.TODO  # type: ignore[valid-type]
    assignee_id: strawberry.ID | None = None
    lead_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdateTaskInput:
    id: strawberry.ID
    title: str | None = UNSET
    due_at: datetime | None = UNSET
    assignee_id: strawberry.ID | None = UNSET
    done: bool | None = UNSET


@strawberry.input
class TaskFilter:
    mine: bool = strawberry.field(default=False, description="Assigned to the caller.")
    assignee_id: strawberry.ID | None = None
    overdue: bool = False
    include_done: bool = False


@strawberry.input
class CreateCustomFieldInput:
    entity: FieldEntity  # type: ignore[valid-type]
    key: str
    label: str
    type: FieldType  # type: ignore[valid-type]
    options: list[str] = strawberry.field(default_factory=list)
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdateCustomFieldInput:
    id: strawberry.ID
    label: str | None = None
    options: list[str] | None = None


@strawberry.input
class CreateSegmentInput:
    name: str
    lead_filter: LeadFilterRef | None = None
    contact_filter: ContactFilter | None = None
    workspace_id: strawberry.ID | None = None


@strawberry.input
class UpdateSegmentInput:
    id: strawberry.ID
    name: str | None = None
    lead_filter: LeadFilterRef | None = None
    contact_filter: ContactFilter | None = None


@strawberry.input
class UpdateCrmSettingsInput:
    managers_can_edit_all: bool
    workspace_id: strawberry.ID | None = None


@strawberry.input
class MergeContactsInput:
    keep_id: strawberry.ID
    merge_id: strawberry.ID = strawberry.field(description="Merged into keepId, then removed.")


@strawberry.input
class AcceptMergeProposalInput:
    id: strawberry.ID
    keep_id: strawberry.ID | None = None


@strawberry.input
class ColumnMappingInput:
    column: str
    field: str = strawberry.field(description="A target field, or `skip`.")


@strawberry.input
class PreviewCsvImportInput:
    content_base64: str = strawberry.field(description="The file's bytes, in any encoding.")


@strawberry.input
class ImportCsvInput:
    content_base64: str
    entity: FieldEntity = FieldEntityEnum.LEAD  # type: ignore[valid-type]
    mapping: list[ColumnMappingInput] | None = strawberry.field(
        default=None, description="Omit for the suggested mapping."
    )
    dry_run: bool = True
    skip_invalid_rows: bool = False
    workspace_id: strawberry.ID | None = None


@strawberry.input
class ErasePersonInput:
    contact_id: strawberry.ID


def _content(raw: str) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("contentBase64 is not base64.", field="contentBase64") from exc


# ---- queries -------------------------------------------------------------------------------


@strawberry.type
class CrmQuery:
    @strawberry.field(description="Tasks by due time: mine, a member's, or the overdue ones.")
    async def tasks(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: TaskFilter | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Task]:
        ctx = info.context
        workspace = ctx.workspace_for(workspace_arg(workspace_id))
        f = filter or TaskFilter()
        assignee = scoped_id(f.assignee_id, "Member", "filter.assigneeId", workspace)
        if f.mine:
            if not isinstance(ctx.principal, PanelUser):
                raise NotFound("Only a panel member has tasks of their own.", field="filter.mine")
            assignee = ctx.principal.member_id
        query = TaskFilterQuery(
            assignee_id=assignee, open_only=not f.include_done, overdue_only=f.overdue
        )
        service = ctx.services.tasks
        page = await service.page(ctx.principal, workspace, query, first=first, after=after)
        return _due_connection(page, lambda: service.count(ctx.principal, workspace, query))

    @strawberry.field
    async def custom_fields(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[CustomField]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.fields.list(info.context.principal, workspace)
        return [CustomField.of(r) for r in rows]

    @strawberry.field
    async def tags(self, info: Info, workspace_id: strawberry.ID | None = None) -> list[Tag]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.tags.tags(info.context.principal, workspace)
        return [Tag.of(r) for r in rows]

    @strawberry.field(description="Saved segments, newest first.")
    async def segments(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[Segment]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        service = info.context.services.segments
        page = await service.page(info.context.principal, workspace, first=first, after=after)
        return connection(
            page, Segment.of, lambda: service.count_all(info.context.principal, workspace)
        )

    @strawberry.field(description="Contacts that look like one person, recorded at capture.")
    async def merge_proposals(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: MergeProposalStatus | None = contact_models.MergeProposalStatus.OPEN,  # type: ignore[valid-type]
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[MergeProposal]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        service = info.context.services.merges
        page = await service.proposals(
            info.context.principal, workspace, status=status, first=first, after=after
        )

        async def count() -> int:
            return await service.count_proposals(info.context.principal, workspace, status=status)

        return connection(page, MergeProposal.of, count)

    @strawberry.field(description="The audit trail of contact merges, newest first.")
    async def contact_merges(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> Connection[ContactMerge]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        service = info.context.services.merges
        page = await service.merges(info.context.principal, workspace, first=first, after=after)

        async def count() -> int:
            return await service.count_merges(info.context.principal, workspace)

        return connection(page, ContactMerge.of, count)

    @strawberry.field(description="The filtered leads as CSV.")
    async def leads_csv(
        self,
        info: Info,
        filter: LeadFilterRef | None = None,
        segment_id: strawberry.ID | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        text, rows = await info.context.services.lists.export_csv(
            info.context.principal, workspace, lead_spec(filter, workspace), segment_id=segment
        )
        return CsvExport(csv=text, row_count=rows)

    @strawberry.field(description="The filtered contacts as CSV.")
    async def contacts_csv(
        self,
        info: Info,
        filter: ContactFilter | None = None,
        segment_id: strawberry.ID | None = None,
        workspace_id: strawberry.ID | None = None,
    ) -> CsvExport:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        segment = scoped_id(segment_id, "Segment", "segmentId", workspace)
        text, rows = await info.context.services.lists.export_csv(
            info.context.principal, workspace, contact_spec(filter, workspace), segment_id=segment
        )
        return CsvExport(csv=text, row_count=rows)

    @strawberry.field(description="Everything kept about one person (owner only).")
    async def personal_data(self, info: Info, contact_id: strawberry.ID) -> JSON:
        gid = _gid(contact_id, "Contact", "contactId")
        data = await info.context.services.privacy.export_person(
            info.context.principal, gid.workspace_id, gid.row_id
        )
        return cast(JSON, data)


async def load_work_node(info: Info, gid: GlobalId) -> Node | None:
    """The node query's share for this area's types."""
    services = info.context.services
    principal = info.context.principal
    if gid.type_name == "Pipeline":
        found = await services.pipelines.pipeline(gid.workspace_id, gid.row_id)
        return _pipeline_type(*found) if found else None
    if gid.type_name == "Segment":
        segment = await services.segments.get(principal, gid.workspace_id, gid.row_id)
        return Segment.of(segment) if segment else None
    return None


# ---- mutations -----------------------------------------------------------------------------


def _errors(payload: type[T]) -> Callable[[list[UserError]], T]:
    return lambda errors: payload(user_errors=errors)  # type: ignore[call-arg]


@strawberry.type
class CrmMutation:
    # -- pipelines and stages

    @strawberry.mutation
    async def create_pipeline(self, info: Info, input: CreatePipelineInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            stages = (
                None
                if input.stages is None
                else [StageSpec(s.name, s.probability, s.kind) for s in input.stages]
            )
            row = await ctx.services.pipelines.create_pipeline(
                ctx.principal, workspace, name=input.name, stages=stages
            )
            return await _reload_pipeline(info, row)

        return await as_payload(
            call, lambda p: PipelinePayload(pipeline=p), _errors(PipelinePayload)
        )

    @strawberry.mutation(description="Rename, reorder (position) or make the default.")
    async def update_pipeline(self, info: Info, input: UpdatePipelineInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            gid = _gid(input.id, "Pipeline")
            row = await ctx.services.pipelines.update_pipeline(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                name=input.name,
                position=input.position,
                make_default=input.make_default,
            )
            return await _reload_pipeline(info, row)

        return await as_payload(
            call, lambda p: PipelinePayload(pipeline=p), _errors(PipelinePayload)
        )

    @strawberry.mutation(description="Delete a pipeline; its leads move to targetStageId.")
    async def delete_pipeline(self, info: Info, input: DeletePipelineInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = _gid(input.id, "Pipeline")
            target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
            await ctx.services.pipelines.delete_pipeline(
                ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
            )
            return input.id

        return await as_payload(call, lambda i: DeletePayload(deleted_id=i), _errors(DeletePayload))

    @strawberry.mutation
    async def create_stage(self, info: Info, input: CreateStageInput) -> StagePayload:
        ctx = info.context

        async def call() -> pipeline_models.Stage:
            gid = _gid(input.pipeline_id, "Pipeline", "pipelineId")
            return await ctx.services.pipelines.create_stage(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                spec=StageSpec(input.name, input.probability, input.kind),
                position=input.position,
            )

        return await as_payload(
            call, lambda s: StagePayload(stage=Stage.of(s)), _errors(StagePayload)
        )

    @strawberry.mutation(description="Rename a stage, change its probability or kind.")
    async def update_stage(self, info: Info, input: UpdateStageInput) -> StagePayload:
        ctx = info.context

        async def call() -> pipeline_models.Stage:
            gid = _gid(input.id, "Stage")
            return await ctx.services.pipelines.update_stage(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                name=input.name,
                probability=input.probability,
                kind=input.kind,
            )

        return await as_payload(
            call, lambda s: StagePayload(stage=Stage.of(s)), _errors(StagePayload)
        )

    @strawberry.mutation(description="Put the stages of a pipeline in this order.")
    async def reorder_stages(self, info: Info, input: ReorderStagesInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            gid = _gid(input.pipeline_id, "Pipeline", "pipelineId")
            ids = [
                required_id(s, "Stage", f"stageIds[{i}]", gid.workspace_id)
                for i, s in enumerate(input.stage_ids)
            ]
            row = await ctx.services.pipelines.reorder_stages(
                ctx.principal, gid.workspace_id, gid.row_id, ids
            )
            return await _reload_pipeline(info, row)

        return await as_payload(
            call, lambda p: PipelinePayload(pipeline=p), _errors(PipelinePayload)
        )

    @strawberry.mutation(description="Delete a stage; its leads move to targetStageId.")
    async def delete_stage(self, info: Info, input: DeleteStageInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            gid = _gid(input.id, "Stage")
            target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
            row = await ctx.services.pipelines.delete_stage(
                ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
            )
            return await _reload_pipeline(info, row)

        return await as_payload(
            call, lambda p: PipelinePayload(pipeline=p), _errors(PipelinePayload)
        )

    # -- leads

    @strawberry.mutation(
        description="Move a lead to a stage (of any pipeline); a WON or LOST stage closes it."
    )
    async def move_lead(self, info: Info, input: MoveLeadInput) -> LeadPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            gid = _gid(input.lead_id, "Lead", "leadId")
            stage = required_id(input.stage_id, "Stage", "stageId", gid.workspace_id)
            return await ctx.services.pipelines.move_leads(
                ctx.principal, gid.workspace_id, [gid.row_id], stage, reason=input.reason
            )

        return await as_payload(
            call,
            lambda leads: LeadPayload(
                lead=Lead.of(leads[0]), warnings=_no_value_warnings(leads, "value")
            ),
            _errors(LeadPayload),
        )

    @strawberry.mutation(description="Move many leads at once: all of them, or none.")
    async def bulk_move_leads(self, info: Info, input: BulkMoveLeadsInput) -> LeadsPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            workspace, ids = _same_workspace(input.lead_ids, "Lead", "leadIds")
            stage = required_id(input.stage_id, "Stage", "stageId", workspace)
            return await ctx.services.pipelines.move_leads(
                ctx.principal, workspace, ids, stage, reason=input.reason
            )

        return await as_payload(
            call,
            lambda leads: LeadsPayload(
                leads=[Lead.of(x) for x in leads],
                warnings=_no_value_warnings(leads, "leadIds[{i}]"),
            ),
            _errors(LeadsPayload),
        )

    @strawberry.mutation(description="Title, value and currency, order details, custom fields.")
    async def update_lead(self, info: Info, input: UpdateLeadInput) -> LeadPayload:
        ctx = info.context

        async def call() -> lead_models.Lead:
            gid = _gid(input.id, "Lead")
            changes = _given(
                title=input.title,
                value=input.value
                if input.value in (UNSET, None)
                else _decimal(input.value, "value"),
                currency=input.currency,
                payment_method=input.payment_method,
                ordered_at=input.ordered_at,
                delivery_method=input.delivery_method,
                delivery_address=input.delivery_address,
                delivery_from=input.delivery_from,
                delivery_to=input.delivery_to,
                custom_fields=input.custom_fields,
            )
            return await ctx.services.leads.update_lead(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )

        return await as_payload(
            call, lambda lead: LeadPayload(lead=Lead.of(lead)), _errors(LeadPayload)
        )

    @strawberry.mutation(description="Replace the lead's cart.")
    async def set_lead_items(self, info: Info, input: SetLeadItemsInput) -> LeadPayload:
        ctx = info.context

        async def call() -> lead_models.Lead:
            gid = _gid(input.lead_id, "Lead", "leadId")
            items = [
                ItemSpec(
                    product=i.product,
                    sku=i.sku,
                    quantity=_decimal(i.quantity, f"items[{n}].quantity"),
                    unit_price=_decimal(i.unit_price, f"items[{n}].unitPrice"),
                    unit_cost=None
                    if i.unit_cost is None
                    else _decimal(i.unit_cost, f"items[{n}].unitCost"),
                )
                for n, i in enumerate(input.items)
            ]
            return await ctx.services.leads.set_items(
                ctx.principal, gid.workspace_id, gid.row_id, items
            )

        return await as_payload(
            call, lambda lead: LeadPayload(lead=Lead.of(lead)), _errors(LeadPayload)
        )

    @strawberry.mutation
    async def assign_lead(self, info: Info, input: AssignLeadInput) -> LeadPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            gid = _gid(input.lead_id, "Lead", "leadId")
            assignee = scoped_id(input.assignee_id, "Member", "assigneeId", gid.workspace_id)
            return await ctx.services.leads.assign_leads(
                ctx.principal, gid.workspace_id, [gid.row_id], assignee
            )

        return await as_payload(
            call, lambda leads: LeadPayload(lead=Lead.of(leads[0])), _errors(LeadPayload)
        )

    @strawberry.mutation(description="Assign many leads at once: all of them, or none.")
    async def bulk_assign_leads(self, info: Info, input: BulkAssignLeadsInput) -> LeadsPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            workspace, ids = _same_workspace(input.lead_ids, "Lead", "leadIds")
            assignee = scoped_id(input.assignee_id, "Member", "assigneeId", workspace)
            return await ctx.services.leads.assign_leads(ctx.principal, workspace, ids, assignee)

        return await as_payload(
            call,
            lambda leads: LeadsPayload(leads=[Lead.of(x) for x in leads]),
            _errors(LeadsPayload),
        )

    # -- contacts, timeline, tags

    @strawberry.mutation(description="Details, personal manager and custom fields of a contact.")
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        ctx = info.context

        async def call() -> contact_models.Contact:
            gid = _gid(input.id, "Contact")
            manager: Any = input.manager_id
            if manager not in (UNSET, None):
                manager = required_id(manager, "Member", "managerId", gid.workspace_id)
            changes = _given(
                name=input.name,
                email=input.email,
                phone=input.phone,
                company=input.company,
                manager_id=manager,
                custom_fields=input.custom_fields,
            )
            return await ctx.services.contacts.update_contact(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )

        return await as_payload(
            call, lambda c: ContactPayload(contact=Contact.of(c)), _errors(ContactPayload)
        )

    @strawberry.mutation(description="A note, call, e-mail, meeting or message on a timeline.")
    async def add_activity(self, info: Info, input: AddActivityInput) -> ActivityPayload:
        ctx = info.context

        async def call() -> lead_models.Activity:
            if input.lead_id is not None:
                owner = _gid(input.lead_id, "Lead", "leadId")
            elif input.contact_id is not None:
                owner = _gid(input.contact_id, "Contact", "contactId")
            else:
                raise ValidationFailed("Name a lead or a contact.", field="leadId")
            lead = owner.row_id if owner.type_name == "Lead" else None
            contact = owner.row_id if owner.type_name == "Contact" else None
            if input.data is not None and not isinstance(input.data, dict):
                raise ValidationFailed("data is an object.", field="data")
            return await ctx.services.leads.add_activity(
                ctx.principal,
                owner.workspace_id,
                lead_id=lead,
                contact_id=contact,
                kind=input.kind,
                body=input.body,
                occurred_at=input.occurred_at,
                data=input.data or {},
            )

        return await as_payload(
            call, lambda a: ActivityPayload(activity=Activity.of(a)), _errors(ActivityPayload)
        )

    @strawberry.mutation(
        description="Add and remove tags on many leads and contacts: all, or none."
    )
    async def tag_records(self, info: Info, input: TagRecordsInput) -> TagRecordsPayload:
        ctx = info.context

        async def call() -> tuple[list[lead_models.Lead], list[contact_models.Contact]]:
            if not input.ids:
                raise ValidationFailed("Name at least one lead or contact.", field="ids")
            gids = [parse_global_id(raw, field=f"ids[{i}]") for i, raw in enumerate(input.ids)]
            workspace = gids[0].workspace_id
            leads = [g.row_id for g in gids if g.type_name == "Lead"]
            contacts = [g.row_id for g in gids if g.type_name == "Contact"]
            for i, g in enumerate(gids):
                if g.type_name not in ("Lead", "Contact") or g.workspace_id != workspace:
                    raise NotFound("Nothing has this id.", field=f"ids[{i}]")
            return await ctx.services.tags.tag(
                ctx.principal,
                workspace,
                lead_ids=leads,
                contact_ids=contacts,
                add=input.add,
                remove=input.remove,
            )

        return await as_payload(
            call,
            lambda r: TagRecordsPayload(
                leads=[Lead.of(x) for x in r[0]], contacts=[Contact.of(x) for x in r[1]]
            ),
            _errors(TagRecordsPayload),
        )

    @strawberry.mutation
    async def delete_tag(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = _gid(input.id, "Tag")
            await ctx.services.tags.delete_tag(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(call, lambda i: DeletePayload(deleted_id=i), _errors(DeletePayload))

    # -- tasks

    @strawberry.mutation(description="A task or reminder; assigned to the caller unless told.")
    async def create_task(self, info: Info, input: CreateTaskInput) -> TaskPayload:
        ctx = info.context

        async def call() -> task_models.Task:
            owner = None
            if input.lead_id is not None:
                owner = _gid(input.lead_id, "Lead", "leadId").workspace_id
            elif input.contact_id is not None:
                owner = _gid(input.contact_id, "Contact", "contactId").workspace_id
            workspace = owner or ctx.workspace_for(workspace_arg(input.workspace_id))
            return await ctx.services.tasks.create(
                ctx.principal,
                workspace,
                title=input.title,
                kind=input.kind,
                due_at=input.due_at,
                assignee_id=scoped_id(input.assignee_id, "Member", "assigneeId", workspace),
                lead_id=scoped_id(input.lead_id, "Lead", "leadId", workspace),
                contact_id=scoped_id(input.contact_id, "Contact", "contactId", workspace),
            )

        return await as_payload(call, lambda t: TaskPayload(task=Task.of(t)), _errors(TaskPayload))

    @strawberry.mutation(description="Change a task, or mark it done (done: true) or open again.")
    async def update_task(self, info: Info, input: UpdateTaskInput) -> TaskPayload:
        ctx = info.context

        async def call() -> task_models.Task:
            gid = _gid(input.id, "Task")
            assignee: Any = input.assignee_id
            if assignee not in (UNSET, None):
                assignee = required_id(assignee, "Member", "assigneeId", gid.workspace_id)
            changes = _given(
                title=input.title, due_at=input.due_at, assignee_id=assignee, done=input.done
            )
            return await ctx.services.tasks.update(
                ctx.principal, gid.workspace_id, gid.row_id, changes
            )

        return await as_payload(call, lambda t: TaskPayload(task=Task.of(t)), _errors(TaskPayload))

    @strawberry.mutation
    async def delete_task(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = _gid(input.id, "Task")
            await ctx.services.tasks.delete(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(call, lambda i: DeletePayload(deleted_id=i), _errors(DeletePayload))

    # -- custom fields, segments, settings

    @strawberry.mutation
    async def create_custom_field(
        self, info: Info, input: CreateCustomFieldInput
    ) -> CustomFieldPayload:
        ctx = info.context

        async def call() -> Any:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            return await ctx.services.fields.create(
                ctx.principal,
                workspace,
                entity=input.entity,
                key=input.key,
                label=input.label,
                type=input.type,
                options=input.options,
            )

        return await as_payload(
            call,
            lambda f: CustomFieldPayload(custom_field=CustomField.of(f)),
            _errors(CustomFieldPayload),
        )

    @strawberry.mutation
    async def update_custom_field(
        self, info: Info, input: UpdateCustomFieldInput
    ) -> CustomFieldPayload:
        ctx = info.context

        async def call() -> Any:
            gid = _gid(input.id, "CustomField")
            return await ctx.services.fields.update(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                label=input.label,
                options=input.options,
            )

        return await as_payload(
            call,
            lambda f: CustomFieldPayload(custom_field=CustomField.of(f)),
            _errors(CustomFieldPayload),
        )

    @strawberry.mutation(description="Delete a definition; the values stay on the records.")
    async def delete_custom_field(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = _gid(input.id, "CustomField")
            await ctx.services.fields.delete(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(call, lambda i: DeletePayload(deleted_id=i), _errors(DeletePayload))

    @strawberry.mutation(
        description="Save a filter over leads (leadFilter) or contacts (contactFilter)."
    )
    async def create_segment(self, info: Info, input: CreateSegmentInput) -> SegmentPayload:
        ctx = info.context

        async def call() -> Any:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            if (input.lead_filter is None) == (input.contact_filter is None):
                raise ValidationFailed("Give a leadFilter or a contactFilter.", field="leadFilter")
            spec: Any = (
                lead_spec(input.lead_filter, workspace)
                if input.lead_filter is not None
                else contact_spec(input.contact_filter, workspace)
            )
            return await ctx.services.segments.create(
                ctx.principal, workspace, name=input.name, spec=spec
            )

        return await as_payload(
            call, lambda s: SegmentPayload(segment=Segment.of(s)), _errors(SegmentPayload)
        )

    @strawberry.mutation
    async def update_segment(self, info: Info, input: UpdateSegmentInput) -> SegmentPayload:
        ctx = info.context

        async def call() -> Any:
            gid = _gid(input.id, "Segment")
            spec: Any = None
            if input.lead_filter is not None:
                spec = lead_spec(input.lead_filter, gid.workspace_id)
            elif input.contact_filter is not None:
                spec = contact_spec(input.contact_filter, gid.workspace_id)
            return await ctx.services.segments.update(
                ctx.principal, gid.workspace_id, gid.row_id, name=input.name, spec=spec
            )

        return await as_payload(
            call, lambda s: SegmentPayload(segment=Segment.of(s)), _errors(SegmentPayload)
        )

    @strawberry.mutation
    async def delete_segment(self, info: Info, input: DeleteInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = _gid(input.id, "Segment")
            await ctx.services.segments.delete(ctx.principal, gid.workspace_id, gid.row_id)
            return input.id

        return await as_payload(call, lambda i: DeletePayload(deleted_id=i), _errors(DeletePayload))

    @strawberry.mutation(description="Let managers change every lead and contact, or only theirs.")
    async def update_crm_settings(
        self, info: Info, input: UpdateCrmSettingsInput
    ) -> CrmSettingsPayload:
        ctx = info.context

        async def call() -> bool:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            return await ctx.services.workspaces.set_managers_edit_all(
                ctx.principal, workspace, input.managers_can_edit_all
            )

        return await as_payload(
            call, lambda v: CrmSettingsPayload(managers_can_edit_all=v), _errors(CrmSettingsPayload)
        )

    # -- merges

    @strawberry.mutation(
        description="Merge mergeId into keepId: timeline, leads, tasks and tags move."
    )
    async def merge_contacts(self, info: Info, input: MergeContactsInput) -> ContactMergePayload:
        ctx = info.context

        async def call() -> Any:
            keep = _gid(input.keep_id, "Contact", "keepId")
            merge = required_id(input.merge_id, "Contact", "mergeId", keep.workspace_id)
            return await ctx.services.merges.merge(
                ctx.principal, keep.workspace_id, keep_id=keep.row_id, merge_id=merge
            )

        return await as_payload(
            call,
            lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
            _errors(ContactMergePayload),
        )

    @strawberry.mutation(description="Undo a merge within a day of it.")
    async def undo_contact_merge(self, info: Info, input: DeleteInput) -> ContactMergePayload:
        ctx = info.context

        async def call() -> Any:
            gid = _gid(input.id, "ContactMerge")
            return await ctx.services.merges.undo(ctx.principal, gid.workspace_id, gid.row_id)

        return await as_payload(
            call,
            lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
            _errors(ContactMergePayload),
        )

    @strawberry.mutation(
        description="Merge the two contacts of a proposal (keeping keepId, else the first)."
    )
    async def accept_merge_proposal(
        self, info: Info, input: AcceptMergeProposalInput
    ) -> ContactMergePayload:
        ctx = info.context

        async def call() -> Any:
            gid = _gid(input.id, "MergeProposal")
            keep = scoped_id(input.keep_id, "Contact", "keepId", gid.workspace_id)
            return await ctx.services.merges.accept_proposal(
                ctx.principal, gid.workspace_id, gid.row_id, keep_id=keep
            )

        return await as_payload(
            call,
            lambda m: ContactMergePayload(merge=ContactMerge.of(m)),
            _errors(ContactMergePayload),
        )

    @strawberry.mutation
    async def dismiss_merge_proposal(self, info: Info, input: DeleteInput) -> MergeProposalPayload:
        ctx = info.context

        async def call() -> Any:
            gid = _gid(input.id, "MergeProposal")
            return await ctx.services.merges.dismiss_proposal(
                ctx.principal, gid.workspace_id, gid.row_id
            )

        return await as_payload(
            call,
            lambda p: MergeProposalPayload(proposal=MergeProposal.of(p)),
            _errors(MergeProposalPayload),
        )

    # -- import, erasure

    @strawberry.mutation(
        description="Encoding, delimiter, headers and the suggested column mapping."
    )
    async def preview_csv_import(
        self, info: Info, input: PreviewCsvImportInput
    ) -> ImportPreviewPayload:
        ctx = info.context

        async def call() -> ImportPreview:
            decoded, mapping = ctx.services.imports.preview(_content(input.content_base64))
            return ImportPreview(
                encoding=decoded.encoding,
                delimiter=decoded.delimiter,
                headers=decoded.headers,
                mapping=[ColumnMapping(column=c, field=f) for c, f in mapping.items()],
                row_count=len(decoded.rows),
                sample=decoded.rows[:5],
                targets=["skip", *TARGETS],
            )

        return await as_payload(
            call, lambda p: ImportPreviewPayload(preview=p), _errors(ImportPreviewPayload)
        )

    @strawberry.mutation(
        description="Import contacts or leads; a dry run (the default) writes nothing."
    )
    async def import_csv(self, info: Info, input: ImportCsvInput) -> ImportCsvPayload:
        ctx = info.context

        async def call() -> Any:
            workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
            mapping = None if input.mapping is None else {m.column: m.field for m in input.mapping}
            return await ctx.services.imports.run(
                ctx.principal,
                workspace,
                _content(input.content_base64),
                entity=input.entity,
                mapping=mapping,
                dry_run=input.dry_run,
                skip_invalid_rows=input.skip_invalid_rows,
            )

        return await as_payload(
            call, lambda r: ImportCsvPayload(report=ImportReport.of(r)), _errors(ImportCsvPayload)
        )

    @strawberry.mutation(
        description="Erase one person from every table; only anonymous counts stay."
    )
    async def erase_person(self, info: Info, input: ErasePersonInput) -> ErasePersonPayload:
        ctx = info.context

        async def call() -> Any:
            gid = _gid(input.contact_id, "Contact", "contactId")
            return await ctx.services.privacy.erase_person(
                ctx.principal, gid.workspace_id, gid.row_id
            )

        return await as_payload(
            call, lambda e: ErasePersonPayload(erasure=Erasure.of(e)), _errors(ErasePersonPayload)
        )


def _same_workspace(
    raw: list[strawberry.ID], type_name: str, field: str
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    if not raw:
        raise ValidationFailed("Name at least one.", field=field)
    gids = [_gid(r, type_name, f"{field}[{i}]") for i, r in enumerate(raw)]
    workspace = gids[0].workspace_id
    return workspace, [g.row_id if g.workspace_id == workspace else uuid.UUID(int=0) for g in gids]


async def _reload_pipeline(info: Info, row: pipeline_models.Pipeline) -> Pipeline:
    found = await info.context.services.pipelines.pipeline(row.workspace_id, row.id)
    if found is None:
        raise NotFound("Nothing has this id.", field="id")
    return _pipeline_type(*found)


TYPES: list[type] = [
    Tag,
    Activity,
    Task,
    CustomField,
    Segment,
    MergeProposal,
    ContactMerge,
    Erasure,
]
