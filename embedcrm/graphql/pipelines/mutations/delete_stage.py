"""The delete_stage mutation: delete a stage; its leads move to targetStageId."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import DeleteStageInput, PipelinePayload
from embedcrm.graphql.pipelines.types import reload_pipeline
from embedcrm.graphql.support import (
    parse_id,
    required_id,
    user_errors_in,
)


@user_errors_in(PipelinePayload)
async def resolve(info: Info, input: DeleteStageInput) -> PipelinePayload:
    ctx = info.context
    gid = parse_id(input.id, "Stage")
    target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
    row = await ctx.services.pipelines.delete_stage(
        ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
    )
    return PipelinePayload(pipeline=await reload_pipeline(info, row))
