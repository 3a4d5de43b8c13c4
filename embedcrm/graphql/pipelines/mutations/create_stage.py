"""The create_stage mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import CreateStageInput, StagePayload
from embedcrm.graphql.pipelines.types import Stage
from embedcrm.graphql.support import parse_id, user_errors_in
from embedcrm.pipelines.service import StageSpec


@user_errors_in(StagePayload)
async def resolve(info: Info, input: CreateStageInput) -> StagePayload:
    ctx = info.context
    gid = parse_id(input.pipeline_id, "Pipeline", "pipelineId")
    return StagePayload(
        stage=Stage.of(
            await ctx.services.pipelines.create_stage(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                spec=StageSpec(input.name, input.probability, input.kind),
                position=input.position,
            )
        )
    )
