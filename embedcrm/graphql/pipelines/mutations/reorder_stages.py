"""The reorder_stages mutation: put the stages of a pipeline in this order."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import PipelinePayload, ReorderStagesInput
from embedcrm.graphql.pipelines.types import Pipeline, reload_pipeline
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, required_id


async def resolve(info: Info, input: ReorderStagesInput) -> PipelinePayload:
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
        return await reload_pipeline(info, row)

    return await as_payload(
        call, lambda p: PipelinePayload(pipeline=p), errors_payload(PipelinePayload)
    )
