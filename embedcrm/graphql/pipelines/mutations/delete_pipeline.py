"""The delete_pipeline mutation: delete a pipeline; its leads move to targetStageId."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeletePayload
from embedcrm.graphql.pipelines.inputs import DeletePipelineInput
from embedcrm.graphql.support import (
    parse_id,
    required_id,
    user_errors_in,
)


@user_errors_in(DeletePayload)
async def resolve(info: Info, input: DeletePipelineInput) -> DeletePayload:
    ctx = info.context
    gid = parse_id(input.id, "Pipeline")
    target = required_id(input.target_stage_id, "Stage", "targetStageId", gid.workspace_id)
    await ctx.services.pipelines.delete_pipeline(
        ctx.principal, gid.workspace_id, gid.row_id, target_stage_id=target
    )
    return DeletePayload(deleted_id=input.id)
