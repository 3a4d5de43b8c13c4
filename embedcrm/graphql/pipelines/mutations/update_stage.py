"""The update_stage mutation: rename a stage, change its probability or kind."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import StagePayload, UpdateStageInput
from embedcrm.graphql.pipelines.types import Stage
from embedcrm.graphql.support import as_payload, errors_payload, parse_id
from embedcrm.pipelines import models as pipeline_models


async def resolve(info: Info, input: UpdateStageInput) -> StagePayload:
    ctx = info.context

    async def call() -> pipeline_models.Stage:
        gid = parse_id(input.id, "Stage")
        return await ctx.services.pipelines.update_stage(
            ctx.principal,
            gid.workspace_id,
            gid.row_id,
            name=input.name,
            probability=input.probability,
            kind=input.kind,
        )

    return await as_payload(
        call, lambda s: StagePayload(stage=Stage.of(s)), errors_payload(StagePayload)
    )
