"""GraphQL queries and mutations of pipelines, their stages, and moving leads between them."""

from __future__ import annotations

import strawberry

from embedcrm.errors import NotFound
from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeletePayload
from embedcrm.graphql.leads.inputs import LeadPayload, LeadsPayload
from embedcrm.graphql.leads.types import Lead
from embedcrm.graphql.pipelines.inputs import (
    BulkMoveLeadsInput,
    CreatePipelineInput,
    CreateStageInput,
    DeletePipelineInput,
    DeleteStageInput,
    MoveLeadInput,
    PipelinePayload,
    ReorderStagesInput,
    StagePayload,
    UpdatePipelineInput,
    UpdateStageInput,
    no_value_warnings,
)
from embedcrm.graphql.pipelines.types import Pipeline, Stage, pipeline_type
from embedcrm.graphql.support import (
    as_payload,
    errors_payload,
    parse_id,
    required_id,
    same_workspace,
    workspace_arg,
)
from embedcrm.leads import models as lead_models
from embedcrm.pipelines import models as pipeline_models
from embedcrm.pipelines.service import StageSpec


async def _reload_pipeline(info: Info, row: pipeline_models.Pipeline) -> Pipeline:
    found = await info.context.services.pipelines.pipeline(row.workspace_id, row.id)
    if found is None:
        raise NotFound("Nothing has this id.", field="id")
    return pipeline_type(*found)


@strawberry.type
class PipelineQuery:
    @strawberry.field
    async def pipelines(
        self, info: Info, workspace_id: strawberry.ID | None = None
    ) -> list[Pipeline]:
        workspace = info.context.workspace_for(workspace_arg(workspace_id))
        rows = await info.context.services.pipelines.pipelines(workspace)
        return [pipeline_type(p, stages) for p, stages in rows]


@strawberry.type
class PipelineMutation:
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
            call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
        )

    @strawberry.mutation(description="Rename, reorder (position) or make the default.")
    async def update_pipeline(self, info: Info, input: UpdatePipelineInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            gid = parse_id(input.id, "Pipeline")
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
            call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
        )

    @strawberry.mutation(description="Delete a pipeline; its leads move to targetStageId.")
    async def delete_pipeline(self, info: Info, input: DeletePipelineInput) -> DeletePayload:
        ctx = info.context

        async def call() -> strawberry.ID:
            gid = parse_id(input.id, "Pipeline")
            target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
            await ctx.services.pipelines.delete_pipeline(
                ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
            )
            return input.id

        return await as_payload(
            call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
        )

    @strawberry.mutation
    async def create_stage(self, info: Info, input: CreateStageInput) -> StagePayload:
        ctx = info.context

        async def call() -> pipeline_models.Stage:
            gid = parse_id(input.pipeline_id, "Pipeline", "pipelineId")
            return await ctx.services.pipelines.create_stage(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                spec=StageSpec(input.name, input.probability, input.kind),
                position=input.position,
            )

        return await as_payload(
            call, lambda s: StagePayload(stage=Stage.of(s)), errors_payload(StagePayload)
        )

    @strawberry.mutation(description="Rename a stage, change its probability or kind.")
    async def update_stage(self, info: Info, input: UpdateStageInput) -> StagePayload:
        ctx = info.context

        async def call() -> pipeline_models.Stage:
            gid = parse_id(input.id, "Stage")
            return await ctx.services.pipelines.update_stage(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                name=input.name,
                probability=input.probability,
                kind=input.kind,
            )

        return await as_payload(
            call, lambda s: StagePayload(stage=Stage.of(s)), errors_payload(StagePayload)
        )

    @strawberry.mutation(description="Put the stages of a pipeline in this order.")
    async def reorder_stages(self, info: Info, input: ReorderStagesInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            gid = parse_id(input.pipeline_id, "Pipeline", "pipelineId")
            ids = [
                required_id(s, "Stage", f"stageIds[{i}]", gid.workspace_id)
                for i, s in enumerate(input.stage_ids)
            ]
            row = await ctx.services.pipelines.reorder_stages(
                ctx.principal, gid.workspace_id, gid.row_id, ids
            )
            return await _reload_pipeline(info, row)

        return await as_payload(
            call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
        )

    @strawberry.mutation(description="Delete a stage; its leads move to targetStageId.")
    async def delete_stage(self, info: Info, input: DeleteStageInput) -> PipelinePayload:
        ctx = info.context

        async def call() -> Pipeline:
            gid = parse_id(input.id, "Stage")
            target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
            row = await ctx.services.pipelines.delete_stage(
                ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
            )
            return await _reload_pipeline(info, row)

        return await as_payload(
            call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
        )

    @strawberry.mutation(
        description="Move a lead to a stage (of any pipeline); a WON or LOST stage closes it."
    )
    async def move_lead(self, info: Info, input: MoveLeadInput) -> LeadPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            gid = parse_id(input.lead_id, "Lead", "leadId")
            stage = required_id(input.stage_id, "Stage", "stageId", gid.workspace_id)
            return await ctx.services.pipelines.move_leads(
                ctx.principal, gid.workspace_id, [gid.row_id], stage, reason=input.reason
            )

        return await as_payload(
            call,
            lambda leads: LeadPayload(
                lead=Lead.of(leads[0]), warnings=no_value_warnings(leads, "value")
            ),
            errors_payload(LeadPayload),
        )

    @strawberry.mutation(description="Move many leads at once: all of them, or none.")
    async def bulk_move_leads(self, info: Info, input: BulkMoveLeadsInput) -> LeadsPayload:
        ctx = info.context

        async def call() -> list[lead_models.Lead]:
            workspace, ids = same_workspace(input.lead_ids, "Lead", "leadIds")
            stage = required_id(input.stage_id, "Stage", "stageId", workspace)
            return await ctx.services.pipelines.move_leads(
                ctx.principal, workspace, ids, stage, reason=input.reason
            )

        return await as_payload(
            call,
            lambda leads: LeadsPayload(
                leads=[Lead.of(x) for x in leads],
                warnings=no_value_warnings(leads, "leadIds[{i}]"),
            ),
            errors_payload(LeadsPayload),
        )
