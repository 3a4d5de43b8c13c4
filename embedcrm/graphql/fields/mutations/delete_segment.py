"""The delete_segment mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput, DeletePayload
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(DeletePayload)
async def resolve(info: Info, input: DeleteInput) -> DeletePayload:
    ctx = info.context
    gid = parse_id(input.id, "Segment")
    await ctx.services.segments.delete(ctx.principal, gid.workspace_id, gid.row_id)
    return DeletePayload(deleted_id=input.id)
