"""The create_stage mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.pipelines.inputs import CreateStageInput, StagePayload
from embedcrm.graphql.pipelines.types import Stage
from embedcrm.graphql.support import as_payload, errors_payload, parse_id
from embedcrm.pipelines import models as pipeline_models
from embedcrm.pipelines.service import StageSpec


async def resolve(info: Info, input: CreateStageInput) -> StagePayload:
    ctx = info.context

    async def call() -> pipeline_models.Stage:
        gid = parse_id(input.pipeline_id, "Pipeline", "pipelineId")
        return await ctx.services.pipelines.create_stage(
            ctx.principal,
            gid.workspace_id,
            gid.row_id,
            spec=StageSpec(input.name, input.probability, input.kind),
            position=input.position,
        )

    return await as_payload(
        call, lambda s: StagePayload(stage=Stage.of(s)), errors_payload(StagePayload)
    )
