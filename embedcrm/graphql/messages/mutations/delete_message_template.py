"""The delete_message_template mutation."""

from __future__ import annotations

from embedcrm.graphql.context import Info
from embedcrm.graphql.core import DeleteInput, DeletePayload
from embedcrm.graphql.support import parse_id, user_errors_in


@user_errors_in(DeletePayload)
async def resolve(info: Info, input: DeleteInput) -> DeletePayload:
    template = parse_id(input.id, "MessageTemplate")
    await info.context.services.templates.delete(
        info.context.principal, template.workspace_id, template.row_id
    )
    return DeletePayload(deleted_id=input.id)
