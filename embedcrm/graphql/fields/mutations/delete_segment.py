"""The delete_segment mutation."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput, DeletePayload
from embedcrm.graphql.support import as_payload, errors_payload, parse_id


async def resolve(info: Info, input: DeleteInput) -> DeletePayload:
    ctx = info.context

    async def call() -> strawberry.ID:
        gid = parse_id(input.id, "Segment")
        await ctx.services.segments.delete(ctx.principal, gid.workspace_id, gid.row_id)
        return input.id

    return await as_payload(
        call, lambda i: DeletePayload(deleted_id=i), errors_payload(DeletePayload)
    )
