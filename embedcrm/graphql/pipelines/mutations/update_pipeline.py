"""The update_pipeline mutation: rename, reorder (position) or make the default."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import PipelinePayload, UpdatePipelineInput
from embedcrm.graphql.pipelines.types import reload_pipeline
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(PipelinePayload)
async def resolve(info: Info, input: UpdatePipelineInput) -> PipelinePayload:
    ctx = info.context
    gid = parse_id(input.id, "Pipeline")
    row = await ctx.services.pipelines.update_pipeline(
        ctx.principal,
        gid.workspace_id,
        gid.row_id,
        name=input.name,
        position=input.position,
        make_default=input.make_default,
    )
    return PipelinePayload(pipeline=await reload_pipeline(info, row))
