"""The reorder_stages mutation: put the stages of a pipeline in this order."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import PipelinePayload, ReorderStagesInput
from embedcrm.graphql.pipelines.types import reload_pipeline
from embedcrm.graphql.support import (
    parse_id,
    required_id,
    user_errors_in,
)


@user_errors_in(PipelinePayload)
async def resolve(info: Info, input: ReorderStagesInput) -> PipelinePayload:
    ctx = info.context
    gid = parse_id(input.pipeline_id, "Pipeline", "pipelineId")
    ids = [
        required_id(s, "Stage", f"stageIds[{i}]", gid.workspace_id)
        for i, s in enumerate(input.stage_ids)
    ]
    row = await ctx.services.pipelines.reorder_stages(
        ctx.principal, gid.workspace_id, gid.row_id, ids
    )
    return PipelinePayload(pipeline=await reload_pipeline(info, row))
