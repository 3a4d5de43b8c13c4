"""The delete_pipeline mutation: delete a pipeline; its leads move to targetStageId."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeletePayload
from embedcrm.graphql.pipelines.inputs import DeletePipelineInput
from embedcrm.graphql.support import as_payload, errors_payload, parse_id, required_id


async def resolve(info: Info, input: DeletePipelineInput) -> DeletePayload:
    ctx = info.context

    async def call() -> strawberry.ID:
        gid = parse_id(input.id, "Pipeline")
        target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
        await ctx.services.pipelines.delete_pipeline(
            ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
        )
        return input.id

    return await as_payload(
        call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
    )
