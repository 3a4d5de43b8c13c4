"""The update_stage mutation: rename a stage, change its probability or kind."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import StagePayload, UpdateStageInput
from embedcrm.graphql.pipelines.types import Stage
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(StagePayload)
async def resolve(info: Info, input: UpdateStageInput) -> StagePayload:
    ctx = info.context
    gid = parse_id(input.id, "Stage")
    return StagePayload(
        stage=Stage.of(
            await ctx.services.pipelines.update_stage(
                ctx.principal,
                gid.workspace_id,
                gid.row_id,
                name=input.name,
                probability=input.probability,
                kind=input.kind,
            )
        )
    )
