"""The create_pipeline mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import CreatePipelineInput, PipelinePayload
from embedcrm.graphql.pipelines.types import reload_pipeline
from embedcrm.graphql.support import user_errors_in, workspace_arg
from embedcrm.pipelines.service import StageSpec


@user_errors_in(PipelinePayload)
async def resolve(info: Info, input: CreatePipelineInput) -> PipelinePayload:
    ctx = info.context
    workspace = ctx.workspace_for(workspace_arg(input.workspace_id))
    stages = (
        None
        if input.stages is None
        else [StageSpec(s.name, s.probability, s.kind) for s in input.stages]
    )
    row = await ctx.services.pipelines.create_pipeline(
        ctx.principal, workspace, name=input.name, stages=stages
    )
    return PipelinePayload(pipeline=await reload_pipeline(info, row))
