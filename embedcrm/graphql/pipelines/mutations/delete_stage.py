"""The delete_stage mutation: delete a stage; its leads move to targetStageId."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import DeleteStageInput, PipelinePayload
from embedcrm.graphql.pipelines.types import Pipeline, reload_pipeline
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, required_id


async def resolve(info: Info, input: DeleteStageInput) -> PipelinePayload:
    ctx = info.context

    async def call() -> Pipeline:
        gid = parse_id(input.id, "Stage")
        target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
        row = await ctx.services.pipelines.delete_stage(
            ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
        )
        return await reload_pipeline(info, row)

    return await as_payload(
        call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
    )
