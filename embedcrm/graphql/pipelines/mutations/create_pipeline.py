"""The create_pipeline mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import CreatePipelineInput, PipelinePayload
from embedcrm.graphql.pipelines.types import Pipeline, reload_pipeline
from embedcrm.graphql.support import as_payload, errors_payload, workspace_arg
from embedcrm.pipelines.service import StageSpec


async def resolve(info: Info, input: CreatePipelineInput) -> PipelinePayload:
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
        return await reload_pipeline(info, row)

    return await as_payload(
        call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
    )
