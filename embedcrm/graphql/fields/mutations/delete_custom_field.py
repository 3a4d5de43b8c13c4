"""The delete_custom_field mutation: delete a definition; the values stay on the records."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput, DeletePayload
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(DeletePayload)
async def resolve(info: Info, input: DeleteInput) -> DeletePayload:
    ctx = info.context
    gid = parse_id(input.id, "CustomField")
    await ctx.services.fields.delete(ctx.principal, gid.workspace_id, gid.row_id)
    return DeletePayload(deleted_id=input.id)
