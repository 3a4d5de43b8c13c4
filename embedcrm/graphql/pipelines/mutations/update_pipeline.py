"""The update_pipeline mutation: rename, reorder (position) or make the default."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import PipelinePayload, UpdatePipelineInput
from embedcrm.graphql.pipelines.types import Pipeline, reload_pipeline
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: UpdatePipelineInput) -> PipelinePayload:
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
        return await reload_pipeline(info, row)

    return await as_payload(
        call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
    )
